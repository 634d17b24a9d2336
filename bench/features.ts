/**
 * The features stage against the Python reference (`re` as pandas `str.count` applies it), on N
 * rows replicated from the real LMSYS sample, measured in one run.
 *
 *   npx tsx bench/features.ts            # N = 10,000 and 100,000
 *   BENCH_ROWS=2000 npx tsx bench/features.ts
 *
 * Reported per N:
 *   - counting only: Python's 19 counts x 3 texts over texts already in memory (1 core); node's
 *     counter over texts already in memory on 1 thread, and the stage's counting step (texts out of
 *     the parquet file through DuckDB, counted on one worker thread per core, and on the main
 *     thread until a worker has started; counts back into DuckDB), and that step with no workers;
 *   - end to end: node parquet in -> the 19x3 features -> parquet out; Python: reading the JSON
 *     lines plus counting (it writes nothing);
 *   - the full stage (counts + similarity + sentiment);
 *   - the peak RSS of each process: every node measurement runs in a child process of its own.
 *
 * Other work shares the machine, so each side reports its best of several passes (Python: 3 up to
 * 10,000 rows, 1 above, as one pass of 100,000 rows takes a minute or more).
 *
 * Each replica's texts get its replica number appended: DuckDB evaluates built-in functions once
 * per distinct value of a dictionary-encoded parquet column, so verbatim copies would flatter SQL.
 * The replicas still flatter zstd (it finds the earlier copy: 46x smaller output), so compression
 * codecs are compared on the real sample, not here.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBBlobVector, DuckDBInstance } from '@duckdb/node-api';
import { buildFeatures } from '../activities/features/build-features';
import { pythonCharKinds, TextCounter } from '../activities/features/text-counts';
import { measureBatch } from '../activities/features/text-measures';
import { TrigramCosine } from '../activities/features/trigram-similarity';
import { SAMPLE_CSV as SAMPLE } from '../test/fixtures/sample-splits';

const PYTHON_REFERENCE = path.join(__dirname, 'python_reference_features.py');
const SIZES = (process.env.BENCH_ROWS ?? '10000,100000').split(',').map(Number);
const passes = (rows: number) => (rows <= 10000 ? 3 : 1);

interface NodeRun {
  seconds: number;
  steps: string[];
  peakRssMb: number;
}

const flatten = (column: string) =>
  `array_to_string(list_filter(json_extract_string(${column}, '$[*]'), t -> t IS NOT NULL), chr(10) || chr(10))`;

async function writeInput(rows: number, dir: string): Promise<{ table: string; texts: string }> {
  const table = path.join(dir, 'input.parquet');
  const texts = path.join(dir, 'texts.jsonl');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(
    `CREATE TABLE sample AS SELECT id, ${flatten('prompt')} AS prompt, ${flatten('response_a')} AS response_a,
       ${flatten('response_b')} AS response_b FROM read_csv('${SAMPLE}', header = true, all_varchar = true)`,
  );
  await connection.run(
    `COPY (
       SELECT s.id || '-' || r.i AS id, 'lmsys' AS source, s.prompt || ' ' || r.i AS prompt,
         s.response_a || ' ' || r.i AS response_a, s.response_b || ' ' || r.i AS response_b, 'unknown' AS language
       FROM range(${Math.ceil(rows / 1000)}) r(i), sample s ORDER BY r.i, s.id LIMIT ${rows}
     ) TO '${table}' (FORMAT parquet)`,
  );
  await connection.run(`COPY (SELECT id, prompt, response_a, response_b FROM '${table}') TO '${texts}' (FORMAT json)`);
  connection.closeSync();
  instance.closeSync();
  return { table, texts };
}

/** In a child process: the best of `count` builds of the features of `table`. */
async function childBuild(table: string, dir: string, full: boolean, count: number, threads?: number): Promise<Omit<NodeRun, 'peakRssMb'>> {
  let best = { seconds: Infinity, steps: [] as string[] };
  for (let pass = 0; pass < count; pass++) {
    const steps: string[] = [];
    const start = performance.now();
    await buildFeatures({
      inputs: [{ table, output: path.join(dir, `features-${full}.parquet`) }],
      similarity: full,
      sentiment: full,
      featureColumnsFile: path.join(dir, `feature_columns-${full}.json`),
      threads,
      log: (line) => steps.push(line.replace(/^features \S+: /, '')),
    });
    const seconds = (performance.now() - start) / 1000;
    if (seconds < best.seconds) best = { seconds, steps };
  }
  return best;
}

/** In a child process: the best of `count` passes of the counter over texts already in memory, on this thread. */
async function childCountInMemory(table: string, count: number): Promise<Omit<NodeRun, 'peakRssMb'>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const result = await connection.stream(
    `SELECT encode(coalesce(prompt, '')), encode(coalesce(response_a, '')), encode(coalesce(response_b, '')) FROM read_parquet('${table}')`,
  );
  const texts: Uint8Array[] = [];
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const vectors = [0, 1, 2].map((i) => chunk!.getColumnVector(i) as DuckDBBlobVector);
    for (let row = 0; row < chunk.rowCount; row++) for (const vector of vectors) texts.push(vector.getItemBytes(row)!);
  }
  connection.closeSync();
  instance.closeSync();
  const offsets = new Uint32Array(texts.length + 1);
  texts.forEach((text, i) => (offsets[i + 1] = offsets[i] + text.length));
  const bytes = new Uint8Array(offsets[texts.length]);
  texts.forEach((text, i) => bytes.set(text, offsets[i]));
  const counter = new TextCounter(pythonCharKinds());
  const cosine = new TrigramCosine();
  let seconds = Infinity;
  for (let pass = 0; pass < count; pass++) {
    const start = performance.now();
    measureBatch({ rows: texts.length / 3, bytes, offsets, similarity: false }, counter, cosine);
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  return { seconds, steps: [`${(bytes.length / 1e6).toFixed(0)} MB of UTF-8`] };
}

function runChild(mode: string, table: string, dir: string, count: number): NodeRun {
  const output = execFileSync(process.execPath, ['--import', 'tsx', __filename, 'child', mode, table, dir, String(count)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output.toString().trim().split('\n').pop()!) as NodeRun;
}

async function child([mode, table, dir, count]: string[]): Promise<void> {
  const run =
    mode === 'in-memory'
      ? await childCountInMemory(table, Number(count))
      : await childBuild(table, dir, mode === 'full', Number(count), mode === 'counts-no-workers' ? 0 : undefined);
  console.log(JSON.stringify({ ...run, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

const rate = (rows: number, seconds: number) => `${Math.round(rows / seconds).toLocaleString('en-US')} rows/s (${seconds.toFixed(2)} s)`;
const stepSeconds = (run: NodeRun, step: string) => Number(new RegExp(`${step} (\\d+) ms`).exec(run.steps.join(', '))?.[1]) / 1000;

async function main(): Promise<void> {
  console.log(`cores: ${os.availableParallelism()}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const rows of SIZES) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-bench-'));
    try {
      const { table, texts } = await writeInput(rows, dir);
      const inMemory = runChild('in-memory', table, dir, 3);
      const counts = runChild('counts', table, dir, passes(rows));
      const noWorkers = runChild('counts-no-workers', table, dir, passes(rows));
      const full = runChild('full', table, dir, passes(rows) > 1 ? 2 : 1);
      const python = JSON.parse(execFileSync('python3', [PYTHON_REFERENCE, texts, String(passes(rows))]).toString()) as {
        read_seconds: number;
        seconds: number;
        rows_per_s: number;
        rows_per_s_with_read: number;
        peak_rss_mb: number;
      };
      const countStep = stepSeconds(counts, 'measure texts');
      const noWorkersStep = stepSeconds(noWorkers, 'measure texts');
      const ratio = (seconds: number) => `${(rows / seconds / python.rows_per_s).toFixed(1)}x`;
      console.log(`\n${rows.toLocaleString('en-US')} rows (${inMemory.steps[0]})`);
      console.log('  counting only (19 counts x 3 texts)');
      console.log(`    python re, texts in memory, 1 core:          ${rate(rows, python.seconds)}  peak RSS ${python.peak_rss_mb.toFixed(0)} MB`);
      console.log(`    node, texts in memory, 1 thread:             ${rate(rows, inMemory.seconds)}  ${ratio(inMemory.seconds)}  peak RSS ${inMemory.peakRssMb.toFixed(0)} MB`);
      console.log(`    node stage step, DuckDB -> ${os.availableParallelism()} workers -> DuckDB: ${rate(rows, countStep)}  ${ratio(countStep)}`);
      console.log(`    node stage step, no workers (main thread):   ${rate(rows, noWorkersStep)}  ${ratio(noWorkersStep)}`);
      console.log('  end to end');
      console.log(`    python, read JSON lines + count (no write):  ${rate(rows, python.read_seconds + python.seconds)}`);
      console.log(`    node, parquet -> 19x3 features -> parquet:   ${rate(rows, counts.seconds)}  ${ratio(counts.seconds)}  peak RSS ${counts.peakRssMb.toFixed(0)} MB`);
      console.log(`      steps: ${counts.steps.join(', ')}`);
      console.log(`    node, full stage (+ similarity, sentiment):  ${rate(rows, full.seconds)}  peak RSS ${full.peakRssMb.toFixed(0)} MB`);
      console.log(`      steps: ${full.steps.join(', ')}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (process.argv[2] === 'child') {
  child(process.argv.slice(3)).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
