/**
 * ONNX inference throughput of lib/inference/predict: rows/s with and without swap TTA, and peak RSS,
 * on the shared LMSYS sample replicated to the competition's test size (25,000 rows). The model is
 * the CPU trainer's own export (default cpu_mlp dims, one short epoch through the trainer protocol);
 * if the trainer cannot produce one, a logistic graph with the same input widths stands in, and the
 * output says so. Also times the text hashing alone, the part of inference that runs in JS. Other
 * work on the machine skews absolute figures; compare the lines of one run.
 * Run: npx tsx bench/inference.ts [rows]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runConfigSchema } from '../lib/config/schema';
import { predict } from '../lib/inference/predict';
import { hashTextVector } from '../lib/text-hashing';
import { runTrainer } from '../lib/trainer-process';
import { loadTrainerRegistry, resolveTrainer } from '../lib/trainer-registry';
import { SAMPLE_ROWS_SQL, trainSpec } from '../test/fixtures/sample-splits';

const REPO = path.resolve(__dirname, '..');
const TEXT_HASH_DIM = runConfigSchema.parse({ name: 'bench' }).model.text_hash_dim;

/** Length features with every kind of swap rule, so the TTA path does real work. */
const FEATURES: Array<{ name: string; sql: string; swap: unknown }> = [
  { name: 'chars_a', sql: 'length(response_a)', swap: { with: 'chars_b' } },
  { name: 'chars_b', sql: 'length(response_b)', swap: { with: 'chars_a' } },
  { name: 'lines_a', sql: "length(response_a) - length(replace(response_a, chr(10), ''))", swap: { with: 'lines_b' } },
  { name: 'lines_b', sql: "length(response_b) - length(replace(response_b, chr(10), ''))", swap: { with: 'lines_a' } },
  { name: 'words_a', sql: "len(string_split_regex(trim(response_a), '\\s+'))", swap: { with: 'words_b' } },
  { name: 'words_b', sql: "len(string_split_regex(trim(response_b), '\\s+'))", swap: { with: 'words_a' } },
  { name: 'chars_diff', sql: 'length(response_a) - length(response_b)', swap: 'negate' },
  { name: 'chars_ratio', sql: '(length(response_a) + 1) / (length(response_b) + 1)', swap: 'reciprocal' },
  { name: 'prompt_chars', sql: 'length(prompt)', swap: 'keep' },
];

async function buildTables(dir: string, rows: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const features = FEATURES.map((f) => `(${f.sql})::DOUBLE AS ${f.name}`).join(', ');
  await c.run(`CREATE TABLE base AS ${SAMPLE_ROWS_SQL}`);
  await c.run(`CREATE TABLE featured AS SELECT *, ${features} FROM base`);
  const split = (where: string) => `SELECT id, id AS pair_id, false AS swapped, 'lmsys' AS source, 'unknown' AS language, * EXCLUDE (id, tie, k) FROM featured WHERE NOT tie AND ${where}`;
  await c.run(`COPY (${split('k % 10 <> 0')}) TO '${path.join(dir, 'train.parquet')}' (FORMAT parquet)`);
  await c.run(`COPY (${split('k % 10 = 0')}) TO '${path.join(dir, 'valid.parquet')}' (FORMAT parquet)`);
  await c.run(`
    COPY (SELECT f.id || '-' || r.i AS id, 'lmsys' AS source, 'unknown' AS language, f.* EXCLUDE (id, winner, tie, k)
          FROM featured f, range(${Math.ceil(rows / 1000)}) r(i) ORDER BY r.i, f.k LIMIT ${rows})
    TO '${path.join(dir, 'test.parquet')}' (FORMAT parquet)`);
  fs.writeFileSync(path.join(dir, 'feature_columns.json'), JSON.stringify({ columns: FEATURES.map(({ name, swap }) => ({ name, swap })) }));
  c.closeSync();
  db.closeSync();
}

/** A model from the CPU trainer, trained and exported through the trainer protocol as the train stage runs it. */
async function trainerModel(dir: string): Promise<string> {
  const config = runConfigSchema.parse({ name: 'bench-inference', augment: { mode: 'none' }, trainer: { epochs: 1, early_stopping_patience: 0 } });
  const trainer = resolveTrainer(loadTrainerRegistry({}), config.trainer.engine);
  const protocol = { command: trainer.argv, passEnv: trainer.env, workDir: dir, cwd: REPO, signal: new AbortController().signal, onEvent: () => undefined };
  const trained = await runTrainer({ ...protocol, verb: 'train', spec: trainSpec(dir, 'trained', config) });
  const modelDir = path.join(dir, 'model');
  await runTrainer({ ...protocol, verb: 'export', spec: { config, checkpoint: trained.checkpoint, feature_columns: path.join(dir, 'feature_columns.json'), output_dir: modelDir } });
  return modelDir;
}

/** Best time of `repeats` runs (other work on the machine only ever slows a run down); RSS is sampled between batches. */
async function measure(label: string, rows: number, repeats: number, run: () => Promise<unknown>): Promise<void> {
  let best = Infinity;
  let peak = 0;
  for (let k = 0; k < repeats; k++) {
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    const start = performance.now();
    await run();
    best = Math.min(best, (performance.now() - start) / 1000);
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  console.log(`${label.padEnd(32)} ${best.toFixed(2).padStart(7)} s  ${(rows / best).toFixed(0).padStart(6)} rows/s  peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 25_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-bench-'));
  try {
    await buildTables(dir, rows);
    const start = performance.now();
    const modelDir = await trainerModel(dir);
    const modelNote = `cpu trainer export (default cpu_mlp dims, 1 epoch on the sample; trained in ${((performance.now() - start) / 1000).toFixed(0)} s)`;
    const table = path.join(dir, 'test.parquet');
    const featureColumnsFile = path.join(dir, 'feature_columns.json');
    console.log(`model: ${modelNote}`);
    console.log(`${rows} rows, text input ${3 * TEXT_HASH_DIM} floats, ${FEATURES.length} features, ${os.cpus().length} cores\n`);

    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const texts = (await connection.runAndReadAll('SELECT prompt, response_a, response_b FROM read_parquet($1)', [table])).getRows();
    connection.closeSync();
    db.closeSync();
    const out = new Float32Array(3 * TEXT_HASH_DIM);
    await measure('text hashing only', rows, 2, async () => {
      for (const [p, a, b] of texts) hashTextVector(String(p), String(a), String(b), TEXT_HASH_DIM, out);
    });
    await measure('predict, batch 512', rows, 2, () => predict({ modelDir, table, batchSize: 512, tta: false }));
    await measure('predict + swap TTA, batch 512', rows, 2, () => predict({ modelDir, table, batchSize: 512, tta: true, featureColumnsFile }));
    for (const batchSize of [64, 2048]) {
      await measure(`predict, batch ${batchSize}`, rows, 1, () => predict({ modelDir, table, batchSize, tta: false }));
    }
    console.log(`\nprocess peak RSS (maxRSS: the table of texts above included) ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
