import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { dataRoots } from '../lib/data-roots';
import { findTemporalCli } from '../lib/temporal-cli';
import { REPO_ROOT } from '../worker';
import type { PipelineResult, RunProgress } from '../lib/run-types';
import { ARENA_CONFIG, ARENA_STATUS, ARENA_VAL_ACCURACY } from '../workflows/search-attributes';
import { saveHistoryIfAsked } from './helpers/histories';
import { SAMPLE_DIR } from './fixtures/sample-splits';
import { sampleData, startRun, waitFor } from './helpers/temporal';
import { workersSuite } from './helpers/temporal-session';
import { suiteEnv } from './helpers/suite-env';

const STAGES = ['ingest', 'features', 'augment', 'split', 'train', 'evaluate', 'submit', 'package'];

describe('train-pipeline on a real Temporal dev server', () => {
  const suite = workersSuite({ taskQueue: 'workflow-test', devices: 2 });
  const { store, taskQueue } = suite;
  // The synthetic run must not find Kaggle files a developer may keep in data/raw.
  suiteEnv('ARENA_DATA_DIR', suite.tempDir('no-data'));

  it('runs micro end to end on the real LMSYS sample, then serves a second run from the cache', async () => {
    const input = { config: 'micro', overrides: sampleData() };
    const first = await startRun(suite.env, taskQueue, 'micro-sample-1', input);
    const result = (await first.result()) as PipelineResult;
    await saveHistoryIfAsked(first, 'micro-sample');

    assert.deepEqual(Object.keys(result.stages).sort(), [...STAGES].sort());
    for (const stage of STAGES) assert.equal(result.progress.stages[stage]!.state, 'done', `${stage} ran`);
    assert.equal(result.progress.stages['train']!.executed, result.progress.stages['train']!.total);

    const metrics = JSON.parse(readFileSync(path.join(result.stages['evaluate']!.dir, 'metrics.json'), 'utf8'));
    assert.equal(metrics.synthetic, false);
    assert.ok(metrics.accuracy > 0 && metrics.accuracy < 1, `accuracy ${metrics.accuracy}`);
    assert.ok(Number.isFinite(metrics.log_loss));
    assert.equal(result.metrics?.['accuracy'], metrics.accuracy);

    const submission = readFileSync(path.join(result.stages['submit']!.dir, 'submission.csv'), 'utf8').trim().split('\n');
    const testIds = readFileSync(path.join(SAMPLE_DIR, 'test.csv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split(',')[0]);
    assert.equal(submission[0], 'id,winner');
    assert.deepEqual(submission.slice(1).map((l) => l.split(',')[0]).sort(), [...testIds].sort());
    for (const line of submission.slice(1)) assert.match(line, /^\d+,model_[ab]$/);

    const description = await first.describe();
    assert.equal(description.typedSearchAttributes.get(ARENA_CONFIG), 'micro');
    assert.equal(description.typedSearchAttributes.get(ARENA_STATUS), 'completed');
    assert.equal(description.typedSearchAttributes.get(ARENA_VAL_ACCURACY), metrics.accuracy);
    const progress = await first.query<RunProgress>('progress');
    assert.equal(progress.status, 'completed');
    assert.equal(progress.metric?.value, metrics.accuracy);

    const second = await startRun(suite.env, taskQueue, 'micro-sample-2', input);
    const cached = (await second.result()) as PipelineResult;
    for (const stage of STAGES) {
      assert.equal(cached.progress.stages[stage]!.state, 'cached', `${stage} served from the cache`);
      assert.equal(cached.progress.stages[stage]!.executed, 0);
      assert.equal(cached.stages[stage]!.dir, result.stages[stage]!.dir);
    }
  });

  it('starts from the README line `temporal workflow start --type train-pipeline` and runs on synthetic data', async () => {
    execFileSync(findTemporalCli(), [
      'workflow', 'start', '--type', 'train-pipeline', '--task-queue', taskQueue, '--workflow-id', 'readme-line',
      '--input', '{"config":"micro"}', '--address', suite.env.address,
    ]);
    const result = (await suite.env.client.workflow.getHandle('readme-line').result()) as PipelineResult;
    assert.equal(result.stages['ingest']!.summary['synthetic'], true);
    const metrics = JSON.parse(readFileSync(path.join(result.stages['evaluate']!.dir, 'metrics.json'), 'utf8'));
    assert.equal(metrics.synthetic, true);
    assert.match(readFileSync(path.join(result.stages['evaluate']!.dir, 'report.html'), 'utf8'), /SYNTHETIC/);
    assert.equal(result.stages['submit']!.summary['synthetic'], true);
  });

  it('fails a run that names a file outside the data roots at once, naming the stage, the key and the cause, quoting nothing of the file', async () => {
    const handle = await startRun(suite.env, taskQueue, 'missing-file', {
      config: 'micro',
      overrides: { data: { train: [{ format: 'lmsys', path: '/etc/passwd' }] } },
    });
    const err = await handle.result().then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(
      err.cause!.message,
      `stage 'ingest' failed (ingest, not retryable): UserInputError: data.train[0].path: '/etc/passwd' is outside the worker's data roots (${dataRoots(REPO_ROOT).join(', ')}); an operator can add a folder with ARENA_DATA_ROOTS on the worker`,
    );
    const progress = await handle.query<RunProgress>('progress');
    await saveHistoryIfAsked(handle, 'ingest-bad-input');
    assert.equal(progress.stages['ingest']!.attempts, 1);
    assert.equal(progress.stages['ingest']!.state, 'failed');
    assert.equal(progress.status, 'failed');
  });

  it('rejects an invalid config before any stage runs', async () => {
    const handle = await startRun(suite.env, taskQueue, 'bad-config', { config: 'micro', overrides: { trainer: { epoch: 2 } } });
    const err = await handle.result().then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String((err.cause?.cause as Error | undefined)?.message), /\(overrides\): trainer\.epoch: Unrecognized key: "epoch"/);
    const progress = await waitFor('progress', () => handle.query<RunProgress>('progress'));
    assert.deepEqual(progress.stages, {});
  });

  it('cancelling a run cancels its running train activities and stops the trainer processes', async () => {
    const handle = await startRun(suite.env, taskQueue, 'cancel-me', {
      config: 'micro',
      overrides: { ...sampleData(), seed: 99, trainer: { step_delay_ms: 300 } },
    });
    await waitFor('train to be running', async () => (await handle.query<RunProgress>('progress')).stages['train']?.state === 'running' || undefined);
    await waitFor('a trainer process', () => trainerPids(store).length > 0 || undefined);
    await handle.cancel();
    await assert.rejects(handle.result(), WorkflowFailedError);
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    await saveHistoryIfAsked(handle, 'cancelled');
    await waitFor('trainer processes to exit', () => trainerPids(store).length === 0 || undefined, 30_000);
    const progress = await handle.query<RunProgress>('progress');
    assert.equal(progress.status, 'cancelled');
    assert.equal(progress.stages['train']!.state, 'cancelled');
  });
});

function trainerPids(store: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `${store}/.*train-spec.json`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
