import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { explainStage } from '../cli/explain';
import { stageLogs } from '../cli/logs';
import { resultsOfStage, stageResultsOf } from '../cli/run-results';
import { loadConfig } from '../lib/config/load';
import { loadPipeline } from '../lib/pipeline/load';
import type { PipelineResult } from '../lib/run-types';
import { listFiles } from '../lib/store/hash';
import { REPO_ROOT } from '../worker';
import { removeDir, sampleData, startRun, startTemporal, startWorkers, tempDir, type RunningWorkers } from './helpers/temporal';

/** Every committed entry of a store: stage id → the cache keys it holds, each with its outputs' hashes. */
function storeKeys(store: string): Record<string, { key: string; outputs: Record<string, string> }[]> {
  const keys: Record<string, { key: string; outputs: Record<string, string> }[]> = {};
  for (const file of listFiles(path.join(store, 'stages')).filter((f) => f.endsWith('/manifest.json'))) {
    const manifest = JSON.parse(readFileSync(path.join(store, 'stages', file), 'utf8')) as { stageId: string; cacheKey: string; files: Record<string, { sha256: string }> };
    const outputs = Object.fromEntries(Object.entries(manifest.files).map(([name, f]) => [name, f.sha256]));
    (keys[manifest.stageId] ??= []).push({ key: manifest.cacheKey, outputs });
  }
  return keys;
}

describe('cache keys are a function of the config, code and data only', () => {
  let env: TestWorkflowEnvironment;
  let workers: RunningWorkers;
  const store = tempDir('determinism-store');
  const taskQueue = 'determinism-test';

  before(async () => {
    env = await startTemporal();
    workers = await startWorkers(env, { taskQueue, storeDir: store, devices: 2 });
  });

  after(async () => {
    await workers?.stop();
    await env?.teardown();
    removeDir(store);
  });

  it('gives every stage, train sub-steps included, the same key in two --no-cache runs of micro; logs stay beside the entries, outside them', async () => {
    const input = { config: 'micro', overrides: sampleData(), noCache: true };
    const runs: ReturnType<typeof storeKeys>[] = [];
    for (const id of ['determinism-1', 'determinism-2']) {
      const handle = await startRun(env, taskQueue, id, input);
      const result = (await handle.result()) as PipelineResult;
      for (const [stage, r] of Object.entries(result.stages)) assert.equal(r.cacheHit, false, `${id}: ${stage} was executed`);
      runs.push(storeKeys(store));
      const stageResults = await stageResultsOf(handle);
      for (const r of stageResults.values()) assert.ok(!Object.keys(r.files).some((f) => f.startsWith('logs/')), `${r.stage}: no log is an output`);
      const trainLogs = stageLogs(store, resultsOfStage(stageResults, 'train'));
      for (const expected of ['== train/round-0/shard-0', '--- train-spec.json', '--- trainer.log', '--- export-spec.json']) assert.ok(trainLogs.includes(expected), `train logs show ${expected}`);
      const config = loadConfig('micro', { overrides: sampleData() });
      const explained = await explainStage(loadPipeline('train-pipeline', config), config, 'evaluate', REPO_ROOT, stageResults);
      assert.match(explained, /key now: (\w+); the run's entry: \1 \(same\)/);
      // The second run must neither overwrite the first's entries nor resume from its checkpoints.
      renameSync(path.join(store, 'stages'), path.join(store, `stages-${id}`));
      if (existsSync(path.join(store, 'checkpoints'))) renameSync(path.join(store, 'checkpoints'), path.join(store, `checkpoints-${id}`));
    }
    // Equal keys, and byte-identical outputs (the leaves' metrics.json, report.html, submission.csv included).
    const [first, second] = runs as [ReturnType<typeof storeKeys>, ReturnType<typeof storeKeys>];
    assert.ok(Object.keys(first).length >= 7 + 3, `stages and train sub-steps: ${Object.keys(first).join(', ')}`);
    for (const [stageId, keys] of Object.entries(first)) assert.equal(keys.length, 1, `${stageId}: one entry per run`);
    assert.deepEqual(second, first);
  });
});
