import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { PipelineResult, RunProgress } from '../lib/run-types';
import { listEntries } from '../lib/store/entries';
import { readLease } from '../lib/store/lease';
import { checkpointSteps, sampleData, startRun, waitFor } from './helpers/temporal';
import { temporalSuite } from './helpers/temporal-session';

const STAGES = ['ingest', 'features', 'augment', 'split', 'train', 'evaluate', 'submit', 'package'];

describe('single flight: a stage key is computed once however many runs need it', () => {
  const suite = temporalSuite();

  it('three concurrent runs of one config on a fresh store execute each stage once in total and finish with equal metrics', async () => {
    const store = suite.tempDir('flight-store');
    const taskQueue = 'single-flight';
    await suite.startWorkers({ taskQueue, storeDir: store, devices: 2 });
    const input = { config: 'micro', overrides: { ...sampleData(), seed: 5, trainer: { epochs: 2, round_epochs: 1, checkpoint_every_steps: 2 } } };
    const handles = await Promise.all([1, 2, 3].map((n) => startRun(suite.env, taskQueue, `flight-${n}`, input)));
    const results = (await Promise.all(handles.map((h) => h.result()))) as PipelineResult[];

    const executions: Record<string, number> = {};
    for (const stage of STAGES) executions[stage] = results.reduce((sum, r) => sum + r.progress.stages[stage]!.executed, 0);
    const trainSteps = results[0]!.progress.stages['train']!.total;
    console.log(`stage executions over 3 concurrent runs: ${JSON.stringify(executions)} (train has ${trainSteps} sub-steps)`);
    assert.deepEqual(executions, { ingest: 1, features: 1, augment: 1, split: 1, train: trainSteps, evaluate: 1, submit: 1, package: 1 });
    for (const r of results) {
      for (const stage of STAGES) assert.equal(r.progress.stages[stage]!.executed + r.progress.stages[stage]!.cacheHits, r.progress.stages[stage]!.total, `${stage}: every sub-step executed or shared`);
    }
    assert.deepEqual(results[1]!.metrics, results[0]!.metrics);
    assert.deepEqual(results[2]!.metrics, results[0]!.metrics);
    assert.equal(listEntries(store).filter((e) => e.kind === 'lease').length, 0, 'every lease released');

    // Retention: each shard kept only its last trainer.keep_checkpoints (2) checkpoints.
    for (const shard of ['train/round-0/shard-0', 'train/round-0/shard-1', 'train/round-1/shard-0', 'train/round-1/shard-1']) {
      const steps = checkpointSteps(store, shard);
      assert.ok(steps.length >= 1 && steps.length <= 2, `${shard} keeps ${steps.join(',')}`);
    }
  });

  it('a run waiting for a key takes it over when the worker computing it is killed', async () => {
    const store = suite.tempDir('takeover-store');
    const logs = suite.tempDir('takeover-logs');
    const input = { config: 'micro', overrides: { ...sampleData(), seed: 6, trainer: { epochs: 1, gpus: 1, checkpoint_every_steps: 4, step_delay_ms: 100 } } };
    // Two task queues on one store: the doomed worker serves the first run only, the survivor the second.
    const doomed = suite.spawnWorker({ taskQueue: 'takeover-a', store, role: 'all', devices: 1, logFile: path.join(logs, 'a.log') });
    await suite.startWorkers({ taskQueue: 'takeover-b', storeDir: store, devices: 1 });
    const first = await startRun(suite.env, 'takeover-a', 'takeover-1', input);
    const shard = 'train/round-0/shard-0';
    const leaseOf = () => listEntries(store).find((e) => e.kind === 'lease' && e.stageId === shard);
    const lease = await waitFor('the doomed worker to hold the shard', () => {
      const entry = leaseOf();
      return entry && readLease(path.join(store, entry.ref))?.record?.pid === doomed.pid ? entry : undefined;
    });
    const second = await startRun(suite.env, 'takeover-b', 'takeover-2', input);
    await waitFor('the second run to wait on the shard', async () => ((await second.query<RunProgress>('progress')).stages['train']?.attempts ?? 0) > 0 || undefined);
    await waitFor('a checkpoint of the doomed shard', () => checkpointSteps(store, shard).length > 0 || undefined);
    doomed.kill('SIGKILL');

    const result = (await second.result()) as PipelineResult;
    assert.equal(result.progress.status, 'completed');
    assert.equal(result.progress.stages['train']!.executed, result.progress.stages['train']!.total, 'the second run computed the shard itself');
    const output = listEntries(store).find((e) => e.kind === 'output' && e.stageId === shard)!;
    const summary = JSON.parse(readFileSync(path.join(store, output.ref, 'manifest.json'), 'utf8')).summary;
    assert.ok(summary.resumed_from_step > 0, `took over from the dead worker's checkpoint at step ${summary.resumed_from_step}`);
    assert.ok(!existsSync(path.join(store, lease.ref)), 'the dead holder lease is gone');
    await first.terminate('its worker was killed on purpose');
  });
});
