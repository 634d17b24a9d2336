import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { UserInputError } from './errors';

/**
 * The DuckDB plumbing shared by every stage, trainer and inference path that touches a table: a
 * connection scope, quoting, `.sql` files rendered from a tiny identifier-only template, session
 * variables for values, column checks and temp-name-then-rename writes. Nothing else opens DuckDB.
 */

/** SQL text that is safe to splice into a template; only the helpers below make one. */
export class SqlFragment {
  private constructor(readonly text: string) {}
  /** Internal constructor; `code` must be SQL written in this repository, never data. */
  static of(code: string): SqlFragment {
    return new SqlFragment(code);
  }
}

/** A quoted identifier: any name, quotes doubled. */
export function ident(name: string): SqlFragment {
  return SqlFragment.of(`"${name.replace(/"/g, '""')}"`);
}

/** A quoted string literal, for values that must be constant in the SQL text (file paths of table functions in DESCRIBE). */
export function literal(value: string): SqlFragment {
  return SqlFragment.of(`'${value.replace(/'/g, "''")}'`);
}

/** SQL written in this repository (a constant expression or clause). */
export function code(text: string): SqlFragment {
  return SqlFragment.of(text);
}

export function joinSql(parts: SqlFragment[], separator = ', '): SqlFragment {
  return SqlFragment.of(parts.map((part) => part.text).join(separator));
}

/**
 * Reads a `.sql` file (a `codeFile(__dirname, 'name.sql')`, so that its stage's code version covers
 * it) and fills its `{{name}}` placeholders; every placeholder must be given and every value used.
 */
export function loadSql(sqlFile: string, vars: Record<string, SqlFragment> = {}): string {
  const template = fs.readFileSync(sqlFile, 'utf8');
  const file = path.basename(sqlFile);
  const used = new Set<string>();
  const sql = template.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    const value = vars[name];
    if (!value) throw new Error(`${file}: no value for placeholder {{${name}}}`);
    used.add(name);
    return value.text;
  });
  const unused = Object.keys(vars).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`${file}: unused template values ${unused.join(', ')}`);
  return sql;
}

export type SqlValue = string | number | boolean | null;

/** Sets DuckDB session variables, read in scripts with `getvariable('name')`: values never enter SQL text. */
export async function setVariables(connection: DuckDBConnection, vars: Record<string, SqlValue>): Promise<void> {
  for (const [name, value] of Object.entries(vars)) {
    if (!/^\w+$/.test(name)) throw new Error(`bad variable name ${name}`);
    await connection.run(`SET VARIABLE ${name} = $value`, { value });
  }
}

/** Runs SQL (one or more statements) and returns the last statement's rows as plain JS objects. */
export async function queryRows(
  connection: DuckDBConnection,
  sql: string,
  params?: Record<string, SqlValue>,
): Promise<Record<string, unknown>[]> {
  const reader = await connection.runAndReadAll(sql, params);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/**
 * Opens an in-memory DuckDB for the duration of `fn`. `instance` is for callers that run queries
 * side by side on connections of their own (closed by them before `fn` returns).
 */
export async function withDuckDB<T>(fn: (connection: DuckDBConnection, instance: DuckDBInstance) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return await fn(connection, instance);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The columns of a parquet file, name to DuckDB type; a file DuckDB cannot read is a UserInputError. */
export async function describeParquet(connection: DuckDBConnection, file: string): Promise<Map<string, string>> {
  let rows: Record<string, unknown>[];
  try {
    rows = await queryRows(connection, 'DESCRIBE SELECT * FROM read_parquet($path)', { path: file });
  } catch (error) {
    throw new UserInputError(`${file}: cannot read as parquet: ${(error as Error).message.split('\n')[0]}`);
  }
  return new Map(rows.map((row) => [String(row['column_name']), String(row['column_type'])]));
}

/** Types that cast to DOUBLE for every value; a text column would fail mid-scan with a raw Conversion Error. */
const NUMERIC_TYPE = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|BOOLEAN)$/;

/**
 * Fails with the first missing column named, or the first of `numericColumns` (feature columns)
 * whose type is not a number, before any query depends on them.
 */
export async function requireColumns(connection: DuckDBConnection, file: string, columns: readonly string[], numericColumns: readonly string[] = []): Promise<void> {
  const present = await describeParquet(connection, file);
  const missing = [...columns, ...numericColumns].find((column) => !present.has(column));
  if (missing !== undefined) throw new UserInputError(`${file}: missing column "${missing}"`);
  const notNumber = numericColumns.find((column) => !NUMERIC_TYPE.test(present.get(column)!));
  if (notNumber !== undefined) throw new UserInputError(`${file}: feature column "${notNumber}" has type ${present.get(notNumber)}, expected a number`);
}

/** A temporary name beside `finalPath`, so that the closing rename stays on one file system. */
export function tempPathFor(finalPath: string): string {
  const suffix = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.tmp-${suffix}`);
}

/**
 * Writes several files through temporary names: `write` gets the temp path of each final path;
 * all are renamed into place only when it succeeds, and removed when it fails.
 */
export async function writeAtomically<T>(
  finalPaths: string[],
  write: (tempPaths: string[]) => Promise<T>,
): Promise<T> {
  const tempPaths = finalPaths.map(tempPathFor);
  for (const file of finalPaths) fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const result = await write(tempPaths);
    tempPaths.forEach((temp, i) => fs.renameSync(temp, finalPaths[i]!));
    return result;
  } finally {
    for (const temp of tempPaths) fs.rmSync(temp, { force: true });
  }
}
