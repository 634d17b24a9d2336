import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { code, describeParquet, ident, loadSql, queryRows, setVariables, withDuckDB, writeAtomically } from '../../lib/duckdb';
import { codeFile } from '../../lib/stage-contract/code-file';

export interface FoldsOptions {
  /** The split's train.parquet: rows with pair_id, swapped and (optionally) language. */
  input: string;
  /** k: folds 0..k-1. */
  folds: number;
  seed: number;
  /** folds.parquet (pair_id, fold). */
  output: string;
}

export interface FoldsReport {
  folds: number;
  seed: number;
  pairs: number;
  /** Pairs and rows of each fold, and its pairs per language. */
  per_fold: { fold: number; pairs: number; rows: number; languages: Record<string, number> }[];
}

/**
 * Deals the training pairs into k folds for the k-fold teachers: deterministic (the same input and
 * seed give the same folds), stratified by language, a pair and its swapped copy in one fold.
 */
export async function assignFolds(opts: FoldsOptions): Promise<FoldsReport> {
  if (!(Number.isInteger(opts.folds) && opts.folds >= 2)) throw new UserInputError(`distill.folds: must be an integer of at least 2, not ${opts.folds}`);
  return writeAtomically([path.resolve(opts.output)], ([output]) =>
    withDuckDB(async (connection) => {
      const columns = await describeParquet(connection, opts.input);
      for (const name of ['pair_id', 'swapped']) {
        if (!columns.has(name)) throw new UserInputError(`${opts.input}: missing required column '${name}' (is it a split's train.parquet?)`);
      }
      await setVariables(connection, { input_path: opts.input, seed: opts.seed, folds: opts.folds, output_path: output! });
      const language = columns.has('language') ? ident('language') : code('NULL::VARCHAR');
      await connection.run(loadSql(codeFile(__dirname, 'folds.sql'), { language }));
      const perFold: FoldsReport['per_fold'] = Array.from({ length: opts.folds }, (_, fold) => ({ fold, pairs: 0, rows: 0, languages: {} }));
      for (const row of await queryRows(connection, loadSql(codeFile(__dirname, 'report.sql')))) {
        const entry = perFold[Number(row['fold'])]!;
        entry.pairs += Number(row['pairs']);
        entry.rows += Number(row['rows']);
        entry.languages[String(row['language'])] = Number(row['pairs']);
      }
      const pairs = perFold.reduce((sum, f) => sum + f.pairs, 0);
      if (pairs < opts.folds) {
        throw new UserInputError(`${opts.input}: ${pairs} training pairs cannot fill distill.folds = ${opts.folds} folds; lower distill.folds or add data`);
      }
      await connection.run(loadSql(codeFile(__dirname, 'write-folds.sql')));
      return { folds: opts.folds, seed: opts.seed, pairs, per_fold: perFold };
    }),
  );
}
