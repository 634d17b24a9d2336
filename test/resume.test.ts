import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { PipelineResult, RunProgress } from '../lib/run-types';
import { readCheckpoint } from '../trainers/cpu/checkpoint';
import { saveHistoryIfAsked } from './helpers/histories';
import { checkpointSteps, sampleData, startRun, waitFor } from './helpers/temporal';
import { temporalSuite } from './helpers/temporal-session';

/** The trainer processes working on a stage id, and the worker process each belongs to. */
function trainerParents(store: string, stageId: string): number[] {
  try {
    const pids = execFileSync('pgrep', ['-f', `${store}/stages/${stageId}/.*train-spec.json`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    return pids.map((pid) => Number(execFileSync('ps', ['-o', 'ppid=', '-p', pid], { encoding: 'utf8' }).trim()));
  } catch {
    return [];
  }
}

function outputSummary(store: string, stageId: string): Record<string, unknown> {
  const dir = path.join(store, 'stages', stageId);
  const done = readdirSync(dir).filter((name) => !name.includes('.tmp-') && !name.includes('.stale-'));
  assert.equal(done.length, 1, `${stageId}: one completed output`);
  return JSON.parse(readFileSync(path.join(dir, done[0]!, 'manifest.json'), 'utf8')).summary;
}

describe('resume after crashes and fixes', () => {
  const suite = temporalSuite();

  it('a shard whose worker is killed mid-round resumes from its checkpoint; the other shard is not restarted', async () => {
    const store = suite.tempDir('kill-store');
    const taskQueue = 'kill-test';
    const logs = suite.tempDir('kill-logs');
    await suite.startWorkers({ taskQueue, storeDir: store, role: 'main' });
    const gpuA = suite.spawnWorker({ taskQueue, store, role: 'gpu', devices: 1, logFile: path.join(logs, 'a.log') });
    const gpuB = suite.spawnWorker({ taskQueue, store, role: 'gpu', devices: 1, logFile: path.join(logs, 'b.log') });

    const handle = await startRun(suite.env, taskQueue, 'kill-shard', {
      config: 'micro',
      overrides: { ...sampleData(), trainer: { epochs: 2, round_epochs: 1, gpus: 2, checkpoint_every_steps: 4, step_delay_ms: 150 } },
    });
    const victimStage = 'train/round-0/shard-1';
    await waitFor('a checkpoint of shard 1', () => checkpointSteps(store, victimStage).length > 0 || undefined);
    const [victimPid] = trainerParents(store, victimStage);
    const victim = [gpuA, gpuB].find((c) => c.pid === victimPid);
    assert.ok(victim, `the worker running ${victimStage} is one of ours (${victimPid})`);
    const killedAt = Date.now();
    const stepAtKill = checkpointSteps(store, victimStage).at(-1)!;
    victim.kill('SIGKILL');
    // The dead pod's trainer notices its closed stdin and exits; a new pod joins.
    await waitFor('the orphaned trainer to exit', () => trainerParents(store, victimStage).length === 0 || undefined, 30_000);
    suite.spawnWorker({ taskQueue, store, role: 'gpu', devices: 1, logFile: path.join(logs, 'c.log') });

    const result = (await handle.result()) as PipelineResult;
    await saveHistoryIfAsked(handle, 'kill-shard');
    const resumed = outputSummary(store, victimStage);
    assert.ok(Number(resumed['resumed_from_step']) > 0, `resumed at step ${resumed['resumed_from_step']}`);
    assert.ok(Number(resumed['resumed_from_step']) <= stepAtKill + 4);
    assert.equal(outputSummary(store, 'train/round-0/shard-0')['resumed_from_step'], 0);
    console.log(`killed shard-1 at checkpoint step ${stepAtKill}; resumed from step ${resumed['resumed_from_step']}; run finished ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);

    // The surviving shard was scheduled once; the killed one twice.
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainShard');
    const stageIds = scheduled.map((e) => JSON.parse(Buffer.from(e.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString()).stageId as string);
    assert.equal(stageIds.filter((id) => id === 'train/round-0/shard-0').length, 1);
    assert.equal(stageIds.filter((id) => id === victimStage).length, 2);
    assert.equal(result.progress.stages['train']!.systemFailures, 1);

    // The round's merge is the exact average of its two shards.
    const dirOf = (stageId: string) => {
      const root = path.join(store, 'stages', stageId);
      return path.join(root, readdirSync(root).find((n) => !n.includes('.tmp-'))!, 'checkpoint');
    };
    const [a, b, merged] = ['train/round-0/shard-0', victimStage, 'train/round-0/merge'].map((id) => readCheckpoint(dirOf(id)).params);
    for (const [name, tensor] of Object.entries(merged!)) {
      for (let i = 0; i < tensor.length; i++) {
        assert.ok(Math.abs(tensor[i]! - (a![name]![i]! + b![name]![i]!) / 2) < 1e-6, `${name}[${i}] is the average`);
      }
    }
  });

  it('after a failure in evaluate and a fix, a resumed run executes only evaluate, submit and package', async () => {
    const store = suite.tempDir('fix-store');
    const taskQueue = 'fix-test';
    const input = { config: 'micro', overrides: { ...sampleData(), seed: 7 } };
    const broken = await suite.startWorkers({
      taskQueue,
      storeDir: store,
      activityOverrides: {
        evaluate: async () => {
          throw new Error('forced failure: evaluate is broken in this build');
        },
      },
    });
    const failing = await startRun(suite.env, taskQueue, 'fix-and-resume', input);
    const err = await failing.result().then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(err.cause!.message, /^stage 'evaluate' failed \(evaluate, retries spent\): Error: forced failure/);
    const failedProgress = await failing.query<RunProgress>('progress');
    assert.equal(failedProgress.stages['evaluate']!.attempts, 3);
    assert.equal(failedProgress.stages['submit']!.state, 'cancelled');
    await saveHistoryIfAsked(failing, 'evaluate-failed');
    await broken.stop();

    await suite.startWorkers({ taskQueue, storeDir: store });
    const resumed = await startRun(suite.env, taskQueue, 'fix-and-resume', input);
    const result = (await resumed.result()) as PipelineResult;
    const executed = Object.entries(result.progress.stages).filter(([, s]) => s.executed > 0).map(([name]) => name);
    assert.deepEqual(executed.sort(), ['evaluate', 'package', 'submit']);
    for (const stage of ['ingest', 'features', 'augment', 'split', 'train']) assert.equal(result.progress.stages[stage]!.state, 'cached');
  });
});
