/**
 * The features stage's 19 counts x 3 texts against the Python reference (`re` as pandas
 * `str.count` applies it), on N rows replicated from the real LMSYS sample, measured in one run.
 *
 *   npx tsx bench/features.ts            # N = 10,000 and 100,000
 *   BENCH_ROWS=2000 npx tsx bench/features.ts
 *
 * Other work shares the machine, so each side reports its best of several passes (Python: 3 up to
 * 10,000 rows, 1 above, as one pass of 100,000 rows takes a minute or more).
 *
 * Each replica's texts get its replica number appended: DuckDB evaluates built-in functions once
 * per distinct value of a dictionary-encoded parquet column, so verbatim copies would flatter SQL.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildFeatures } from '../activities/features/build-features';

const SAMPLE = path.resolve(__dirname, '..', '..', 'shared', 'data', 'lmsys-sample', 'train_sample.csv');
const PYTHON_REFERENCE = path.join(__dirname, 'python_reference_features.py');
const SIZES = (process.env.BENCH_ROWS ?? '10000,100000').split(',').map(Number);
const NODE_PASSES = 3;
const pythonPasses = (rows: number) => (rows <= 10000 ? 3 : 1);
/** The full feature set (similarity, sentiment) is timed too up to this many rows. */
const FULL_SET_MAX_ROWS = Number(process.env.BENCH_FULL_SET_MAX_ROWS ?? 10000);

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

async function bestBuild(table: string, dir: string, full: boolean, passes: number): Promise<{ seconds: number; steps: string[] }> {
  let best = { seconds: Infinity, steps: [] as string[] };
  for (let pass = 0; pass < passes; pass++) {
    const run = await timeBuild(table, dir, full);
    if (run.seconds < best.seconds) best = run;
  }
  return best;
}

async function timeBuild(table: string, dir: string, full: boolean): Promise<{ seconds: number; steps: string[] }> {
  const steps: string[] = [];
  const start = performance.now();
  await buildFeatures({
    inputs: [{ table, output: path.join(dir, `features-${full}.parquet`) }],
    similarity: full,
    sentiment: full,
    featureColumnsFile: path.join(dir, 'feature_columns.json'),
    log: (line) => steps.push(line.replace(/^features \S+: /, '')),
  });
  return { seconds: (performance.now() - start) / 1000, steps };
}

async function main(): Promise<void> {
  console.log(`cores: ${os.availableParallelism()}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const rows of SIZES) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-bench-'));
    try {
      const { table, texts } = await writeInput(rows, dir);
      const counts = await bestBuild(table, dir, false, NODE_PASSES);
      const nodeRss = process.resourceUsage().maxRSS / 1024;
      const python = JSON.parse(execFileSync('python3', [PYTHON_REFERENCE, texts, String(pythonPasses(rows))]).toString()) as {
        seconds: number;
        rows_per_s: number;
        peak_rss_mb: number;
      };
      const nodeRate = rows / counts.seconds;
      const countStep = Number(/text_features\.sql (\d+) ms/.exec(counts.steps.join(' '))?.[1]) / 1000;
      console.log(`\n${rows} rows`);
      console.log(`  node (DuckDB + text_counts), read parquet -> 19x3 counts -> write parquet: ${nodeRate.toFixed(0)} rows/s (${counts.seconds.toFixed(2)} s)`);
      console.log(`    steps: ${counts.steps.join(', ')}`);
      console.log(`  python re (counting only, texts already in memory): ${python.rows_per_s.toFixed(0)} rows/s (${python.seconds.toFixed(2)} s)`);
      console.log(`  ratio node/python: ${(nodeRate / python.rows_per_s).toFixed(1)}x end to end, ${(rows / countStep / python.rows_per_s).toFixed(1)}x counting step alone`);
      console.log(`  peak RSS: node ${nodeRss.toFixed(0)} MB (process peak so far), python ${python.peak_rss_mb.toFixed(0)} MB`);
      if (rows <= FULL_SET_MAX_ROWS) {
        const full = await bestBuild(table, dir, true, 1);
        console.log(`  full feature set (+ similarity, sentiment): ${(rows / full.seconds).toFixed(0)} rows/s (${full.seconds.toFixed(2)} s); steps: ${full.steps.join(', ')}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
