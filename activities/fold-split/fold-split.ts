import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { loadSql, queryRows, setVariables, withDuckDB, writeAtomically } from '../../lib/duckdb';
import { codeFile } from '../../lib/stage-contract/code-file';

export interface FoldSplitOptions {
  /** The split's train.parquet. */
  train: string;
  /** The folds stage's folds.parquet. */
  folds: string;
  fold: number;
  trainOutput: string;
  validOutput: string;
}

/**
 * One fold's data for its teacher: train.parquet = the other folds' rows, valid.parquet = this
 * fold's rows (both orders), same columns and order as the split's train.parquet.
 */
export async function foldSplit(opts: FoldSplitOptions): Promise<{ fold: number; train_rows: number; valid_rows: number }> {
  if (!(Number.isInteger(opts.fold) && opts.fold >= 0)) throw new UserInputError(`params.fold: expected a fold number 0, 1, ..., not ${JSON.stringify(opts.fold)}`);
  const outputs = [path.resolve(opts.trainOutput), path.resolve(opts.validOutput)];
  return writeAtomically(outputs, ([trainTemp, validTemp]) =>
    withDuckDB(async (connection) => {
      await setVariables(connection, { train_path: opts.train, folds_path: opts.folds, fold: opts.fold });
      const [unassigned] = await queryRows(connection, loadSql(codeFile(__dirname, 'unassigned.sql')));
      if (Number(unassigned?.['pairs']) > 0) {
        throw new UserInputError(`${opts.folds}: ${unassigned!['pairs']} training pairs of ${opts.train} have no fold (first: "${unassigned!['first']}")`);
      }
      const side = async (validSide: boolean, output: string): Promise<number> => {
        await setVariables(connection, { valid_side: validSide, output_path: output });
        const [written] = await queryRows(connection, loadSql(codeFile(__dirname, 'write-side.sql')));
        return Number(written?.['Count'] ?? 0);
      };
      const trainRows = await side(false, trainTemp!);
      const validRows = await side(true, validTemp!);
      if (validRows === 0) throw new UserInputError(`${opts.folds}: fold ${opts.fold} has no rows (is it below distill.folds?)`);
      if (trainRows === 0) throw new UserInputError(`${opts.folds}: every training row is in fold ${opts.fold}; its teacher would have no training rows`);
      return { fold: opts.fold, train_rows: trainRows, valid_rows: validRows };
    }),
  );
}
