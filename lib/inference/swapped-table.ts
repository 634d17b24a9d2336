import { code, ident, joinSql, loadSql, requireColumns, setVariables, withDuckDB, writeAtomically } from '../duckdb';
import { readFeatureColumns, swappedFeatureSql } from '../feature-columns';
import { codeFile } from '../stage-contract/code-file';

/**
 * Writes `output`: id, prompt, the responses exchanged and every feature of `feature_columns.json`
 * swapped by its rule (as the augment stage and the onnx path's TTA swap them), for a scorer that only
 * reads tables.
 */
export async function writeSwappedTable(table: string, featureColumnsFile: string, output: string): Promise<void> {
  const columns = readFeatureColumns(featureColumnsFile);
  const features = columns.map((column) => code(`, CAST(${swappedFeatureSql(column)} AS DOUBLE) AS ${ident(column.name).text}`));
  const sql = loadSql(codeFile(__dirname, 'swap-rows.sql'), { features: joinSql(features, '') });
  await writeAtomically([output], ([temp]) =>
    withDuckDB(async (connection) => {
      await requireColumns(connection, table, ['id', 'prompt', 'response_a', 'response_b'], columns.map((c) => c.name));
      await setVariables(connection, { input_path: table, output_path: temp! });
      await connection.run(sql);
    }),
  );
}
