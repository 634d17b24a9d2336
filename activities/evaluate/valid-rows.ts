import * as fs from 'node:fs';
import { requireColumns, withDuckDB } from '../../lib/duckdb';
import { UserInputError } from '../../lib/errors';
import { codeFile } from '../../lib/stage-contract/code-file';

/** Labels and grouping columns of the validation rows, aligned with a given id order. */
export interface ValidRows {
  labels: Uint8Array;
  languages: string[];
  sources: string[];
  lengthA: Int32Array;
  lengthB: Int32Array;
}

const VALID_ROWS_SQL = fs.readFileSync(codeFile(__dirname, 'valid-rows.sql'), 'utf8');

export async function readValidRows(table: string, ids: readonly string[]): Promise<ValidRows> {
  return withDuckDB(async (connection) => {
    await requireColumns(connection, table, ['id', 'winner', 'language', 'source', 'response_a', 'response_b']);
    const rows = (await connection.runAndReadAll(VALID_ROWS_SQL, { path: table })).getRowObjectsJS();
    const byId = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      const id = String(row['id']);
      if (byId.has(id)) throw new UserInputError(`${table}: row id "${id}" appears more than once`);
      byId.set(id, row);
    }
    const valid: ValidRows = {
      labels: new Uint8Array(ids.length),
      languages: [],
      sources: [],
      lengthA: new Int32Array(ids.length),
      lengthB: new Int32Array(ids.length),
    };
    ids.forEach((id, i) => {
      // predict() read the same file, so every id is there.
      const row = byId.get(id)!;
      const winner = row['winner'];
      if (winner !== 'model_a' && winner !== 'model_b') {
        throw new UserInputError(`${table}: row id "${id}": column "winner" is ${JSON.stringify(winner)}, expected "model_a" or "model_b"`);
      }
      valid.labels[i] = winner === 'model_a' ? 1 : 0;
      valid.languages.push(String(row['language']));
      valid.sources.push(String(row['source']));
      valid.lengthA[i] = Number(row['length_a'] ?? 0);
      valid.lengthB[i] = Number(row['length_b'] ?? 0);
    });
    return valid;
  });
}
