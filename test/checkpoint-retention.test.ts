import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listFiles } from '../lib/store/hash';
import { objectStoreFromEnv, type ObjectStore } from '../lib/store/object-store';
import { RunStore } from '../lib/store/run-store';
import { startS3Server, type S3TestServer } from './helpers/s3-server';
import { removeDir, tempDir, waitFor } from './helpers/temporal';

const REF = 'checkpoints/train/round-0/shard-0/0123456789abcdef01234567';
const FILES = ['checkpoint.json', 'tensors.bin', 'optimizer.bin'];

/** Writes and publishes checkpoints at the given steps, as the train stage does: the folder complete first, then mirrored. */
async function writeCheckpoints(store: RunStore, steps: number[]): Promise<void> {
  for (const step of steps) {
    const dir = store.local(`${REF}/step-${step}`);
    mkdirSync(dir, { recursive: true });
    for (const file of FILES) writeFileSync(path.join(dir, file), `${file} of step ${step}\n`.repeat(50));
    await store.publish(`${REF}/step-${step}`);
  }
}

function localSteps(store: RunStore): number[] {
  return readdirSync(store.local(REF))
    .flatMap((name) => /^step-(\d+)$/.exec(name)?.[1] ?? [])
    .map(Number)
    .sort((a, b) => a - b);
}

/** Steps with a completion marker in the remote, and whether each has every file. */
async function remoteSteps(remote: ObjectStore): Promise<{ complete: number[]; partial: number[] }> {
  const byStep = new Map<number, string[]>();
  for (const key of await remote.list(REF)) {
    const [step, file] = key.slice(REF.length + 1).split('/');
    const n = Number(step!.slice('step-'.length));
    byStep.set(n, [...(byStep.get(n) ?? []), file!]);
  }
  const complete = [...byStep].filter(([, files]) => files.includes('.complete')).map(([n]) => n);
  for (const n of complete) assert.deepEqual(byStep.get(n)!.filter((f) => f !== '.complete').sort(), [...FILES].sort(), `step ${n} has a marker, so every file`);
  return { complete: complete.sort((a, b) => a - b), partial: [...byStep.keys()].filter((n) => !complete.includes(n)).sort((a, b) => a - b) };
}

describe('checkpoint retention', () => {
  let s3: S3TestServer;
  const roots: string[] = [];
  const root = (name: string) => {
    const dir = tempDir(name);
    roots.push(dir);
    return dir;
  };

  before(async () => {
    s3 = await startS3Server();
  });

  after(async () => {
    await s3?.stop();
    for (const dir of roots) removeDir(dir);
  });

  it('keeps the K newest complete checkpoints, locally and in the remote, and removes the older ones', async () => {
    const remote = objectStoreFromEnv(s3.env('keep'))!;
    const store = new RunStore(root('keep'), remote);
    await writeCheckpoints(store, [4, 8, 12, 16, 20]);
    // A newer checkpoint the trainer is still writing is not a complete one, and is left alone.
    mkdirSync(store.local(`${REF}/.step-24.tmp-1-2`));

    assert.deepEqual(await store.pruneCheckpoints(REF, 2), [4, 8, 12]);
    assert.deepEqual(localSteps(store), [16, 20]);
    assert.deepEqual(await remoteSteps(remote), { complete: [16, 20], partial: [] });
    assert.ok(existsSync(store.local(`${REF}/.step-24.tmp-1-2`)));
    assert.deepEqual(await store.latestCheckpoint(REF), { ref: `${REF}/step-20`, step: 20 });
    assert.deepEqual(await store.pruneCheckpoints(REF, 2), [], 'nothing more to prune');
  });

  it('a pruning killed at any moment leaves the newest checkpoint complete and resumable on another machine', async () => {
    const remote = objectStoreFromEnv(s3.env('kill'))!;
    const store = new RunStore(root('kill'), remote);
    const steps = Array.from({ length: 12 }, (_, i) => (i + 1) * 5);
    await writeCheckpoints(store, steps);

    for (const killWhen of ['the first local folder is gone', 'the fourth local folder is gone']) {
      const before = localSteps(store);
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'helpers', 'prune-checkpoints.ts'), store.root, REF, '2'], {
        env: { ...process.env, ...s3.env('kill') },
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const gone = killWhen.startsWith('the first') ? 1 : 4;
      await waitFor(killWhen, () => before.length - localSteps(store).length >= gone || undefined, 60_000);
      child.kill('SIGKILL');
      await exited;

      const left = localSteps(store);
      assert.ok(left.length > 2, `killed mid-way (${left.join(',')} left)`);
      assert.equal(left.at(-1), 60);
      // Every step with a remote completion marker still has all its files (asserted in remoteSteps).
      const { complete } = await remoteSteps(remote);
      assert.equal(complete.at(-1), 60);

      // A pod with an empty disk resumes from the newest checkpoint, whole.
      const pod = new RunStore(root('pod'), remote);
      const latest = await pod.latestCheckpoint(REF);
      assert.deepEqual(latest, { ref: `${REF}/step-60`, step: 60 });
      const dir = await pod.materializeCheckpoint(latest.ref);
      assert.deepEqual(listFiles(dir!), [...FILES].sort());
      for (const file of FILES) assert.equal(readFileSync(path.join(dir!, file), 'utf8'), readFileSync(path.join(store.local(latest.ref), file), 'utf8'));
    }

    // The next pruning finishes the job, leftovers included.
    await store.pruneCheckpoints(REF, 2);
    assert.deepEqual(localSteps(store), [55, 60]);
    assert.deepEqual(await remoteSteps(remote), { complete: [55, 60], partial: [] });
  });
});
