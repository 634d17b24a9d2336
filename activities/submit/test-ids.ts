import * as fs from 'node:fs';
import { requireColumns, withDuckDB } from '../../lib/duckdb';
import { UserInputError } from '../../lib/errors';
import { codeFile } from '../../lib/stage-contract/code-file';

const TEST_IDS_SQL = fs.readFileSync(codeFile(__dirname, 'test-ids.sql'), 'utf8');

/** The test table's ids; a NULL or repeated id makes a valid submission impossible, so it is refused here. */
export async function readTestIds(testTable: string): Promise<string[]> {
  return withDuckDB(async (connection) => {
    await requireColumns(connection, testTable, ['id']);
    const values = (await connection.runAndReadAll(TEST_IDS_SQL, { path: testTable })).getColumnsJS()[0] ?? [];
    const seen = new Set<string>();
    return values.map((value, row) => {
      if (value === null) throw new UserInputError(`${testTable}: row ${row + 1}: column "id" is NULL`);
      const id = String(value);
      if (seen.has(id)) throw new UserInputError(`${testTable}: id "${id}" appears more than once`);
      seen.add(id);
      return id;
    });
  });
}
