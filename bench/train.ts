/**
 * Training throughput of the built-in CPU trainer: rows/s per epoch and peak RSS, on the shared LMSYS
 * sample replicated to 25k rows (default cpu_mlp dims), and the wall time of a micro-sized run
 * (~1,000 rows, 3 epochs). Run: npx tsx bench/train.ts [rows]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runConfigSchema } from '../lib/config/schema';
import type { TrainerEvent } from '../trainers/cpu/events';
import { trainCommand } from '../trainers/cpu/train';
import { SAMPLE_ROWS_SQL, trainSpec } from '../test/fixtures/sample-splits';

const FEATURE_COUNT = 40;

async function buildSplits(dir: string, rows: number, validRows: number): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const features = Array.from({ length: FEATURE_COUNT }, (_, i) => `f${i}`);
  const featureSql = features
    .map((f, i) => `(length(coalesce(${['prompt', 'response_a', 'response_b'][i % 3]}, '')) % ${i + 7} + hash(id || '${f}') % 13)::DOUBLE AS ${f}`)
    .join(', ');
  await c.run(`
    CREATE TABLE base AS ${SAMPLE_ROWS_SQL}`);
  await c.run(`
    CREATE TABLE rows AS
    SELECT b.id || '-' || r.i AS id, b.id || '-' || r.i AS pair_id, false AS swapped,
           b.prompt, b.response_a, b.response_b, b.winner
    FROM base b, range(${Math.ceil((rows + validRows) / 1000)}) r(i)
    ORDER BY r.i, b.k LIMIT ${rows + validRows}`);
  await c.run(`CREATE TABLE featured AS SELECT *, ${featureSql} FROM rows`);
  await c.run(`COPY (SELECT * FROM featured ORDER BY id LIMIT ${rows}) TO '${path.join(dir, 'train.parquet')}' (FORMAT parquet)`);
  await c.run(`COPY (SELECT * FROM featured ORDER BY id OFFSET ${rows}) TO '${path.join(dir, 'valid.parquet')}' (FORMAT parquet)`);
  fs.writeFileSync(path.join(dir, 'feature_columns.json'), JSON.stringify({ columns: features.map((name) => ({ name, swap: 'keep' })) }));
  c.closeSync();
  db.closeSync();
  return features;
}

async function timedRun(dir: string, name: string, epochs: number, model: object) {
  const config = runConfigSchema.parse({ name, augment: { mode: 'none' }, model, trainer: { epochs, early_stopping_patience: 0, checkpoint_every_steps: 1_000_000 } });
  const marks: { event: TrainerEvent; at: number }[] = [];
  const start = performance.now();
  await trainCommand(
    trainSpec(dir, name, config),
    (event) => marks.push({ event, at: performance.now() }),
  );
  const startedAt = marks.find((m) => m.event.event === 'start')!.at;
  const epochEnds = marks.filter((m) => m.event.event === 'metrics').map((m) => m.at);
  return { total: (performance.now() - start) / 1000, load: (startedAt - start) / 1000, epochSeconds: epochEnds.map((t, i) => (t - (i === 0 ? startedAt : epochEnds[i - 1]!)) / 1000) };
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 25_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-bench-'));
  try {
    const variants: [string, object][] = [
      ['default 2048/64/128/64', {}],
      ['small 1024/32/32/32', { text_hash_dim: 1024, text_dim: 32, feature_dim: 32, hidden_dim: 32 }],
    ];
    await buildSplits(dir, rows, 1000);
    console.log(`train rows ${rows}, valid rows 1000, ${FEATURE_COUNT} features, batch 32; epoch seconds include the validation pass`);
    for (const [label, model] of variants) {
      const r = await timedRun(dir, label.split(' ')[0]!, 2, model);
      const [first, second] = r.epochSeconds;
      console.log(
        `${label}: load ${r.load.toFixed(1)} s, epoch 1 (hashing) ${first!.toFixed(1)} s = ${(rows / first!).toFixed(0)} rows/s, ` +
          `epoch 2 (cached) ${second!.toFixed(1)} s = ${(rows / second!).toFixed(0)} rows/s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
      );
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    await buildSplits(dir, 1000, 100);
    for (const [label, model] of variants) {
      const r = await timedRun(dir, `micro-${label.split(' ')[0]}`, 3, model);
      console.log(`micro-sized run (1,000 train rows, 100 valid, 3 epochs), ${label}: ${r.total.toFixed(1)} s wall`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
