import type { DuckDBConnection } from '@duckdb/node-api';
import { UserInputError } from '../errors';

/** Double quotes make any column name a safe SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Types that cast to DOUBLE for every value; a text column would fail mid-scan with a raw Conversion Error. */
const NUMERIC_TYPE = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|BOOLEAN)$/;

/**
 * Fails with the first missing column named, or the first of `numericColumns` (feature columns)
 * whose type is not a number, before any query depends on them.
 */
export async function requireColumns(
  connection: DuckDBConnection,
  parquetFile: string,
  columns: readonly string[],
  numericColumns: readonly string[] = [],
): Promise<void> {
  let present: Map<string, string>;
  try {
    const reader = await connection.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($1)', [parquetFile]);
    present = new Map(reader.getRowObjects().map((row) => [String(row['column_name']), String(row['column_type'])]));
  } catch (err) {
    throw new UserInputError(`${parquetFile}: cannot read as parquet (${(err as Error).message})`);
  }
  const missing = [...columns, ...numericColumns].find((column) => !present.has(column));
  if (missing !== undefined) throw new UserInputError(`${parquetFile}: missing column "${missing}"`);
  const notNumber = numericColumns.find((column) => !NUMERIC_TYPE.test(present.get(column)!));
  if (notNumber !== undefined) {
    throw new UserInputError(`${parquetFile}: feature column "${notNumber}" has type ${present.get(notNumber)}, expected a number`);
  }
}
