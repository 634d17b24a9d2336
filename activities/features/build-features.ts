import fs from 'node:fs';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { UserInputError } from '../../lib/errors';
import {
  FeatureColumn,
  FeatureDefinition,
  FeatureScope,
  featureColumns,
  parseFeatureDefinitions,
} from './feature-definitions';
import { loadSentimentLexicon } from './sentiment-lexicon';
import { measureTexts, TextMeasurePool } from './measure-texts';

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

/** A SQL file that turns the `texts` view into one row per (row_idx, field) of features. */
interface FeatureQuery {
  file: string;
  scope: FeatureScope;
}

const TEXT_FIELDS = ['prompt', 'response_a', 'response_b'] as const;

function featureQueries(options: Pick<BuildFeaturesOptions, 'similarity' | 'sentiment'>): FeatureQuery[] {
  return [
    { file: 'text_features.sql', scope: 'text' as const },
    ...(options.similarity ? [{ file: 'similarity.sql', scope: 'response' as const }] : []),
    ...(options.sentiment ? [{ file: 'sentiment.sql', scope: 'response' as const }] : []),
  ];
}

const readSql = (file: string) => fs.readFileSync(path.join(__dirname, file), 'utf8');

/** The feature definitions of the enabled feature SQL files, in column order. */
export function enabledFeatureDefinitions(options: Pick<BuildFeaturesOptions, 'similarity' | 'sentiment'>): FeatureDefinition[] {
  return featureQueries(options).flatMap((q) => parseFeatureDefinitions(readSql(q.file), q.scope, q.file));
}

const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * Writes, for each input table, the table plus one DOUBLE column per feature, and
 * `feature_columns.json` with every feature column and its A/B swap rule. Outputs appear only
 * complete (written to a temporary name, then renamed).
 */
export async function buildFeatures(options: BuildFeaturesOptions): Promise<{ rows: number[]; featureColumns: string[] }> {
  const queries = featureQueries(options);
  const columns = featureColumns(enabledFeatureDefinitions(options));
  const pool = new TextMeasurePool(options.threads);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    if (options.sentiment) await loadSentimentLexicon(connection);
    const rows: number[] = [];
    for (const input of options.inputs) {
      rows.push(await writeFeatureTable(connection, pool, input, queries, columns, options));
    }
    writeFileAtomic(
      options.featureColumnsFile,
      `${JSON.stringify({ columns: columns.map(({ name, swap }) => ({ name, swap })) }, null, 2)}\n`,
    );
    return { rows, featureColumns: columns.map((c) => c.name) };
  } finally {
    connection.closeSync();
    instance.closeSync();
    await pool.close();
  }
}

async function writeFeatureTable(
  connection: DuckDBConnection,
  pool: TextMeasurePool,
  { table, output }: { table: string; output: string },
  queries: FeatureQuery[],
  columns: FeatureColumn[],
  options: Pick<BuildFeaturesOptions, 'similarity' | 'log'>,
): Promise<number> {
  const log = options.log ?? (() => {});
  const timed = async (step: string, work: () => Promise<unknown>) => {
    const start = performance.now();
    await work();
    log(`features ${path.basename(table)}: ${step} ${Math.round(performance.now() - start)} ms`);
  };
  await timed('read', () => loadSource(connection, table, columns));
  await timed('measure texts', () => measureTexts(connection, 'source', 'file_row_number', pool, { similarity: options.similarity }));
  await connection.run(
    `CREATE OR REPLACE TEMP VIEW texts AS ${TEXT_FIELDS.map(
      (field) => `SELECT file_row_number AS row_idx, '${field}' AS field, ${field} AS text FROM source`,
    ).join(' UNION ALL ')}`,
  );
  const tables = queries.map((_, i) => `feature_part_${i}`);
  for (const [i, query] of queries.entries()) {
    await timed(query.file, () => connection.run(`CREATE OR REPLACE TEMP TABLE ${tables[i]} AS ${readSql(query.file)}`));
  }
  await timed('pivot', () => pivotFeatures(connection, tables, columns));
  const misaligned = await connection.runAndReadAll(
    'SELECT count(*) FROM source s POSITIONAL JOIN features_wide w WHERE w.row_idx IS DISTINCT FROM s.file_row_number',
  );
  if (Number(misaligned.getRows()[0][0]) !== 0) throw new Error(`${table}: feature rows out of step with input rows`);
  const temporary = `${output}.tmp-${process.pid}`;
  try {
    await timed('write', () =>
      connection.run(
        `COPY (SELECT s.* EXCLUDE (file_row_number), w.* EXCLUDE (row_idx) FROM source s POSITIONAL JOIN features_wide w)
         TO ${quoteLiteral(temporary)} (FORMAT parquet)`,
      ),
    );
    fs.renameSync(temporary, output);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  const count = await connection.runAndReadAll('SELECT count(*) FROM source');
  return Number(count.getRows()[0][0]);
}

/** `features_wide`: one row per input row, in input order, with every feature column. */
async function pivotFeatures(connection: DuckDBConnection, tables: string[], columns: FeatureColumn[]): Promise<void> {
  // One row per (row, text); response-only features are NULL on the prompt row, which no column reads.
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE features_long AS SELECT * FROM ${tables[0]} ${tables
      .slice(1)
      .map((t) => `LEFT JOIN ${t} USING (row_idx, field)`)
      .join(' ')}`,
  );
  // In input order, so that the wide texts need no sort: they are joined by position.
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE features_wide AS
     SELECT p.row_idx, ${columns.map((c) => `${c.expression} AS ${c.name}`).join(', ')}
     FROM features_long p
     JOIN features_long a ON a.row_idx = p.row_idx AND a.field = 'response_a'
     JOIN features_long b ON b.row_idx = p.row_idx AND b.field = 'response_b'
     WHERE p.field = 'prompt'
     ORDER BY p.row_idx`,
  );
}

/** Reads the input into `source`, after checking it has the text columns and no feature-named column. */
async function loadSource(connection: DuckDBConnection, table: string, columns: FeatureColumn[]): Promise<void> {
  let described;
  try {
    described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quoteLiteral(table)})`);
  } catch (error) {
    throw new UserInputError(`${table}: cannot read as parquet: ${(error as Error).message}`);
  }
  const types = new Map(described.getRowObjects().map((r) => [String(r.column_name), String(r.column_type)]));
  for (const field of TEXT_FIELDS) {
    if (!types.has(field)) throw new UserInputError(`${table}: missing column '${field}'`);
    if (types.get(field) !== 'VARCHAR') {
      throw new UserInputError(`${table}: column '${field}' is ${types.get(field)}, expected VARCHAR`);
    }
  }
  for (const name of [...columns.map((c) => c.name), 'file_row_number']) {
    if (types.has(name)) throw new UserInputError(`${table}: column '${name}' clashes with a feature column`);
  }
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE source AS SELECT * FROM read_parquet(${quoteLiteral(table)}, file_row_number = true)`,
  );
}

function writeFileAtomic(file: string, content: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(temporary, content);
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}
