import * as fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserInputError } from '../errors';
import { ident, requireColumns } from '../duckdb';
import { codeFile } from '../stage-contract/code-file';

/** A slice of the table in model input form; feature values are laid out row-major. */
export interface RowBatch {
  ids: string[];
  prompts: string[];
  responsesA: string[];
  responsesB: string[];
  features: Float32Array;
  size: number;
}

const TEXT_COLUMNS = ['prompt', 'response_a', 'response_b'] as const;
const READ_ROWS_SQL = fs.readFileSync(codeFile(__dirname, 'read-rows.sql'), 'utf8');

/**
 * Streams the table in batches of `batchSize` rows (the last one shorter), so memory stays
 * proportional to the batch and not to the table.
 */
export async function* readRowBatches(
  connection: DuckDBConnection,
  table: string,
  featureColumns: readonly string[],
  batchSize: number,
): AsyncGenerator<RowBatch> {
  await requireColumns(connection, table, ['id', ...TEXT_COLUMNS], featureColumns);
  const featureSql = featureColumns.map((name) => `, ${ident(name).text}::DOUBLE`).join('');
  const result = await connection.stream(READ_ROWS_SQL.replace('{{feature_columns}}', featureSql), { path: table });
  const featureCount = featureColumns.length;
  let batch = emptyBatch(batchSize, featureCount);
  let rowNumber = 0;
  for await (const chunk of result) {
    const columns = chunk.getColumns();
    for (let row = 0; row < chunk.rowCount; row++, rowNumber++) {
      const id = columns[0]![row];
      if (typeof id !== 'string') throw new UserInputError(`${table}: row ${rowNumber + 1}: column "id" is NULL`);
      const texts = TEXT_COLUMNS.map((name, k) => {
        const value = columns[k + 1]![row];
        if (typeof value !== 'string') throw new UserInputError(`${table}: row id "${id}": column "${name}" is NULL`);
        return value;
      });
      const offset = batch.size * featureCount;
      for (let f = 0; f < featureCount; f++) {
        const value = columns[f + 4]![row];
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new UserInputError(`${table}: row id "${id}": feature column "${featureColumns[f]}" is ${value === null ? 'NULL' : String(value)}`);
        }
        batch.features[offset + f] = value;
      }
      batch.ids.push(id);
      batch.prompts.push(texts[0]!);
      batch.responsesA.push(texts[1]!);
      batch.responsesB.push(texts[2]!);
      batch.size++;
      if (batch.size === batchSize) {
        yield batch;
        batch = emptyBatch(batchSize, featureCount);
      }
    }
  }
  if (batch.size > 0) yield { ...batch, features: batch.features.subarray(0, batch.size * featureCount) };
}

function emptyBatch(batchSize: number, featureCount: number): RowBatch {
  return { ids: [], prompts: [], responsesA: [], responsesB: [], features: new Float32Array(batchSize * featureCount), size: 0 };
}
