import { DuckDBInstance } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

/** Runs SQL in a throwaway in-memory DuckDB and returns the last statement's rows: for writing and reading test tables. */
export async function sql(statement: string, params?: Record<string, string | number | boolean | null>): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(statement, params)).getRowObjectsJS() as Row[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every row of a parquet file, in file order. */
export const readParquet = (file: string): Promise<Row[]> => sql('SELECT * FROM read_parquet($file)', { file });
