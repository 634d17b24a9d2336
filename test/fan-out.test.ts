import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { PipelineResult, RunProgress } from '../lib/run-types';
import { loadTrainerRegistry } from '../lib/trainer-registry';
import { saveHistoryIfAsked } from './helpers/histories';
import { removeDir, sampleData, startRun, tempDir } from './helpers/temporal';
import { workersSuite } from './helpers/temporal-session';
import { suiteEnv } from './helpers/suite-env';

/** Three instances of a train stage and of an evaluate stage that reads its own train instance. */
const FAN_OUT_PIPELINE = `description: one train and one evaluate per seed
stages:
  - name: ingest
    activity: ingest
  - name: features
    activity: features
    needs: [ingest]
  - name: augment
    activity: augment
    needs: [features]
  - name: split
    activity: split
    needs: [augment]
  - name: train
    foreach:
      seed: { in: [1, 2, 3] }
    rounds: { shard: trainShard, merge: mergeShards, export: exportModel }
    needs: [split, features]
  - name: evaluate
    activity: evaluate
    foreach:
      seed: { in: [1, 2, 3] }
    needs:
      - train[seed]
      - split
      - features
`;

const UPSTREAM = ['ingest', 'features', 'augment', 'split'];

describe('a fan-out instance that fails', () => {
  const pipelines = tempDir('fan-out-pipelines');
  after(() => removeDir(pipelines));
  writeFileSync(path.join(pipelines, 'fan-out.yaml'), FAN_OUT_PIPELINE);
  // The listing is read by the trainer process, which gets this variable from the worker's environment.
  const broken = path.join(pipelines, 'broken-instances');
  suiteEnv('ARENA_TEST_BROKEN', broken);
  const trainers = new Map(loadTrainerRegistry({}));
  trainers.set('faulty', { argv: [process.execPath, 'test/fixtures/faulty-trainer.js'], env: ['ARENA_TEST_BROKEN'], code: ['trainers/cpu/main.ts', 'test/fixtures/faulty-trainer.js'] });
  const suite = workersSuite({ taskQueue: 'fan-out-test', devices: 2, pipelineDir: pipelines, trainers });
  const { taskQueue } = suite;

  it('lets the other instances finish; after the fix the resumed run re-runs only that instance and what depends on it', async () => {
    const input = { config: 'micro', overrides: { ...sampleData(), trainer: { engine: 'faulty', epochs: 1, gpus: 1, round_epochs: 1 } } };
    writeFileSync(broken, 'train[seed=2]\n');
    const failed = await startRun(suite.env, taskQueue, 'fan-out-1', input, 'fan-out');
    await assert.rejects(failed.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /^stage 'train\[seed=2\]' failed \(train\[seed=2\]\/round-0\/shard-0, not retryable\): .*train\[seed=2\]: its input is broken$/);
      return true;
    });
    await saveHistoryIfAsked(failed, 'fan-out-failed');
    const first = await failed.query<RunProgress>('progress');
    assert.equal(first.status, 'failed');
    // The independent instances ran to their end; only what needs the failed instance was skipped.
    for (const id of [...UPSTREAM, 'train[seed=1]', 'train[seed=3]', 'evaluate[seed=1]', 'evaluate[seed=3]']) assert.equal(first.stages[id]!.state, 'done', id);
    assert.equal(first.stages['train[seed=2]']!.state, 'failed');
    assert.equal(first.stages['evaluate[seed=2]']!.state, 'cancelled');
    assert.equal(first.stages['evaluate[seed=2]']!.attempts, 0);

    rmSync(broken);
    const resumed = await startRun(suite.env, taskQueue, 'fan-out-2', input, 'fan-out');
    const result = (await resumed.result()) as PipelineResult;
    const executed = Object.entries(result.progress.stages)
      .filter(([, p]) => p.executed > 0)
      .map(([id]) => id);
    assert.deepEqual(executed.sort(), ['evaluate[seed=2]', 'train[seed=2]']);
    for (const id of [...UPSTREAM, 'train[seed=1]', 'train[seed=3]', 'evaluate[seed=1]', 'evaluate[seed=3]']) assert.equal(result.progress.stages[id]!.state, 'cached', id);
    // Each instance is a model of its own: the three keys, and so the three exports, differ.
    const models = ['train[seed=1]', 'train[seed=2]', 'train[seed=3]'].map((id) => result.stages[id]!.dir);
    assert.equal(new Set(models).size, 3);
  });
});
