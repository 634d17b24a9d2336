/**
 * What a sweep shares: the issue's grid (`--grid trainer.lr.head=1e-4,5e-4 --grid trainer.epochs=2,4`)
 * on `micro` and the real sample, 4 child runs on a fresh store. Prints the sweep's table, per stage
 * its executions and cache hits, and the sweep's wall time against the 4 runs' summed stage times
 * (every executed step's activity time; the upstream stages, computed once, counted once per point
 * as 4 independent runs would execute them).
 * Run: npx tsx bench/sweep.ts
 */
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { gridPoints } from '../cli/sweep-grid';
import { renderSweep } from '../cli/sweep-table';
import type { StageResult } from '../lib/stage';
import type { SweepResult } from '../lib/sweep';
import { SAMPLE_DIR } from '../test/fixtures/sample-splits';
import { removeDir, startTemporal, startWorkers, tempDir } from '../test/helpers/temporal';

const UPSTREAM = ['ingest', 'features', 'augment', 'split'];

async function main(): Promise<void> {
  const env = await startTemporal();
  const store = tempDir('bench-sweep');
  const taskQueue = 'bench-sweep';
  const workers = await startWorkers(env, { taskQueue, storeDir: store });
  try {
    const set = [`data.train=[{format: lmsys, path: ${path.join(SAMPLE_DIR, 'train_sample.csv')}}]`, `data.test={format: lmsys, path: ${path.join(SAMPLE_DIR, 'test.csv')}}`];
    const points = gridPoints('micro', ['trainer.lr.head=1e-4,5e-4', 'trainer.epochs=2,4'], set);
    const started = Date.now();
    const handle = await env.client.workflow.start('sweep', { taskQueue, workflowId: 'bench-sweep', args: [{ pipeline: 'train-pipeline', config: 'micro', points }] });
    const result = (await handle.result()) as SweepResult;
    const wall = (Date.now() - started) / 1000;

    // Seconds of every executed step by stage, from the children's histories (activity started → completed).
    const executedSeconds = new Map<string, number>();
    for (const p of result.points) {
      const events = (await env.client.workflow.getHandle(p.workflowId).fetchHistory()).events ?? [];
      const byId = new Map(events.map((e) => [Number(e.eventId), e]));
      for (const e of events) {
        const done = e.activityTaskCompletedEventAttributes;
        const payload = done?.result?.payloads?.[0];
        if (!done || !payload) continue;
        const value = defaultPayloadConverter.fromPayload<Partial<StageResult>>(payload);
        if (typeof value?.stage !== 'string' || value.cacheHit) continue;
        const startedAt = byId.get(Number(done.startedEventId))?.eventTime;
        const stage = value.stage.split('/')[0]!;
        const seconds = (ms(e.eventTime) - ms(startedAt)) / 1000;
        executedSeconds.set(stage, (executedSeconds.get(stage) ?? 0) + seconds);
      }
    }
    const executedTotal = [...executedSeconds.values()].reduce((a, b) => a + b, 0);
    const upstreamTotal = UPSTREAM.reduce((sum, s) => sum + (executedSeconds.get(s) ?? 0), 0);
    const independent = executedTotal + (result.points.length - 1) * upstreamTotal;

    console.log(renderSweep(result.points));
    console.log('\nexecuted seconds by stage (all points): ' + [...executedSeconds].map(([s, t]) => `${s} ${t.toFixed(1)}`).join(', '));
    console.log(`sweep wall time ${wall.toFixed(1)} s (workflow: ${result.seconds.toFixed(1)} s)`);
    console.log(`stage time executed in the sweep ${executedTotal.toFixed(1)} s; 4 independent runs' summed stage times ${independent.toFixed(1)} s (upstream ${upstreamTotal.toFixed(1)} s once per point)`);
  } finally {
    await workers.stop();
    await env.teardown();
    removeDir(store);
  }
}

function ms(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
