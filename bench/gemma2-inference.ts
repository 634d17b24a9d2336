/**
 * Gemma-2 inference on a CPU, with the tiny random Gemma-2 of trainers/gpu/tests/tiny_gemma2.py
 * (2 layers, hidden 64, BPE tokenizer of 1,024 tokens): token-id building in TypeScript
 * (@huggingface/tokenizers) against the trainer's Python TextEncoder (Rust tokenizers), and rows/s of
 * the onnx engine against the trainer engine (its `predict` verb, process start included), both with
 * swap TTA. The tiny model makes the forward pass cheap, so the figures show the overheads around
 * it, not what a 9B model costs. Needs the trainer's Python env (scripts/setup-trainer-env.sh).
 * Run: npx tsx bench/gemma2-inference.ts [rows] [max_length]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runTrainer } from '../lib/trainer-process';
import { loadTrainerRegistry, resolveTrainer } from '../lib/trainer-registry';
import { loadConfig } from '../lib/config/load';
import { createTextEncoder } from '../lib/inference/gemma2-inputs';
import { readGemma2Model, type TextRecipe } from '../lib/inference/gemma2-manifest';
import { loadTokenizer } from '../lib/inference/gemma2-tokenizer';
import { predict } from '../lib/inference/predict';
import { predictWithTrainer } from '../lib/inference/trainer-predict';

const REPO = path.resolve(__dirname, '..');
const ROWS = Number(process.argv[2] ?? 400);
const MAX_LENGTH = Number(process.argv[3] ?? 512);
const FEATURE_COLUMNS = [
  { name: 'log_len_a', swap: { with: 'log_len_b' } },
  { name: 'log_len_b', swap: { with: 'log_len_a' } },
  { name: 'log_len_diff', swap: 'negate' },
];

const TABLE_SQL = (rows: number) => `
  WITH sample AS (
    SELECT id, row_number() OVER () AS k,
      ${['prompt', 'response_a', 'response_b'].map((c) => `array_to_string(list_filter(json_extract_string(${c}, '$[*]'), t -> t IS NOT NULL), chr(10) || chr(10)) AS ${c}`).join(', ')},
      CASE WHEN winner_model_a = '1' THEN 'model_a' ELSE 'model_b' END AS winner
    FROM read_csv($path, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true, max_line_size = 33554432)
  )
  SELECT id || '-' || r.i AS id, id AS pair_id, false AS swapped, prompt, response_a, response_b, winner,
    ln(1 + length(response_a)) AS log_len_a, ln(1 + length(response_b)) AS log_len_b, ln(1 + length(response_a)) - ln(1 + length(response_b)) AS log_len_diff
  FROM sample, range(${Math.ceil(rows / 1000)}) r(i) ORDER BY r.i, k LIMIT ${rows}`;

const PYTHON_ENCODE = `
import json, sys, time
from transformers import AutoTokenizer
from arena_trainer.text import TextEncoder
import pyarrow.parquet as pq
table = pq.read_table(sys.argv[2], columns=["prompt", "response_a", "response_b"]).to_pydict()
encoder = TextEncoder(AutoTokenizer.from_pretrained(sys.argv[1]), int(sys.argv[3]), "head_tail")
start = time.perf_counter()
ids = encoder.encode(table["prompt"], table["response_a"], table["response_b"])
print(json.dumps({"seconds": time.perf_counter() - start, "recipe": encoder.describe()}))
`;
import { SAMPLE_CSV } from '../test/fixtures/sample-splits';

function python(pythonPath: string, args: string[]): string {
  const result = spawnSync(pythonPath, args, { cwd: REPO, env: { ...process.env, PYTHONPATH: path.join(REPO, 'trainers', 'gpu') }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python ${args[0]} failed:\n${result.stderr}`);
  return result.stdout;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-bench-'));
  try {
    const pythonPath = spawnSync('bash', ['scripts/setup-trainer-env.sh'], { cwd: REPO, encoding: 'utf8' }).stdout.trim();
    python(pythonPath, ['trainers/gpu/tests/tiny_gemma2.py', path.join(dir, 'basemodel')]);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const table = path.join(dir, 'rows.parquet');
    await c.run(`COPY (${TABLE_SQL(ROWS)}) TO '${table}' (FORMAT parquet)`, { path: SAMPLE_CSV });
    c.closeSync();
    db.closeSync();
    const featureColumnsFile = path.join(dir, 'feature_columns.json');
    fs.writeFileSync(featureColumnsFile, JSON.stringify({ columns: FEATURE_COLUMNS }));

    const config = loadConfig('gemma2_tiny_cpu', { overrides: { model: { basemodel_path: path.join(dir, 'basemodel'), max_length: MAX_LENGTH }, trainer: { epochs: 1 } } });
    const trainer = resolveTrainer(loadTrainerRegistry({}), config.trainer.engine);
    const run = (verb: 'train' | 'export', spec: object) =>
      runTrainer({ command: trainer.argv, passEnv: trainer.env, verb, spec: { config, ...spec }, workDir: path.join(dir, verb), cwd: REPO, signal: new AbortController().signal, onEvent: () => {} });
    const trained = await run('train', {
      train_data: table, valid_data: table, feature_columns: featureColumnsFile, shard: { index: 0, count: 1 },
      round: { index: 0, epoch_start: 0, epoch_end: 1 }, init_from: null, resume_from: null,
      checkpoint_dir: path.join(dir, 'checkpoints'), output_dir: path.join(dir, 'trained'), device_index: 0,
    });
    const checkpoint = trained.checkpoint!;
    const modelDir = path.dirname((await run('export', { checkpoint, feature_columns: featureColumnsFile, output_dir: path.join(dir, 'model') })).model!);
    const model = readGemma2Model(modelDir);

    const rows = await (async () => {
      const d = await DuckDBInstance.create(':memory:');
      const k = await d.connect();
      const got = (await k.runAndReadAll('SELECT prompt, response_a, response_b FROM read_parquet($1)', [table])).getRows() as string[][];
      k.closeSync();
      d.closeSync();
      return got;
    })();
    const py = JSON.parse(python(pythonPath, ['-c', PYTHON_ENCODE, model.tokenizerDir, table, String(MAX_LENGTH)])) as { seconds: number; recipe: TextRecipe };
    const encoder = createTextEncoder(py.recipe, loadTokenizer(model.tokenizerDir), 'model.json');
    let start = performance.now();
    let tokens = 0;
    for (const [p, a, b] of rows) tokens += encoder.encode(p!, a!, b!).length;
    const tsSeconds = (performance.now() - start) / 1000;
    console.log(`input ids, ${rows.length} rows, max_length ${MAX_LENGTH} head_tail (${tokens} tokens kept):`);
    console.log(`  TypeScript ${(rows.length / tsSeconds).toFixed(0)} rows/s, Python TextEncoder ${(rows.length / py.seconds).toFixed(0)} rows/s (ratio ${(py.seconds / tsSeconds).toFixed(2)})`);

    start = performance.now();
    await predict({ modelDir, table, batchSize: 16, tta: true, featureColumnsFile });
    const onnxSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    await predictWithTrainer({ command: trainer.argv, passEnv: trainer.env, config, checkpoint, repoRoot: REPO, table, batchSize: 16, tta: true, featureColumnsFile, workDir: path.join(dir, 'predict') });
    const trainerSeconds = (performance.now() - start) / 1000;
    console.log(`scoring with swap TTA, batch 16: onnx engine ${(rows.length / onnxSeconds).toFixed(1)} rows/s, trainer engine ${(rows.length / trainerSeconds).toFixed(1)} rows/s (two processes, start-up included)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
