import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { code, describeParquet, ident, joinSql, loadSql, queryRows, setVariables, type SqlFragment, withDuckDB, writeAtomically } from '../../lib/duckdb';
import { type FeatureColumn, readFeatureColumns, swappedFeatureSql } from '../../lib/feature-columns';
import { codeFile } from '../../lib/stage-contract/code-file';

export type AugmentMode = 'none' | 'append' | 'alternate' | 'per_gpu';

export interface AugmentOptions {
  /** features.parquet */
  input: string;
  /** feature_columns.json */
  featureColumnsFile: string;
  mode: AugmentMode;
  /** augmented.parquet */
  output: string;
}

/** Columns the swap always rewrites; a feature may not reuse their names. */
const SWAPPED_BASE_COLUMNS = ['id', 'response_a', 'response_b', 'winner', 'model_a', 'model_b'];
const NUMERIC_TYPES = /^(DOUBLE|FLOAT|REAL|DECIMAL.*|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;

/** The REPLACE list that turns a row into its A/B-swapped copy. */
function swapReplacements(columns: Map<string, string>, features: FeatureColumn[]): SqlFragment {
  const swapPair = (a: string, b: string): SqlFragment[] => [
    code(`${ident(b).text} AS ${ident(a).text}`),
    code(`${ident(a).text} AS ${ident(b).text}`),
  ];
  const parts: SqlFragment[] = [
    code(`CAST(${ident('id').text} AS VARCHAR) || '#swap' AS ${ident('id').text}`),
    ...swapPair('response_a', 'response_b'),
    code(`CASE ${ident('winner').text} WHEN 'model_a' THEN 'model_b' WHEN 'model_b' THEN 'model_a' END AS ${ident('winner').text}`),
  ];
  if (columns.has('model_a') && columns.has('model_b')) parts.push(...swapPair('model_a', 'model_b'));
  for (const feature of features) {
    if (feature.swap !== 'keep') parts.push(code(`${swappedFeatureSql(feature)} AS ${ident(feature.name).text}`));
  }
  return joinSql(parts);
}

function checkColumns(input: string, featureFile: string, columns: Map<string, string>, features: FeatureColumn[]): void {
  for (const name of ['id', 'response_a', 'response_b', 'winner']) {
    if (!columns.has(name)) throw new UserInputError(`${input}: missing required column '${name}'`);
  }
  for (const name of ['pair_id', 'swapped']) {
    if (columns.has(name)) throw new UserInputError(`${input}: column '${name}' already exists (is this file augmented already?)`);
  }
  features.forEach((feature, i) => {
    if (SWAPPED_BASE_COLUMNS.includes(feature.name)) {
      throw new UserInputError(`${featureFile}: key 'columns[${i}].name': '${feature.name}' is a base column, not a feature`);
    }
    const type = columns.get(feature.name);
    if (type === undefined) throw new UserInputError(`${featureFile}: key 'columns[${i}].name': column '${feature.name}' is not in ${input}`);
    if (!NUMERIC_TYPES.test(type)) throw new UserInputError(`${input}: feature column '${feature.name}' has type ${type}, expected a number`);
  });
}

/**
 * Writes `augmented.parquet`: the features table plus `pair_id` (the original id) and `swapped`.
 * Mode none writes the originals only. Modes append, alternate and per_gpu all write each original
 * followed by its swapped copy (id `<id>#swap`, responses, models and A/B features swapped per
 * feature_columns.json, label flipped); the trainer decides which rows each epoch or shard uses
 * (append: all; alternate: originals on even epochs, swapped copies on odd ones; per_gpu: swapped
 * copies on odd shards).
 */
export async function augment(opts: AugmentOptions): Promise<{ rows: number; swappedRows: number }> {
  const features = readFeatureColumns(opts.featureColumnsFile);
  const output = path.resolve(opts.output);
  return writeAtomically([output], ([temp]) =>
    withDuckDB(async (connection) => {
      await setVariables(connection, { input_path: opts.input, output_path: temp!, with_swapped: opts.mode !== 'none' });
      const columns = await describeParquet(connection, opts.input);
      checkColumns(opts.input, opts.featureColumnsFile, columns, features);
      const [written] = await queryRows(connection, loadSql(codeFile(__dirname, 'augment.sql'), { swap: swapReplacements(columns, features) }));
      const rows = Number(written?.Count ?? 0);
      return { rows, swappedRows: opts.mode === 'none' ? 0 : rows / 2 };
    }),
  );
}
