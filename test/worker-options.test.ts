import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, parseSetFlags } from '../cli/args';
import { validateWorkerOptions } from '../worker';

describe('worker options', () => {
  it('accepts the defaults and explicit roles and devices', () => {
    assert.doesNotThrow(() => validateWorkerOptions({ taskQueue: 'arena' }));
    assert.doesNotThrow(() => validateWorkerOptions({ taskQueue: 'arena', devices: 8, role: 'gpu' }));
  });

  it('rejects bad values with exact messages', () => {
    assert.throws(() => validateWorkerOptions({ taskQueue: 'arena', devices: 0 }), { name: 'TypeError', message: 'devices: expected a positive integer, got 0' });
    assert.throws(() => validateWorkerOptions({ taskQueue: 'arena', devices: 1.5 }), { message: 'devices: expected a positive integer, got 1.5' });
    assert.throws(() => validateWorkerOptions({ taskQueue: 'arena', role: 'cpu' as never }), { message: "role: expected 'all', 'main' or 'gpu', got 'cpu'" });
    assert.throws(() => validateWorkerOptions({ taskQueue: '' }), { message: 'taskQueue: expected a non-empty name' });
  });
});

describe('arena command line', () => {
  it('parses flags, booleans and repeated --set into config overrides', () => {
    const args = parseArgs(['run', '--config', 'micro', '--wait', '--set', 'trainer.epochs=2', '--set=data.sample_size=500', '--set', 'evaluate.tta=false']);
    assert.deepEqual(args.positional, ['run']);
    assert.equal(args.flags['config'], 'micro');
    assert.equal(args.flags['wait'], true);
    assert.deepEqual(parseSetFlags(args.flags['set']), { trainer: { epochs: 2 }, data: { sample_size: 500 }, evaluate: { tta: false } });
  });

  it('names a malformed --set and a flag without its value', () => {
    assert.throws(() => parseSetFlags('trainer.epochs'), { message: '--set trainer.epochs: expected key.path=value' });
    assert.throws(() => parseArgs(['run', '--config']), { message: '--config needs a value' });
  });
});
