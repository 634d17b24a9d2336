import { UserInputError } from '../errors';
import { loadSql, queryRows, requireColumns, setVariables, withDuckDB } from '../duckdb';
import { codeFile } from '../stage-contract/code-file';

const READ_PREDICTIONS_SQL = loadSql(codeFile(__dirname, 'read-predictions.sql'));

/** The ids of `table` in file order and the p_a `predictions.parquet` gives each; every row must be scored once. */
export async function readTrainerPredictions(table: string, predictions: string): Promise<{ ids: string[]; pA: Float64Array }> {
  return withDuckDB(async (connection) => {
    await requireColumns(connection, predictions, ['id', 'p_a']);
    await setVariables(connection, { table_path: table, predictions_path: predictions });
    const rows = await queryRows(connection, READ_PREDICTIONS_SQL);
    const pA = new Float64Array(rows.length);
    const ids = rows.map((row, i) => {
      if (row['id'] === null) throw new UserInputError(`${table}: row ${i + 1}: column "id" is NULL`);
      const id = String(row['id']);
      const p = row['p_a'];
      if (Number(row['scored']) !== 1) throw new UserInputError(`${predictions}: row id "${id}" of ${table} is scored ${Number(row['scored'])} times, not once`);
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new UserInputError(`${predictions}: row id "${id}": p_a is ${String(p)}, not a probability`);
      pA[i] = p;
      return id;
    });
    return { ids, pA };
  });
}
