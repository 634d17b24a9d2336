import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { PipelineResult } from '../lib/run-types';
import { readCheckpoint } from '../trainers/cpu/checkpoint';
import { saveHistoryIfAsked } from './helpers/histories';
import { sampleData, startRun } from './helpers/temporal';
import { workersSuite } from './helpers/temporal-session';

const ROUND_STEPS = 8;

describe('train stage with trainer.round_steps on a real Temporal dev server', () => {
  const suite = workersSuite({ taskQueue: 'round-steps-test', devices: 2 });
  const { taskQueue } = suite;

  it('2 CPU shards merge every K steps, go on where they stopped, and together train each epoch once', async () => {
    const handle = await startRun(suite.env, taskQueue, 'round-steps', {
      config: 'micro',
      overrides: { ...sampleData(), trainer: { epochs: 2, gpus: 2, round_epochs: null, round_steps: ROUND_STEPS } },
    });
    const result = (await handle.result()) as PipelineResult;
    await saveHistoryIfAsked(handle, 'round-steps');
    const train = result.progress.stages['train']!;
    assert.equal(train.state, 'done');
    assert.equal(train.executed, train.total, 'the progress total counted every sub-step');

    // The exported model keeps the last round's checkpoint: its history is every shard's steps.
    const final = readCheckpoint(path.join(result.stages['train']!.dir, 'checkpoint'));
    const stepsOf = (shard: number) => final.state.history.train.filter((e) => e.shard === shard);
    const lastStep = Math.max(stepsOf(0).length, stepsOf(1).length);
    const rounds = Math.ceil(lastStep / ROUND_STEPS);
    assert.ok(rounds >= 3, `${rounds} rounds`);
    for (const shard of [0, 1]) {
      for (const epoch of [0, 1]) {
        const entries = stepsOf(shard).filter((e) => e.epoch === epoch);
        // Each step starts at the micro-batch where the previous one (in any round) ended.
        entries.forEach((e, k) => assert.equal(e.batches[0], k === 0 ? 0 : entries[k - 1]!.batches[1], `shard ${shard} epoch ${epoch} step ${e.step}`));
        assert.ok(entries.length > 0);
      }
      // Shard k's steps are numbered 1..n without a gap, across rounds and merges.
      assert.deepEqual(stepsOf(shard).map((e) => e.step), Array.from({ length: stepsOf(shard).length }, (_, k) => k + 1));
    }

    // One activity per shard and round while both train, a merge per such round, one export.
    const scheduled = (await handle.fetchHistory()).events!
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => name === 'trainShard' || name === 'mergeShards' || name === 'exportModel');
    const both = Math.ceil(Math.min(stepsOf(0).length, stepsOf(1).length) / ROUND_STEPS);
    assert.equal(scheduled.filter((n) => n === 'trainShard').length, both * 2 + (rounds - both));
    assert.equal(scheduled.filter((n) => n === 'mergeShards').length, both);
    assert.equal(scheduled.filter((n) => n === 'exportModel').length, 1);
    const report = readFileSync(path.join(result.stages['evaluate']!.dir, 'report.html'), 'utf8');
    assert.match(report, /Training loss per shard/);
    assert.match(report, /Merged training loss per round/);
  });
});
