import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveRun } from '../activities/resolve-run';
import { runTrainer, trainerEnvironment } from '../lib/trainer-process';
import { loadTrainerRegistry, resolveTrainer, type TrainerEntry } from '../lib/trainer-registry';
import { trainerCode } from '../lib/stage-contract/trainer-code';
import { REPO_ROOT } from '../worker';
import { removeDir, tempDir } from './helpers/temporal';

/** A trainer that writes its whole environment next to its spec, then reports done. */
const ENV_DUMP_ARGV = ['sh', '-c', 'env > "$(dirname "$3")/env.txt"; echo \'{"event":"done"}\'', 'env-dump'];

async function environmentSeenBy(trainer: TrainerEntry, workDir: string): Promise<Map<string, string>> {
  await runTrainer({ command: trainer.argv, passEnv: trainer.env, verb: 'train', spec: {}, workDir, cwd: REPO_ROOT, deviceIndex: 1, signal: new AbortController().signal, onEvent: () => undefined });
  const lines = readFileSync(path.join(workDir, 'env.txt'), 'utf8').split('\n').filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l));
  return new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('trainer registry (issue 9 row 1)', () => {
  const dir = tempDir('registry');
  after(() => removeDir(dir));

  it('knows the built-in cpu and gpu trainers, with the argv and code roots of the project', () => {
    const registry = loadTrainerRegistry({});
    assert.deepEqual([...registry.keys()].sort(), ['cpu', 'gpu']);
    assert.deepEqual(resolveTrainer(registry, 'cpu').argv, [process.execPath, '--import', 'tsx', 'trainers/cpu/main.ts']);
    assert.deepEqual(resolveTrainer(registry, 'gpu').argv, ['bash', 'trainers/gpu/run.sh']);
    assert.deepEqual(trainerCode(resolveTrainer(registry, 'cpu'), REPO_ROOT), { entries: ['trainers/cpu/main.ts'], files: [] });
    const gpu = trainerCode(resolveTrainer(registry, 'gpu'), REPO_ROOT);
    assert.deepEqual(gpu.entries, []);
    assert.ok(gpu.files.includes('trainers/gpu/arena_trainer/train.py') && gpu.files.includes('trainers/gpu/requirements.txt') && gpu.files.includes('trainers/gpu/run.sh'));
    // The venv the launcher builds is the trainer's too: its script and the shared builder it calls.
    for (const script of ['scripts/setup-trainer-env.sh', 'scripts/cached-venv.sh']) assert.ok(gpu.files.includes(script), script);
    assert.deepEqual(gpu.files.filter((f) => f.includes('/tests/') || f.includes('__pycache__')), []);
  });

  it('refuses an unknown engine, listing the ones the worker knows', () => {
    const registry = loadTrainerRegistry({});
    assert.throws(() => resolveTrainer(registry, 'sh'), { name: 'ConfigError', message: "trainer.engine: unknown trainer 'sh'; this worker knows cpu, gpu" });
    // A name that exists on every object must not resolve either.
    assert.throws(() => resolveTrainer(registry, 'constructor'), { message: "trainer.engine: unknown trainer 'constructor'; this worker knows cpu, gpu" });
  });

  it('fails a run whose config names an unknown engine at resolve time', () => {
    const input = { pipeline: 'train-pipeline', config: 'micro', overrides: { trainer: { engine: 'sh' } } };
    assert.throws(() => resolveRun(input, { trainers: loadTrainerRegistry({}) }), {
      name: 'ConfigError',
      message: "invalid config 'micro': trainer.engine: unknown trainer 'sh'; this worker knows cpu, gpu",
    });
    assert.throws(() => resolveRun({ ...input, overrides: { trainer: { engine: '../../bin/sh' } } }, { trainers: loadTrainerRegistry({}) }), {
      message: "invalid config 'micro':\n(overrides): trainer.engine: expected a trainer name: lowercase letters, digits, _ and -",
    });
  });

  it("adds an operator's trainers from the file named by ARENA_TRAINERS, which a config can then name", () => {
    const file = path.join(dir, 'trainers.yaml');
    writeFileSync(file, `env-dump:\n  argv: ${JSON.stringify(ENV_DUMP_ARGV)}\n  env: [ARENA_TEST_TOKEN]\n  code: [test/fixtures]\n`);
    const registry = loadTrainerRegistry({ ARENA_TRAINERS: file });
    assert.deepEqual([...registry.keys()].sort(), ['cpu', 'env-dump', 'gpu']);
    assert.ok(trainerCode(resolveTrainer(registry, 'env-dump'), REPO_ROOT).files.includes('test/fixtures/scripted-trainer.js'));
    const run = resolveRun({ pipeline: 'train-pipeline', config: 'micro', overrides: { trainer: { engine: 'env-dump' } } }, { trainers: registry });
    assert.equal(run.config.trainer.engine, 'env-dump');
  });

  it("rejects a malformed operator file, naming the file's line and key", () => {
    const file = path.join(dir, 'bad-trainers.yaml');
    writeFileSync(file, 'mine:\n  argv: []\n  code: [trainers/mine]\n  shell: true\n');
    assert.throws(() => loadTrainerRegistry({ ARENA_TRAINERS: file }), {
      name: 'ConfigError',
      message: `invalid trainer registry (ARENA_TRAINERS):\n${file}:2: mine.argv: Too small: expected array to have >=1 items\n${file}:4: mine.shell: Unrecognized key: "shell"`,
    });
  });
});

describe('trainer environment (issue 9, allowlisted child environment)', () => {
  const dir = tempDir('trainer-env');
  const planted = { AWS_SECRET_ACCESS_KEY: 'planted-aws-secret', TEMPORAL_API_KEY: 'planted-temporal-key', ARENA_STORE_URL: 's3://planted-bucket', ARENA_TEST_TOKEN: 'operator-allowed', LC_ALL: 'C.UTF-8', CUDA_HOME: '/opt/cuda' };
  const previous = Object.fromEntries(Object.keys(planted).map((name) => [name, process.env[name]]));

  before(() => Object.assign(process.env, planted));
  after(() => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    removeDir(dir);
  });

  it("passes only the allowlist, the entry's own names and the device", () => {
    const env = trainerEnvironment({ PATH: '/bin', HOME: '/home/w', LANG: 'C', LC_ALL: 'C', TZ: 'UTC', TMPDIR: '/tmp', NVIDIA_VISIBLE_DEVICES: 'all', ARENA_TRAINER_PYTHON: '/py', ARENA_STORE: '/store', ARENA_STORE_URL: 's3://b', AWS_PROFILE: 'p', TEMPORAL_ADDRESS: 'x:7233', HF_TOKEN: 't', SSH_AUTH_SOCK: '/s' }, ['HF_TOKEN'], 3);
    assert.deepEqual(env, { PATH: '/bin', HOME: '/home/w', LANG: 'C', LC_ALL: 'C', TZ: 'UTC', TMPDIR: '/tmp', NVIDIA_VISIBLE_DEVICES: 'all', ARENA_TRAINER_PYTHON: '/py', HF_TOKEN: 't', CUDA_VISIBLE_DEVICES: '3' });
  });

  it("a trainer process never sees the worker's AWS or Temporal credentials nor the store URL", async () => {
    const seen = await environmentSeenBy({ argv: ENV_DUMP_ARGV, env: [], code: ['test/fixtures'] }, path.join(dir, 'plain'));
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'TEMPORAL_API_KEY', 'ARENA_STORE_URL', 'ARENA_TEST_TOKEN']) assert.equal(seen.get(name), undefined, `${name} reached the trainer`);
    assert.equal(seen.get('PATH'), process.env['PATH']);
    assert.equal(seen.get('LC_ALL'), 'C.UTF-8');
    assert.equal(seen.get('CUDA_HOME'), '/opt/cuda');
    assert.equal(seen.get('CUDA_VISIBLE_DEVICES'), '1');
  });

  it("an operator's entry passes through exactly the names it lists", async () => {
    const seen = await environmentSeenBy({ argv: ENV_DUMP_ARGV, env: ['ARENA_TEST_TOKEN'], code: ['test/fixtures'] }, path.join(dir, 'listed'));
    assert.equal(seen.get('ARENA_TEST_TOKEN'), 'operator-allowed');
    assert.equal(seen.get('AWS_SECRET_ACCESS_KEY'), undefined);
  });
});
