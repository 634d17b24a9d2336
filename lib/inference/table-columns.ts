import type { DuckDBConnection } from '@duckdb/node-api';
import { UserInputError } from '../errors';

/** Double quotes make any column name a safe SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Fails with the first missing column named, before any query depends on it. */
export async function requireColumns(connection: DuckDBConnection, parquetFile: string, columns: readonly string[]): Promise<void> {
  let present: Set<string>;
  try {
    const reader = await connection.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($1)', [parquetFile]);
    present = new Set(reader.getRowObjects().map((row) => String(row['column_name'])));
  } catch (err) {
    throw new UserInputError(`${parquetFile}: cannot read as parquet (${(err as Error).message})`);
  }
  const missing = columns.find((column) => !present.has(column));
  if (missing !== undefined) throw new UserInputError(`${parquetFile}: missing column "${missing}"`);
}
