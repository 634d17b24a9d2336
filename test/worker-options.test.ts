import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, parseSetFlags } from '../cli/args';
import { validateWorkerOptions } from '../worker';
import { Preemption, shutdownGraceMs } from '../lib/preemption';

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

describe('graceful pre-emption settings', () => {
  it('reads ARENA_SHUTDOWN_GRACE as seconds or a duration, 25 s by default', () => {
    assert.equal(shutdownGraceMs({}), 25_000);
    assert.equal(shutdownGraceMs({ ARENA_SHUTDOWN_GRACE: '7.5' }), 7_500);
    assert.equal(shutdownGraceMs({ ARENA_SHUTDOWN_GRACE: '30s' }), 30_000);
    assert.equal(shutdownGraceMs({ ARENA_SHUTDOWN_GRACE: '900ms' }), 900);
    assert.throws(() => shutdownGraceMs({ ARENA_SHUTDOWN_GRACE: '1m' }), {
      name: 'TypeError',
      message: "ARENA_SHUTDOWN_GRACE: expected seconds such as 25, 25s or 900ms, got '1m'",
    });
  });

  it('lets a stage finish until the grace period is nearly over, then fails it as Preempted', async () => {
    const preemption = new Preemption(3_200);
    const quick = preemption.race(new Promise((resolve) => setTimeout(() => resolve('done'), 50)));
    const stuck = preemption.race(new Promise(() => undefined));
    const began = Date.now();
    preemption.begin('SIGTERM');
    assert.equal(preemption.signal.aborted, true);
    assert.equal(await quick, 'done');
    await assert.rejects(stuck, { name: 'Preempted', message: 'the worker was pre-empted (SIGTERM) before the stage finished' });
    // The failure leaves 3 s of the grace period to reach the server.
    assert.ok(Date.now() - began < 1_000, `failed after ${Date.now() - began} ms`);
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
