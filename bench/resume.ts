/**
 * What a crashed GPU pod costs a run: the same train-pipeline run twice on the real sample, once
 * undisturbed and once with the worker of one shard killed right after its first checkpoint (the
 * shard resumes on a new worker from that checkpoint). Prints both wall times and the difference.
 * Run: npx tsx bench/resume.ts
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { checkpointSteps, removeDir, sampleData, spawnWorkerProcess, startRun, startTemporal, startWorkers, tempDir, waitFor } from '../test/helpers/temporal';

const TRAINER = { epochs: 2, round_epochs: 1, gpus: 2, checkpoint_every_steps: 4, step_delay_ms: 150 };

async function main(): Promise<void> {
  const env = await startTemporal();
  const children: ChildProcess[] = [];
  try {
    const timed = async (name: string, kill: boolean) => {
      const store = tempDir(`bench-${name}`);
      const taskQueue = `bench-${name}`;
      const main = await startWorkers(env, { taskQueue, storeDir: store, role: 'main' });
      const pods = [0, 1].map((i) => spawnWorkerProcess(env, { taskQueue, store, role: 'gpu', devices: 1, logFile: path.join(store, `pod-${i}.log`) }));
      children.push(...pods);
      // Both runs train the same data; the split and features come from an identical first pass.
      const started = Date.now();
      const handle = await startRun(env, taskQueue, name, { config: 'micro', overrides: { ...sampleData(), trainer: TRAINER } });
      let killedAt = 0;
      if (kill) {
        await waitFor('a checkpoint of shard 1', () => checkpointSteps(store, 'train/round-0/shard-1').length > 0 || undefined);
        killedAt = Date.now();
        for (const pod of pods) pod.kill('SIGKILL');
        children.push(...[0, 1].map((i) => spawnWorkerProcess(env, { taskQueue, store, role: 'gpu', devices: 1, logFile: path.join(store, `new-pod-${i}.log`) })));
      }
      await handle.result();
      const seconds = (Date.now() - started) / 1000;
      await main.stop();
      removeDir(store);
      return { seconds, killedAfter: kill ? (killedAt - started) / 1000 : undefined };
    };
    const calm = await timed('undisturbed', false);
    const crashed = await timed('crashed', true);
    console.log(`undisturbed run: ${calm.seconds.toFixed(1)} s`);
    console.log(`both GPU pods killed ${crashed.killedAfter!.toFixed(1)} s in (after shard 1's first checkpoint), new pods started: ${crashed.seconds.toFixed(1)} s`);
    console.log(`lost to the crash: ${(crashed.seconds - calm.seconds).toFixed(1)} s (the train stage's heartbeat timeout is 15 s)`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
