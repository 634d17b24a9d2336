import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { code, describeParquet, ident, loadSql, queryRows, setVariables, withDuckDB, writeAtomically } from '../../lib/duckdb';
import { codeFile } from '../../lib/stage-contract/code-file';

export interface SplitOptions {
  /** augmented.parquet */
  input: string;
  /** Fraction of pairs held out, in (0, 1). */
  validationSize: number;
  /** Keep at most this many pairs (a deterministic sample), or null for all. */
  sampleSize: number | null;
  seed: number;
  stratifyByLanguage: boolean;
  trainOutput: string;
  validOutput: string;
}

export type SplitSide = { pairs: number; rows: number };

export type SplitReport = {
  seed: number;
  validation_size: number;
  sample_size: number | null;
  stratify_by_language: boolean;
  pairs_in: number;
  pairs_used: number;
  train: SplitSide;
  valid: SplitSide;
  /** Pairs per language on each side. */
  languages: { [language: string]: { train: number; valid: number } };
};


/**
 * Splits `augmented.parquet` into `train.parquet` and `valid.parquet` by pair: a row and its
 * swapped copy always land on the same side, and validation keeps only original rows. Pairs are
 * ranked by md5(`<seed>:<pair_id>`); `sampleSize` keeps the first pairs in that order, and the
 * first round(n * validationSize) pairs of each stratum (each language, or all pairs) go to
 * validation. The same input and seed give the same split.
 */
export async function split(opts: SplitOptions): Promise<SplitReport> {
  if (!(opts.validationSize > 0 && opts.validationSize < 1)) {
    throw new UserInputError(`data.validation_size: must be between 0 and 1, not ${opts.validationSize}`);
  }
  if (opts.sampleSize !== null && !(Number.isInteger(opts.sampleSize) && opts.sampleSize > 0)) {
    throw new UserInputError(`data.sample_size: must be a positive integer or null, not ${opts.sampleSize}`);
  }
  const outputs = [path.resolve(opts.trainOutput), path.resolve(opts.validOutput)];
  return writeAtomically(outputs, ([trainTemp, validTemp]) =>
    withDuckDB(async (connection) => {
      await setVariables(connection, {
        input_path: opts.input,
        seed: opts.seed,
        sample_size: opts.sampleSize,
        validation_size: opts.validationSize,
      });
      const columns = await describeParquet(connection, opts.input);
      for (const name of ['pair_id', 'swapped']) {
        if (!columns.has(name)) throw new UserInputError(`${opts.input}: missing required column '${name}' (is it augmented?)`);
      }
      if (opts.stratifyByLanguage && !columns.has('language')) {
        throw new UserInputError(`${opts.input}: missing column 'language', needed by data.stratify_by_language`);
      }

      const language = columns.has('language') ? ident('language') : code("'unknown'");
      await connection.run(loadSql(codeFile(__dirname, 'pairs.sql'), { language, stratum: code(opts.stratifyByLanguage ? 'language' : 'true') }));

      const side = async (validSide: boolean, output: string): Promise<number> => {
        await setVariables(connection, { valid_side: validSide, output_path: output });
        const [written] = await queryRows(connection, loadSql(codeFile(__dirname, 'write-side.sql')));
        return Number(written?.Count ?? 0);
      };
      const trainRows = await side(false, trainTemp!);
      const validRows = await side(true, validTemp!);

      const languages: SplitReport['languages'] = {};
      for (const row of await queryRows(connection, loadSql(codeFile(__dirname, 'report.sql')))) {
        languages[String(row.language)] = { train: Number(row.train_pairs), valid: Number(row.valid_pairs) };
      }
      const counts = Object.values(languages);
      const trainPairs = counts.reduce((sum, n) => sum + n.train, 0);
      const validPairs = counts.reduce((sum, n) => sum + n.valid, 0);
      const [{ pairs_in } = { pairs_in: 0 }] = await queryRows(connection, 'SELECT count(*)::INTEGER AS pairs_in FROM pairs');
      if (trainPairs === 0 || validPairs === 0) {
        throw new UserInputError(
          `${opts.input}: splitting ${trainPairs + validPairs} pairs with validation_size ${opts.validationSize} leaves the ${trainPairs === 0 ? 'training' : 'validation'} side empty`,
        );
      }
      return {
        seed: opts.seed,
        validation_size: opts.validationSize,
        sample_size: opts.sampleSize,
        stratify_by_language: opts.stratifyByLanguage,
        pairs_in: Number(pairs_in),
        pairs_used: trainPairs + validPairs,
        train: { pairs: trainPairs, rows: trainRows },
        valid: { pairs: validPairs, rows: validRows },
        languages,
      };
    }),
  );
}
