import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../lib/config/load';

const dir = mkdtempSync(path.join(os.tmpdir(), 'arena-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('config loading', () => {
  it('resolves the shipped configs with every default filled in', () => {
    const micro = loadConfig('micro');
    assert.equal(micro.name, 'micro');
    assert.equal(micro.model.kind, 'cpu_mlp');
    assert.equal(micro.trainer.gpus, 2);
    assert.equal(micro.evaluate.tta, true);
    const gemma = loadConfig('gemma2_9b_4bit');
    assert.deepEqual(gemma.model.lora, { r: 16, alpha: 32, dropout: 0.05, target_modules: ['q_proj', 'k_proj', 'v_proj'] });
    assert.deepEqual(gemma.trainer.lr, { backbone: 1e-5, features: 5e-4, head: 5e-4 });
    assert.equal(gemma.model.max_length, 2048);
    assert.equal(gemma.model.hidden_dim, 1536);
    assert.equal(gemma.trainer.epochs, 3);
    assert.equal(gemma.trainer.batch_size, 4);
    assert.equal(gemma.data.validation_size, 0.09);
    assert.equal(gemma.model.quantization, '4bit');
  });

  it('`arena config show gemma2_9b_4bit` shows the reference recipe, and the tuned config its own choices', () => {
    const shown = execFileSync(process.execPath, ['--import', 'tsx', 'cli/arena.ts', 'config', 'show', 'gemma2_9b_4bit'], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
    });
    for (const line of [
      '  max_length: 2048',
      '  truncation: right',
      '  tokenization: whole_string',
      '  pooling: eos',
      '  inference_max_length: 1950',
      '  feature_init: xavier_zero',
      '  feature_scaling: none',
      '  grad_accumulation: 1',
      '  warmup_ratio: 0.05',
      '    num_cycles: 0.27',
    ]) {
      assert.ok(shown.split('\n').includes(line), `shows ${JSON.stringify(line)}`);
    }
    const tuned = loadConfig('gemma2_9b_4bit_tuned');
    assert.deepEqual(
      [tuned.model.truncation, tuned.model.tokenization, tuned.model.feature_scaling, tuned.model.inference_max_length, tuned.trainer.scheduler.num_cycles],
      ['head_tail', 'whole_string', 'standardize', null, 0.27],
    );
    // The reference trained with DDP on one pod; the tuned run uses independent single-GPU shards merged every K steps.
    assert.ok(shown.split('\n').includes('  parallel: ddp'));
    assert.deepEqual([tuned.trainer.parallel, tuned.trainer.round_steps, tuned.augment.mode], ['shards', 1000, 'append']);
  });

  it('inherits with extends: mappings merge, lists and scalars replace', () => {
    write('parent', 'seed: 7\ntrainer:\n  epochs: 5\n  lr:\n    head: 0.01\n');
    write('child', 'extends: parent\ntrainer:\n  lr:\n    backbone: 0.02\nmodel:\n  lora:\n    target_modules: [o_proj]\n');
    const config = loadConfig('child', { configDir: dir });
    assert.equal(config.seed, 7);
    assert.equal(config.trainer.epochs, 5);
    assert.deepEqual(config.trainer.lr, { backbone: 0.02, features: 5e-4, head: 0.01 });
    assert.deepEqual(config.model.lora.target_modules, ['o_proj']);
  });

  it('names file, line and key path of an unknown key', () => {
    const file = write('typo', 'seed: 1\ntrainer:\n  epochs: 2\n  batch_sise: 8\n');
    assert.throws(() => loadConfig('typo', { configDir: dir }), {
      name: 'ConfigError',
      message: `invalid config 'typo':\n${file}:4: trainer.batch_sise: Unrecognized key: "batch_sise"`,
    });
  });

  it('names file, line and key path of a wrong type, in the file of the chain that set it', () => {
    write('base-ok', 'seed: 1\n');
    const file = write('bad-type', 'extends: base-ok\ndata:\n  validation_size: lots\n');
    assert.throws(() => loadConfig('bad-type', { configDir: dir }), {
      name: 'ConfigError',
      message: `invalid config 'bad-type':\n${file}:3: data.validation_size: Invalid input: expected number, received string`,
    });
  });

  it('reports an error inherited from a parent at the parent file', () => {
    const parent = write('bad-parent', 'trainer:\n  gpus: 0\n');
    write('good-child', 'extends: bad-parent\nseed: 3\n');
    assert.throws(() => loadConfig('good-child', { configDir: dir }), {
      message: `invalid config 'good-child':\n${parent}:2: trainer.gpus: Too small: expected number to be >0`,
    });
  });

  it('rejects a missing parent and an extends cycle', () => {
    const file = write('orphan', 'seed: 1\nextends: nowhere\n');
    assert.throws(() => loadConfig('orphan', { configDir: dir }), {
      message: `${file}:2: extends: no config 'nowhere' (looked for ${path.join(dir, 'nowhere.yaml')})`,
    });
    write('loop-a', 'extends: loop-b\n');
    const b = write('loop-b', 'extends: loop-a\n');
    assert.throws(() => loadConfig('loop-a', { configDir: dir }), { message: `${b}:1: extends: extends forms a cycle: loop-a -> loop-b -> loop-a` });
  });

  it('rejects bad YAML with its line', () => {
    const file = write('broken', 'seed: 1\ntrainer:\n  epochs: [1,\n');
    assert.throws(() => loadConfig('broken', { configDir: dir }), (err: Error) => err.name === 'ConfigError' && err.message.startsWith(`${file}:`));
  });

  it('validates overrides and names them as the source', () => {
    assert.throws(() => loadConfig('micro', { overrides: { trainer: { epoch: 2 } } }), {
      message: `invalid config 'micro':\n(overrides): trainer.epoch: Unrecognized key: "epoch"`,
    });
    assert.equal(loadConfig('micro', { overrides: { trainer: { epochs: 1 } } }).trainer.epochs, 1);
  });

  it('never evaluates values: an expression stays a string and fails the type check', () => {
    const file = write('evil', 'trainer:\n  epochs: "__import__(\'os\').system(\'true\')"\n');
    assert.throws(() => loadConfig('evil', { configDir: dir }), {
      message: `invalid config 'evil':\n${file}:2: trainer.epochs: Invalid input: expected number, received string`,
    });
  });
});
