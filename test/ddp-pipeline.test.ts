import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveRun } from '../activities/resolve-run';
import type { PipelineResult } from '../lib/run-types';
import { loadTrainerRegistry } from '../lib/trainer-registry';
import { saveHistoryIfAsked } from './helpers/histories';
import { sampleData, startRun } from './helpers/temporal';
import { workersSuite } from './helpers/temporal-session';
import { tinyGemmaConfigs } from './helpers/tiny-gemma';

/** Every trainer.log under `dir`, read. */
function trainerLogs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => path.basename(file) === 'trainer.log')
    .map((file) => readFileSync(path.join(dir, file), 'utf8'));
}

describe('trainer.parallel: ddp through Temporal (issue 11)', () => {
  const configDir = tinyGemmaConfigs();
  const suite = workersSuite({ taskQueue: 'ddp-tiny', devices: 2, configDir });

  it('trains once over two torchrun processes holding both devices, without merges, then exports, evaluates and submits', async () => {
    const handle = await startRun(suite.env, suite.taskQueue, 'ddp-tiny', {
      config: 'gemma2_tiny_test',
      overrides: { ...sampleData(), trainer: { epochs: 1, gpus: 2, parallel: 'ddp' } },
    });
    const result = (await handle.result()) as PipelineResult;
    await saveHistoryIfAsked(handle, 'ddp-tiny');

    const train = result.progress.stages['train']!;
    assert.equal(train.executed, 2, 'one DDP train activity and one export: no rounds, no merge');
    assert.equal(train.detail, 'DDP over 2 process(es)');
    const logs = trainerLogs(suite.store).filter((log) => log.includes('DDP rank'));
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
