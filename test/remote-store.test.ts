import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { objectStoreFromEnv, type ObjectStore } from '../lib/store/object-store';
import { startS3Server, type S3TestServer } from './helpers/s3-server';
import { removeDir, sampleData, spawnWorkerProcess, startRun, startTemporal, startWorkers, tempDir, waitFor, type RunningWorkers } from './helpers/temporal';

describe('a run store mirrored to an S3-compatible bucket', () => {
  let env: TestWorkflowEnvironment;
  let s3: S3TestServer;
  let remote: ObjectStore;
  let main: RunningWorkers | undefined;
  const children: ChildProcess[] = [];
  const roots = { main: tempDir('pod-main'), a: tempDir('pod-a'), b: tempDir('pod-b'), logs: tempDir('pod-logs') };

  before(async () => {
    s3 = await startS3Server();
    remote = objectStoreFromEnv(s3.env('runs'))!;
    env = await startTemporal();
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await main?.stop();
    await env?.teardown();
    await s3?.stop();
    for (const dir of Object.values(roots)) removeDir(dir);
  });

  it('a shard whose pod died resumes on a pod with an empty disk from the checkpoint in the bucket', async () => {
    const taskQueue = 'remote-store';
    const podEnv = s3.env('runs');
    main = await startWorkers(env, { taskQueue, storeDir: roots.main, role: 'main', remoteStore: remote });
    const podA = spawnWorkerProcess(env, { taskQueue, store: roots.a, role: 'gpu', devices: 2, logFile: path.join(roots.logs, 'a.log'), env: podEnv });
    children.push(podA);
    const handle = await startRun(env, taskQueue, 'remote-resume', {
      config: 'micro',
      overrides: { ...sampleData(), seed: 11, trainer: { epochs: 1, round_epochs: 1, gpus: 2, checkpoint_every_steps: 4, step_delay_ms: 150 } },
    });
    const shard = 'train/round-0/shard-1';
    const published = await waitFor('a checkpoint of shard 1 in the bucket', async () => {
      const keys = await remote.list(`checkpoints/${shard}`);
      return keys.find((k) => k.endsWith('/.complete'));
    });
    podA.kill('SIGKILL');
    children.push(spawnWorkerProcess(env, { taskQueue, store: roots.b, role: 'gpu', devices: 2, logFile: path.join(roots.logs, 'b.log'), env: podEnv }));
    await handle.result();

    const outputs = path.join(roots.b, 'stages', shard);
    const done = readdirSync(outputs).find((name) => !name.includes('.tmp-'))!;
    const summary = JSON.parse(readFileSync(path.join(outputs, done, 'manifest.json'), 'utf8')).summary;
    assert.ok(summary.resumed_from_step > 0, `pod B resumed at step ${summary.resumed_from_step} (first checkpoint in the bucket: ${published})`);
    // Pod B started with nothing: the checkpoint and the split it trained on came from the bucket.
    assert.ok(existsSync(path.join(roots.b, 'stages', 'split')));
    // The main worker evaluated the model that pod B exported, fetched from the bucket.
    assert.ok(existsSync(path.join(roots.main, 'stages', 'train', 'export')));
    assert.ok((await remote.list('stages/evaluate')).some((k) => k.endsWith('/metrics.json')));
  });
});
