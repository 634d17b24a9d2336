/**
 * Speed of the data stages' cores on the shared LMSYS sample replicated to ~57k rows (the size of
 * Kaggle's LMSYS train.csv): ingest (CSV + JSON lists), against Python's csv/json reading the same
 * file as a yardstick; then ingest of a synthetic WSDM parquet, augment (append) and split.
 * Run: npx tsx bench/ingest.ts [copies]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { augment } from '../activities/augment/augment';
import { generateSynthetic, ingest } from '../activities/ingest/ingest';
import { split } from '../activities/split/split';
import { SAMPLE_CSV } from '../test/fixtures/sample-splits';


/** The sample `copies` times over, each copy's ids and first prompt turn made unique so nothing dedups away. */
async function replicate(output: string, copies: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(
    `COPY (
      SELECT column0, id || '-' || k AS id, model_a, model_b, replace(prompt, '["', '["#' || k || ' ') AS prompt,
        response_a, response_b, winner_model_a, winner_model_b, winner_tie
      FROM read_csv($input, header = true, quote = '"', escape = '"', all_varchar = true), range($copies) AS t(k)
    ) TO $output (FORMAT csv, HEADER, QUOTE '"', ESCAPE '"', FORCE_QUOTE (prompt, response_a, response_b))`,
    { input: SAMPLE_CSV, output, copies },
  );
  connection.closeSync();
  instance.closeSync();
}

async function timed<T>(label: string, fn: () => Promise<T> | T): Promise<{ result: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const result = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(44)} ${seconds.toFixed(2)} s`);
  return { result, seconds };
}

async function main(): Promise<void> {
  const copies = Number(process.argv[2] ?? 57);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-bench-'));
  try {
    const csv = path.join(dir, 'train.csv');
    await replicate(csv, copies);
    const mb = fs.statSync(csv).size / 2 ** 20;
    console.log(`LMSYS CSV: ${copies * 1000} rows, ${mb.toFixed(0)} MiB`);

    const lmsys = await timed('ingest (DuckDB)', () =>
      ingest({ train: [{ format: 'lmsys', path: csv }], test: null, turnSeparator: '\n\n', outDir: path.join(dir, 'lmsys'), log: console.log }),
    );
    const python = `
import csv, json, sys
csv.field_size_limit(1 << 30)
flat = lambda s: '\\n\\n'.join(t for t in json.loads(s) if t is not None)
n = sum(1 for r in csv.DictReader(open(sys.argv[1], encoding='utf-8', newline=''))
        if r['winner_tie'] != '1' and (flat(r['prompt']), flat(r['response_a']), flat(r['response_b'])))
print(n)`;
    const reference = await timed('python csv+json read and flatten (yardstick)', () => execFileSync('python3', ['-c', python, csv]));
    console.log(`rows out ${lmsys.result.rows_out}; ingest / python time ratio ${(lmsys.seconds / reference.seconds).toFixed(2)}; ${(mb / lmsys.seconds).toFixed(0)} MiB/s`);

    const rows = copies * 1000;
    const trainPath = path.join(dir, 'syn', 'train.parquet');
    await timed(`generateSynthetic (${rows} rows)`, () =>
      generateSynthetic({ rows, testRows: rows / 10, seed: 1, trainPath, testPath: path.join(dir, 'syn', 'test.parquet') }),
    );
    await timed('ingest (WSDM parquet)', () =>
      ingest({ train: [{ format: 'wsdm', path: trainPath }], test: null, turnSeparator: '\n\n', outDir: path.join(dir, 'wsdm') }),
    );

    // Augment and split on the LMSYS rows with two stand-in feature columns.
    const features = path.join(dir, 'features.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT *, length(response_a)::DOUBLE AS len_a, length(response_b)::DOUBLE AS len_b FROM read_parquet($input)) TO $features (FORMAT parquet)`,
      { input: path.join(dir, 'lmsys', 'ingested.parquet'), features },
    );
    connection.closeSync();
    instance.closeSync();
    const columnsFile = path.join(dir, 'feature_columns.json');
    fs.writeFileSync(columnsFile, JSON.stringify({ columns: [{ name: 'len_a', swap: { with: 'len_b' } }, { name: 'len_b', swap: { with: 'len_a' } }] }));
    const augmented = path.join(dir, 'augmented.parquet');
    await timed('augment (append)', () => augment({ input: features, featureColumnsFile: columnsFile, mode: 'append', output: augmented }));
    await timed('split (stratified, 10% validation)', () =>
      split({
        input: augmented,
        validationSize: 0.1,
        sampleSize: null,
        seed: 42,
        stratifyByLanguage: true,
        trainOutput: path.join(dir, 'split', 'train.parquet'),
        validOutput: path.join(dir, 'split', 'valid.parquet'),
      }),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
