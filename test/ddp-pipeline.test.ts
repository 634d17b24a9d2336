import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveRun } from '../activities/resolve-run';
import { DEFAULT_CONFIG_DIR } from '../lib/config/load';
import type { PipelineResult } from '../lib/run-types';
import { loadTrainerRegistry } from '../lib/trainer-registry';
import { REPO_ROOT } from '../worker';
import { saveHistoryIfAsked } from './helpers/histories';
import { removeDir, sampleData, startRun, startTemporal, startWorkers, tempDir, type RunningWorkers } from './helpers/temporal';

/** Every trainer.log under `dir`, read. */
function trainerLogs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => path.basename(file) === 'trainer.log')
    .map((file) => readFileSync(path.join(dir, file), 'utf8'));
}

describe('trainer.parallel: ddp through Temporal (issue 11)', () => {
  let env: TestWorkflowEnvironment;
  let workers: RunningWorkers;
  const store = tempDir('ddp-store');
  const models = tempDir('ddp-model');
  // model.basemodel_path is a worker's filesystem root, so the test's backbone is named by a worker-side config.
  const configDir = tempDir('ddp-configs');
  const taskQueue = 'ddp-tiny';

  before(async () => {
    const python = execFileSync('bash', ['scripts/setup-trainer-env.sh'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    execFileSync(python, ['trainers/gpu/tests/tiny_gemma2.py', path.join(models, 'gemma2-tiny')], { cwd: REPO_ROOT, env: { ...process.env, PYTHONPATH: 'trainers/gpu' } });
    env = await startTemporal();
    cpSync(DEFAULT_CONFIG_DIR, configDir, { recursive: true });
    writeFileSync(path.join(configDir, 'gemma2_tiny_test.yaml'), `extends: gemma2_tiny_cpu\nmodel:\n  basemodel_path: ${JSON.stringify(path.join(models, 'gemma2-tiny'))}\n`);
    workers = await startWorkers(env, { taskQueue, storeDir: store, devices: 2, configDir });
  });

  after(async () => {
    await workers?.stop();
    await env?.teardown();
    removeDir(store);
    removeDir(models);
    removeDir(configDir);
  });

  it('trains once over two torchrun processes holding both devices, without merges, then exports, evaluates and submits', async () => {
    const handle = await startRun(env, taskQueue, 'ddp-tiny', {
      config: 'gemma2_tiny_test',
      overrides: { ...sampleData(), trainer: { epochs: 1, gpus: 2, parallel: 'ddp' } },
    });
    const result = (await handle.result()) as PipelineResult;
    await saveHistoryIfAsked(handle, 'ddp-tiny');

    const train = result.progress.stages['train']!;
    assert.equal(train.executed, 2, 'one DDP train activity and one export: no rounds, no merge');
    assert.equal(train.detail, 'DDP over 2 process(es)');
    const logs = trainerLogs(store).filter((log) => log.includes('DDP rank'));
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /train DDP rank 0 of 2 round 0 on cpu: fresh initialisation/);
    assert.match(logs[0]!, /\[rank 1\] .*train DDP rank 1 of 2 round 0 on cpu: fresh initialisation/);
    const metrics = JSON.parse(readFileSync(path.join(result.stages['evaluate']!.dir, 'metrics.json'), 'utf8'));
    assert.equal(metrics.model_kind, 'gemma2_qlora');
    assert.ok(metrics.rows > 0 && Number.isFinite(metrics.log_loss));
    const submission = readFileSync(path.join(result.stages['submit']!.dir, 'submission.csv'), 'utf8').trim().split('\n');
    assert.equal(submission[0], 'id,winner');
  });

  it('refuses ddp with a trainer that has no DDP launcher, naming the key, before any work', () => {
    const input = { pipeline: 'train-pipeline', config: 'micro', overrides: { trainer: { parallel: 'ddp' } } };
    assert.throws(() => resolveRun(input, { trainers: loadTrainerRegistry({}) }), {
      name: 'ConfigError',
      message: "invalid config 'micro': trainer.parallel: ddp needs a trainer with a DDP launcher; trainer 'cpu' has none (this worker's with one: gpu)",
    });
  });
});
