/**
 * ONNX inference throughput of lib/inference/predict: rows/s with and without swap TTA, and peak RSS,
 * on the shared LMSYS sample replicated to the competition's test size (25,000 rows). The model is
 * the CPU trainer's own export (default cpu_mlp dims, one short epoch through the trainer protocol);
 * if the trainer cannot produce one, a logistic graph with the same input widths stands in, and the
 * output says so. Also times the text hashing alone, the part of inference that runs in JS. Other
 * work on the machine skews absolute figures; compare the lines of one run.
 * Run: npx tsx bench/inference.ts [rows]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runConfigSchema } from '../lib/config/schema';
import { writeLogisticModelDir } from '../lib/inference/logistic-onnx';
import { predict } from '../lib/inference/predict';
import { hashTextVector } from '../lib/text-hashing';

const REPO = path.resolve(__dirname, '..');
const SAMPLE_CSV = path.resolve(REPO, '..', 'shared', 'data', 'lmsys-sample', 'train_sample.csv');
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
  const joined = (column: string) => `array_to_string(list_transform(from_json(${column}, '["VARCHAR"]'), x -> coalesce(x, '')), '\n\n')`;
  const features = FEATURES.map((f) => `(${f.sql})::DOUBLE AS ${f.name}`).join(', ');
  await c.run(`
    CREATE TABLE base AS
    SELECT id::VARCHAR AS id, ${joined('prompt')} AS prompt, ${joined('response_a')} AS response_a, ${joined('response_b')} AS response_b,
      CASE WHEN winner_model_a = 1 THEN 'model_a' ELSE 'model_b' END AS winner, winner_tie = 1 AS tie,
      row_number() OVER (ORDER BY id) AS k
    FROM read_csv('${SAMPLE_CSV}', header = true)`);
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

/** Runs one trainer verb as the train stage would: its own process, stdin held open, events on stdout. */
function runTrainer(verb: 'train' | 'export', spec: object, dir: string): Promise<void> {
  const specFile = path.join(dir, `${verb}-spec.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'trainers/cpu/main.ts', verb, '--spec', specFile], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`trainer ${verb} exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

async function trainerModel(dir: string): Promise<string> {
  const config = runConfigSchema.parse({ name: 'bench-inference', augment: { mode: 'none' }, trainer: { epochs: 1, early_stopping_patience: 0 } });
  const trained = path.join(dir, 'trained');
  await runTrainer(
    'train',
    {
      config,
      train_data: path.join(dir, 'train.parquet'),
      valid_data: path.join(dir, 'valid.parquet'),
      feature_columns: path.join(dir, 'feature_columns.json'),
      shard: { index: 0, count: 1 },
      round: { index: 0, epoch_start: 0, epoch_end: 1 },
      init_from: null,
      resume_from: null,
      checkpoint_dir: path.join(dir, 'checkpoints'),
      output_dir: trained,
      device_index: null,
    },
    dir,
  );
  const modelDir = path.join(dir, 'model');
  await runTrainer('export', { config, checkpoint: path.join(trained, 'checkpoint'), feature_columns: path.join(dir, 'feature_columns.json'), output_dir: modelDir }, dir);
  return modelDir;
}

function stubModel(dir: string): string {
  const modelDir = path.join(dir, 'stub-model');
  writeLogisticModelDir(modelDir, {
    hashDim: TEXT_HASH_DIM,
    featureColumns: FEATURES.map((f) => f.name),
    weights: { textWeights: new Float32Array(3 * TEXT_HASH_DIM).fill(0.01), featureWeights: new Float32Array(FEATURES.length).fill(0.001), bias: 0 },
  });
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
    let modelDir: string;
    let modelNote: string;
    try {
      const start = performance.now();
      modelDir = await trainerModel(dir);
      modelNote = `cpu trainer export (default cpu_mlp dims, 1 epoch on the sample; trained in ${((performance.now() - start) / 1000).toFixed(0)} s)`;
    } catch (err) {
      modelDir = stubModel(dir);
      modelNote = `STAND-IN logistic graph with the same input widths; the trainer failed: ${(err as Error).message.split('\n')[0]}`;
    }
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
