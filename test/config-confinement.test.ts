import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveRun } from '../activities/resolve-run';
import { parseSetFlags } from '../cli/args';
import { DEFAULT_CONFIG_DIR, loadConfig } from '../lib/config/load';
import { loadTrainerRegistry } from '../lib/trainer-registry';
import { REPO_ROOT } from '../worker';
import { removeDir, sampleData, tempDir } from './helpers/temporal';

const trainers = loadTrainerRegistry({});
const resolveMicro = (overrides: Record<string, unknown>) => resolveRun({ pipeline: 'train-pipeline', config: 'micro', overrides }, { trainers });

describe('workflow overrides (issue 9, overrides rule)', () => {
  it('refuses an argv in the overrides, pointing at trainer.engine', () => {
    assert.throws(() => resolveMicro({ trainer: { command: ['sh', '-c', 'id'] } }), {
      name: 'ConfigError',
      message: "invalid config 'micro':\n(overrides): trainer.command: a workflow input cannot name a program; choose one of the worker's trainers with trainer.engine",
    });
  });

  it('refuses the filesystem roots data.dir and model.basemodel_path, naming each', () => {
    assert.throws(() => resolveMicro({ data: { dir: '/etc' }, model: { basemodel_path: '/root/.ssh' } }), {
      name: 'ConfigError',
      message:
        "invalid config 'micro':\n" +
        "(overrides): data.dir: names a filesystem root of the worker; set it in a config file or with the worker's ARENA_DATA_DIR\n" +
        '(overrides): model.basemodel_path: names a filesystem root of the worker; set it in a config file on the worker',
    });
  });

  it('validates overrides against the config schema, as files are', () => {
    assert.throws(() => resolveMicro({ trainer: { epochs: 'many' } }), {
      name: 'ConfigError',
      message: "invalid config 'micro':\n(overrides): trainer.epochs: Invalid input: expected number, received string",
    });
  });

  it('still lets an input choose data files, epochs and the trainer by name', () => {
    const run = resolveMicro({ ...sampleData(), trainer: { epochs: 1, engine: 'cpu' } });
    assert.equal(run.config.trainer.epochs, 1);
    assert.deepEqual(run.config.data.train, (sampleData()['data'] as { train: unknown }).train);
  });
});

describe('prototype keys (issue 9 row 6)', () => {
  const configDir = tempDir('proto-configs');
  after(() => removeDir(configDir));

  it('refuses --set __proto__.polluted=1, and Object.prototype stays clean', () => {
    assert.throws(() => parseSetFlags(['trainer.epochs=1', '__proto__.polluted=1']), { message: "--set __proto__.polluted=1: '__proto__' cannot be a config key" });
    assert.throws(() => parseSetFlags('trainer.constructor.prototype.polluted=1'), { message: "--set trainer.constructor.prototype.polluted=1: 'constructor' cannot be a config key" });
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('arena run --set __proto__.polluted=1 exits before starting anything, with the message', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'cli/arena.ts', 'run', '--config', 'micro', '--set', '__proto__.polluted=1'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(result.stderr.trim(), "arena: --set __proto__.polluted=1: '__proto__' cannot be a config key");
    assert.equal(result.status, 1);
  });

  it('refuses __proto__ in JSON overrides (a workflow input) by its key path', () => {
    const overrides = JSON.parse('{"trainer": {"__proto__": {"polluted": 1}}}') as Record<string, unknown>;
    assert.throws(() => loadConfig('micro', { overrides }), {
      name: 'ConfigError',
      message: "invalid config 'micro':\n(overrides): trainer.__proto__: '__proto__' cannot be a config key",
    });
    assert.throws(() => resolveMicro(JSON.parse('{"__proto__": {"polluted": 1}}')), {
      message: "invalid config 'micro':\n(overrides): __proto__: '__proto__' cannot be a config key",
    });
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('refuses constructor and prototype keys in a config file, naming file and line', () => {
    copyFileSync(path.join(DEFAULT_CONFIG_DIR, 'micro.yaml'), path.join(configDir, 'micro.yaml'));
    writeFileSync(path.join(configDir, 'mine.yaml'), 'extends: micro\ntrainer:\n  epochs: 1\n  constructor:\n    prototype: {polluted: 1}\n');
    assert.throws(() => loadConfig('mine', { configDir }), {
      name: 'ConfigError',
      message: `invalid config 'mine':\n${path.join(configDir, 'mine.yaml')}:4: trainer.constructor: 'constructor' cannot be a config key`,
    });
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
