import fs from 'node:fs';
import path from 'node:path';
import { dataSchema } from '../../lib/config/schema';
import { UserInputError } from '../../lib/errors';
import { loadSql, queryRows, setVariables, withDuckDB, writeAtomically } from '../../lib/duckdb';
import { buildReport, type IngestReport } from './report';
import { type InputFile, rowError, type SourceName, stageSource } from './read-source';
import { codeFile } from '../../lib/stage-contract/code-file';
import { detectMissingLanguages } from './detect-languages';

export type { IngestReport } from './report';
export type { InputFile } from './read-source';
export { generateSynthetic, type SyntheticOptions } from './synthetic';

export interface IngestOptions {
  /** Training files, in priority order: when rows repeat, the earliest file's row is kept. */
  train: InputFile[];
  /** The file to predict, or null. */
  test: InputFile | null;
  /** Joins the turns of a multi-turn LMSYS conversation into one text. */
  turnSeparator: string;
  /** Texts longer than this many characters are cut to it (data.max_text_chars); default: the config's default. */
  maxTextChars?: number;
  outDir: string;
  /** Receives one line per timed step (language ID), for stage logs and the benchmark. */
  log?: (message: string) => void;
}


/**
 * Reads WSDM parquet and LMSYS CSV files into the canonical tables: `ingested.parquet` (labelled,
 * deduplicated rows), `test.parquet` (when a test file is given) and `ingest_report.json`.
 *
 * Rows are dropped, each counted under one reason in this order: LMSYS ties, a missing label,
 * a blank prompt, a blank response, then duplicates (same prompt and same two responses in
 * either order; the first by source order then file order stays). A WSDM parquet file carrying
 * the key-value metadata `arena_source=synthetic` (as `generateSynthetic` writes) becomes source
 * 'synthetic'. Texts longer than `maxTextChars` characters are cut to it, their rows counted as
 * `truncated_rows`. Rows whose source gives no language get WSDM's label for their first user turn
 * (lib/language-id.ts), counted as detected in the report. Bad input throws `UserInputError` naming the file, the first offending row's id
 * and the column, and leaves none of the output files behind.
 */
export async function ingest(opts: IngestOptions): Promise<IngestReport> {
  if (opts.train.length === 0) throw new UserInputError('data.train: no training files given');
  const outDir = path.resolve(opts.outDir);
  const maxTextChars = opts.maxTextChars ?? dataSchema.shape.max_text_chars.parse(undefined);
  const finalPaths = [path.join(outDir, 'ingested.parquet'), path.join(outDir, 'ingest_report.json')];
  if (opts.test) finalPaths.push(path.join(outDir, 'test.parquet'));

  const report = await writeAtomically(finalPaths, ([ingestedTemp, reportTemp, testTemp]) =>
    withDuckDB(async (connection) => {
      await connection.run(loadSql(codeFile(__dirname, 'macros.sql')));
      await connection.run(loadSql(codeFile(__dirname, 'create-staged.sql')));
      await setVariables(connection, { turn_separator: opts.turnSeparator, max_text_chars: maxTextChars });

      const train: { input: InputFile; source: SourceName }[] = [];
      for (const [index, input] of opts.train.entries()) {
        train.push({ input, source: await stageSource(connection, input, index, 'train') });
      }
      const test = opts.test && { input: opts.test, source: await stageSource(connection, opts.test, 0, 'test') };
      const started = performance.now();
      const detected = (await detectMissingLanguages(connection, 'staged')) + (await detectMissingLanguages(connection, 'staged_test'));
      const seconds = (performance.now() - started) / 1000;
      opts.log?.(`language ID: ${detected} rows in ${seconds.toFixed(2)} s (${Math.round(detected / Math.max(seconds, 1e-9))} rows/s)`);

      await connection.run(loadSql(codeFile(__dirname, 'classify.sql')));
      const [repeated] = await queryRows(connection, loadSql(codeFile(__dirname, 'repeated-id.sql')));
      if (repeated) {
        const first = opts.train[Number(repeated.first_src_idx)]!.path;
        const file = opts.train[Number(repeated.src_idx)]!.path;
        throw rowError(file, Number(repeated.row_no), repeated.id, 'id', `repeats the id of row ${Number(repeated.first_row_no) + 1} of ${first}`);
      }

      const report = await buildReport(connection, train, test, opts.turnSeparator, maxTextChars);
      if (report.rows_out === 0) {
        throw new UserInputError(`${opts.train.map((input) => input.path).join(', ')}: no training rows left (dropped: ${JSON.stringify(report.dropped)})`);
      }
      await setVariables(connection, { output_path: ingestedTemp! });
      await connection.run(loadSql(codeFile(__dirname, 'write-ingested.sql')));
      if (testTemp) {
        await setVariables(connection, { output_path: testTemp });
        await connection.run(loadSql(codeFile(__dirname, 'write-test.sql')));
      }
      fs.writeFileSync(reportTemp!, `${JSON.stringify(report, null, 2)}\n`);
      return report;
    }),
  );
  // A test.parquet left by an earlier run with a test file would now be stale.
  if (!opts.test) fs.rmSync(path.join(outDir, 'test.parquet'), { force: true });
  return report;
}
