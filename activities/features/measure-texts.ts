import {
  DOUBLE,
  DuckDBBlobVector,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDoubleVector,
  DuckDBIntegerVector,
  DuckDBType,
  INTEGER,
} from '@duckdb/node-api';
import { TEXT_COUNT_NAMES } from './text-counts';
import { TextMeasurePool } from './text-measure-pool';
import { COUNTS_PER_TEXT, MeasuredBatch, RESPONSES_PER_ROW, TextBatch, TEXTS_PER_ROW } from './text-measures';

export const TEXT_FIELDS = ['prompt', 'response_a', 'response_b'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];
/** Rows of one DuckDB data chunk, the most a chunk can hold. */
const CHUNK_ROWS = 2048;

const countColumn = (field: TextField, count: string) => `${field}_${count}`;
const similarityColumn = (field: TextField) => `${field}_similarity`;
const RESPONSE_FIELDS = TEXT_FIELDS.slice(1);

/**
 * Measures every text of `relation` (columns prompt, response_a, response_b; NULL counts as empty;
 * `rowNumber` numbers its rows 0..n-1) into the table `text_measure_values`: one row per input row, in
 * row order, with `row_idx`, every field's counts (`<field>_<count>` INTEGER) and each response's
 * similarity with the prompt (`<response>_similarity` DOUBLE, 0 unless asked for). Returns n.
 * The texts leave DuckDB as UTF-8 bytes, one batch per data chunk; only their numbers come back.
 */
export async function measureTexts(
  connection: DuckDBConnection,
  relation: string,
  rowNumber: string,
  pool: TextMeasurePool,
  options: { similarity: boolean },
): Promise<number> {
  // A row's texts leave DuckDB as one blob: each blob is a native call and an allocation.
  const result = await connection.stream(
    `SELECT ${TEXT_FIELDS.map((f) => `strlen(${f})::INTEGER`).join(', ')}, encode(${TEXT_FIELDS.join(' || ')}), row_number
     FROM (SELECT ${TEXT_FIELDS.map((f) => `coalesce(${f}, '') AS ${f}`).join(', ')}, ${rowNumber}::INTEGER AS row_number FROM ${relation})`,
  );
  const measuring: Promise<{ rowIdx: Int32Array; measured: MeasuredBatch }>[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const batch = packTexts(chunk, options.similarity);
    const rowNumbers = chunk.getColumnVector(TEXTS_PER_ROW + 1) as DuckDBIntegerVector;
    const rowIdx = Int32Array.from({ length: batch.rows }, (_, row) => rowNumbers.getItem(row)!);
    await pool.ready();
    const measured = pool.measure(batch).then((m) => ({ rowIdx, measured: m }));
    // Reported by Promise.all below, or not at all when reading fails first.
    measured.catch(() => {});
    measuring.push(measured);
  }
  const inRowOrder = inputOrder(await Promise.all(measuring));
  // Appended only once the scan is over: the appender shares the connection, and using it
  // mid-stream ends the streamed result early.
  await appendMeasures(connection, inRowOrder);
  return inRowOrder.rows;
}

/** `text_measure_values` as one field's SQL sees it (its `text_measures`): row_idx, field, the counts by name, similarity. */
export function textMeasuresOf(field: TextField): string {
  return `SELECT row_idx, '${field}' AS field, ${TEXT_COUNT_NAMES.map((c) => `${countColumn(field, c)} AS ${c}`).join(', ')},
    ${field === 'prompt' ? '0::DOUBLE' : similarityColumn(field)} AS similarity
    FROM text_measure_values`;
}

/** One chunk's texts, copied once into a buffer that moves to a worker without another copy. */
function packTexts(chunk: DuckDBDataChunk, similarity: boolean): TextBatch {
  const rows = chunk.rowCount;
  const lengths = TEXT_FIELDS.map((_, i) => chunk.getColumnVector(i) as DuckDBIntegerVector);
  const joined = chunk.getColumnVector(TEXTS_PER_ROW) as DuckDBBlobVector;
  const offsets = new Uint32Array(rows * TEXTS_PER_ROW + 1);
  let size = 0;
  for (let row = 0; row < rows; row++) {
    for (let field = 0; field < TEXTS_PER_ROW; field++) {
      size += lengths[field].getItem(row)!;
      offsets[row * TEXTS_PER_ROW + field + 1] = size;
    }
  }
  const bytes = new Uint8Array(size);
  for (let row = 0; row < rows; row++) bytes.set(joined.getItemBytes(row)!, offsets[row * TEXTS_PER_ROW]);
  return { rows, bytes, offsets, similarity };
}

/** Every batch's measures placed at their rows: a parallel scan hands out chunks in no fixed order. */
function inputOrder(batches: { rowIdx: Int32Array; measured: MeasuredBatch }[]): MeasuredBatch & { rows: number } {
  const rows = batches.reduce((sum, b) => sum + b.rowIdx.length, 0);
  const perRow = TEXTS_PER_ROW * COUNTS_PER_TEXT;
  const counts = new Int32Array(rows * perRow);
  const similarity = new Float64Array(rows * RESPONSES_PER_ROW);
  const seen = new Uint8Array(rows);
  for (const { rowIdx, measured } of batches) {
    rowIdx.forEach((row, i) => {
      if (!(row >= 0 && row < rows) || seen[row]) throw new Error(`row number ${row} out of range or repeated among ${rows} rows`);
      seen[row] = 1;
      counts.set(measured.counts.subarray(i * perRow, (i + 1) * perRow), row * perRow);
      similarity.set(measured.similarity.subarray(i * RESPONSES_PER_ROW, (i + 1) * RESPONSES_PER_ROW), row * RESPONSES_PER_ROW);
    });
  }
  return { rows, counts, similarity };
}

async function appendMeasures(connection: DuckDBConnection, { rows, counts, similarity }: MeasuredBatch & { rows: number }): Promise<void> {
  const columns: [string, DuckDBType][] = [
    ['row_idx', INTEGER],
    ...TEXT_FIELDS.flatMap((f) => TEXT_COUNT_NAMES.map((c): [string, DuckDBType] => [countColumn(f, c), INTEGER])),
    ...RESPONSE_FIELDS.map((f): [string, DuckDBType] => [similarityColumn(f), DOUBLE]),
  ];
  await connection.run(`CREATE OR REPLACE TABLE text_measure_values (${columns.map(([name, type]) => `${name} ${type}`).join(', ')})`);
  const appender = await connection.createAppender('text_measure_values');
  try {
    const perRow = TEXTS_PER_ROW * COUNTS_PER_TEXT;
    for (let from = 0; from < rows; from += CHUNK_ROWS) {
      const size = Math.min(CHUNK_ROWS, rows - from);
      const chunk = DuckDBDataChunk.create(columns.map(([, type]) => type), size);
      const rowColumn = chunk.getColumnVector(0) as DuckDBIntegerVector;
      for (let i = 0; i < size; i++) rowColumn.setItem(i, from + i);
      rowColumn.flush();
      for (let c = 0; c < perRow; c++) {
        const column = chunk.getColumnVector(1 + c) as DuckDBIntegerVector;
        for (let i = 0; i < size; i++) column.setItem(i, counts[(from + i) * perRow + c]);
        column.flush();
      }
      for (let r = 0; r < RESPONSES_PER_ROW; r++) {
        const column = chunk.getColumnVector(1 + perRow + r) as DuckDBDoubleVector;
        for (let i = 0; i < size; i++) column.setItem(i, similarity[(from + i) * RESPONSES_PER_ROW + r]);
        column.flush();
      }
      appender.appendDataChunk(chunk);
      // Filling a chunk is synchronous work: yield between chunks so the stage's heartbeat timer
      // fires however many rows there are (3.5 s without at 100,000 rows on a busy 2-core machine).
      await new Promise((resolve) => setImmediate(resolve));
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
