/**
 * The store one `micro` run leaves on 100,000 synthetic rows with checkpoint retention on
 * (trainer.keep_checkpoints, default 2): checkpoints kept and bytes, against stage outputs.
 * Run: npx tsx bench/retention.ts [rows]
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { PipelineResult } from '../lib/run-types';
import { formatBytes, storeUsage } from '../lib/store/du';
import { listEntries } from '../lib/store/entries';
import { startRun, tempDir } from '../test/helpers/temporal';
import { TemporalSession } from '../test/helpers/temporal-session';

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 100_000);
  process.env['ARENA_DATA_DIR'] = tempDir('no-data');
  const session = new TemporalSession();
  try {
    await session.start();
    const store = session.tempDir('bench-retention');
    await session.startWorkers({ taskQueue: 'bench-retention', storeDir: store, devices: 2 });
    const started = Date.now();
    const result = (await (await startRun(session.env, 'bench-retention', 'retention', { config: 'micro', overrides: { data: { synthetic_rows: rows } } })).result()) as PipelineResult;
    const seconds = (Date.now() - started) / 1000;
    const usage = storeUsage(store);
    const sum = (pick: (s: (typeof usage.stages)[number]) => number) => usage.stages.reduce((n, s) => n + pick(s), 0);
    const checkpoints = listEntries(store)
      .filter((e) => e.kind === 'checkpoints')
      .reduce((n, e) => n + readdirSync(path.join(store, e.ref)).filter((name) => /^step-\d+$/.test(name)).length, 0);
    console.log(`micro on ${rows} synthetic rows: ${result.progress.status} in ${seconds.toFixed(0)} s`);
    console.log(`store ${formatBytes(usage.total)}: ${checkpoints} checkpoints kept (${formatBytes(sum((s) => s.checkpoints))}), stage outputs ${formatBytes(sum((s) => s.outputs))}`);
  } finally {
    await session.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
