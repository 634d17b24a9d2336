import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { describeParquet, ident, literal, withDuckDB, writeAtomically } from '../../lib/duckdb';
import { featureColumnsJson } from '../../lib/feature-columns';
import { UserInputError } from '../../lib/errors';
import { codeFile } from '../../lib/stage-contract/code-file';
import {
  type ComputedFeatureColumn,
  type FeatureDefinition,
  type FeatureScope,
  featureColumns,
  parseFeatureDefinitions,
} from './feature-definitions';
import { loadSentimentLexicon } from './sentiment-lexicon';
import { measureTexts, TEXT_FIELDS, type TextField, textMeasuresOf } from './measure-texts';
import { TextMeasurePool } from './text-measure-pool';
import { labelTextLanguages } from './text-languages';

export interface BuildFeaturesOptions {
  /** Each input parquet (ingested.parquet or test.parquet) and where its features table goes. */
  inputs: { table: string; output: string }[];
  similarity: boolean;
  sentiment: boolean;
  featureColumnsFile: string;
  /** Worker threads that measure the texts; default: one per core. */
  threads?: number;
  /** Receives one line per step with its duration, for stage logs and the benchmark. */
  log?: (message: string) => void;
}

/**
 * A SQL file of per-text features: from one field's `texts` (row_idx, field, text) and
 * `text_measures` (measure-texts.ts), one row per (row_idx, field).
 */
export interface FeatureQuery {
  /** Absolute path of the `.sql` file. */
  file: string;
  scope: FeatureScope;
}

export function featureQueries(options: Pick<BuildFeaturesOptions, 'similarity' | 'sentiment'>): FeatureQuery[] {
  return [
    { file: codeFile(__dirname, 'text_features.sql'), scope: 'text' as const },
    { file: codeFile(__dirname, 'script_mix.sql'), scope: 'text' as const },
    { file: codeFile(__dirname, 'language.sql'), scope: 'response' as const },
    ...(options.similarity ? [{ file: codeFile(__dirname, 'similarity.sql'), scope: 'response' as const }] : []),
    ...(options.sentiment ? [{ file: codeFile(__dirname, 'sentiment.sql'), scope: 'response' as const }] : []),
  ];
}

const readSql = (file: string) => fs.readFileSync(file, 'utf8');

/** The feature definitions of the enabled feature SQL files, in column order. */
export function enabledFeatureDefinitions(options: Pick<BuildFeaturesOptions, 'similarity' | 'sentiment'>): FeatureDefinition[] {
  return featureQueries(options).flatMap((q) => parseFeatureDefinitions(readSql(q.file), q.scope, path.basename(q.file)));
}

/**
 * Row groups of 16,384 rows instead of DuckDB's 122,880: written in parallel (about 10% faster at
 * 100,000 rows on 2 cores) and scanned in parallel by the later stages. Snappy (the default)
 * stays: on the real sample zstd wrote 1.7x slower for 35% smaller files.
 */
const PARQUET_OPTIONS = 'FORMAT parquet, ROW_GROUP_SIZE 16384';

/**
 * Writes, for each input table, the table plus one DOUBLE column per feature, and
 * `feature_columns.json` with every feature column and its A/B swap rule. Outputs appear only
 * complete and all together (written to temporary names, renamed when every one is written).
 */
export async function buildFeatures(options: BuildFeaturesOptions): Promise<{ rows: number[]; featureColumns: string[]; sentimentScoredRows: number[] | null }> {
  const queries = featureQueries(options);
  const columns = featureColumns(enabledFeatureDefinitions(options));
  const outputs = [...options.inputs.map((input) => input.output), options.featureColumnsFile];
  const pool = new TextMeasurePool(options.threads);
  try {
    return await writeAtomically(outputs, (temps) =>
      withDuckDB(async (connection, instance) => {
        if (options.sentiment) await loadSentimentLexicon(connection);
        const rows: number[] = [];
        const scored: number[] = [];
        for (const [i, { table }] of options.inputs.entries()) {
          rows.push(await writeFeatureTable(instance, connection, pool, { table, output: temps[i]! }, queries, columns, options));
          if (options.sentiment) scored.push(await sentimentScoredRows(connection, temps[i]!));
        }
        fs.writeFileSync(temps.at(-1)!, featureColumnsJson(columns));
        return { rows, featureColumns: columns.map((c) => c.name), sentimentScoredRows: options.sentiment ? scored : null };
      }),
    );
  } finally {
    await pool.close();
  }
}

async function writeFeatureTable(
  instance: DuckDBInstance,
  connection: DuckDBConnection,
  pool: TextMeasurePool,
  { table, output }: { table: string; output: string },
  queries: FeatureQuery[],
  columns: ComputedFeatureColumn[],
  options: Pick<BuildFeaturesOptions, 'similarity' | 'log'>,
): Promise<number> {
  const log = options.log ?? (() => {});
  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await work();
    log(`features ${path.basename(table)}: ${step} ${Math.round(performance.now() - start)} ms`);
    return result;
  };
  await checkSource(connection, table, columns);
  // Read straight from the file by each step (only the columns it needs), never copied into a table.
  const scan = `read_parquet(${literal(table).text}, file_row_number = true)`;
  const rows = await timed('measure texts', () =>
    measureTexts(connection, scan, 'file_row_number', pool, { similarity: options.similarity }),
  );
  await timed('language ID', () => labelTextLanguages(connection, scan, 'file_row_number'));
  // One connection per field, so that the fields' queries run side by side: a scan of a parquet
  // row group is one thread, and the input usually has one row group.
  await timed('features per text', () =>
    Promise.all(
      TEXT_FIELDS.map(async (field) => {
        const fieldConnection = await instance.connect();
        try {
          await featuresOf(fieldConnection, field, scan, queries);
        } finally {
          fieldConnection.closeSync();
        }
      }),
    ),
  );
  const misaligned = await timed('check alignment', () => connection.runAndReadAll(
    `SELECT count(*) FROM (SELECT file_row_number FROM ${scan}) s ${TEXT_FIELDS.map((f) => `POSITIONAL JOIN features_${f}`).join(' ')}
     WHERE ${TEXT_FIELDS.map((f) => `features_${f}.row_idx IS DISTINCT FROM s.file_row_number`).join(' OR ')}`,
  ));
  if (Number(misaligned.getRows()[0][0]) !== 0) throw new Error(`${table}: feature rows out of step with input rows`);
  await timed('write', () => connection.run(`COPY (${featureTableSql(scan, columns)}) TO ${literal(output).text} (${PARQUET_OPTIONS})`));
  return rows;
}

/**
 * `features_<field>`: every feature of one text field (the enabled SQL files of its scope, over
 * that field's texts and measures), one row per input row, in input order.
 */
async function featuresOf(connection: DuckDBConnection, field: TextField, scan: string, queries: FeatureQuery[]): Promise<void> {
  await connection.run(fieldFeaturesSql(field, scan, queries));
}

/**
 * The statement that builds `features_<field>` from `text_measure_values` and `scan` (which has
 * `file_row_number`); exported so that the Kaggle package runs this very SQL (activities/package).
 */
export function fieldFeaturesSql(field: TextField, scan: string, queries: readonly FeatureQuery[]): string {
  const parts = queries
    .filter((q) => q.scope === 'text' || field !== 'prompt')
    .map((q, i) => `(\n${readSql(q.file)}\n) q${i}${i > 0 ? ' USING (row_idx, field)' : ''}`);
  return `CREATE OR REPLACE TABLE features_${field} AS
     WITH text_measures AS (${textMeasuresOf(field)}),
       texts AS (SELECT file_row_number AS row_idx, '${field}' AS field, ${field} AS text FROM ${scan})
     SELECT * FROM ${parts.join(' JOIN ')}
     ORDER BY row_idx`;
}

/** The input rows with every feature column, from the three `features_<field>` tables. */
export function featureTableSql(scan: string, columns: readonly ComputedFeatureColumn[]): string {
  return `SELECT s.* EXCLUDE (file_row_number), ${columns.map((c) => `${c.expression} AS ${ident(c.name).text}`).join(', ')}
             FROM ${scan} s POSITIONAL JOIN features_prompt p POSITIONAL JOIN features_response_a a POSITIONAL JOIN features_response_b b`;
}

/** Rows with a sentiment score for at least one response (its lexicon's language: sentiment.sql). */
async function sentimentScoredRows(connection: DuckDBConnection, features: string): Promise<number> {
  const reader = await connection.runAndReadAll(
    `SELECT count(*) FROM read_parquet(${literal(features).text}) WHERE response_a_sentiment_scored = 1 OR response_b_sentiment_scored = 1`,
  );
  return Number(reader.getRows()[0]![0]);
}

/** Checks the input has the text columns and no feature-named column. */
async function checkSource(connection: DuckDBConnection, table: string, columns: ComputedFeatureColumn[]): Promise<void> {
  const types = await describeParquet(connection, table);
  for (const field of TEXT_FIELDS) {
    if (!types.has(field)) throw new UserInputError(`${table}: missing column '${field}'`);
    if (types.get(field) !== 'VARCHAR') {
      throw new UserInputError(`${table}: column '${field}' is ${types.get(field)}, expected VARCHAR`);
    }
  }
  for (const name of [...columns.map((c) => c.name), 'file_row_number']) {
    if (types.has(name)) throw new UserInputError(`${table}: column '${name}' clashes with a feature column`);
  }
}
