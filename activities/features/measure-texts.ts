import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  DOUBLE,
  DuckDBAppender,
  DuckDBBlobVector,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDoubleVector,
  DuckDBIntegerVector,
  INTEGER,
} from '@duckdb/node-api';
import { pythonCharKinds, TEXT_COUNT_NAMES } from './text-counts';
import { COUNTS_PER_TEXT, MeasuredBatch, RESPONSES_PER_ROW, TextBatch, TEXTS_PER_ROW } from './text-measures';

const TEXT_FIELDS = ['prompt', 'response_a', 'response_b'] as const;
/** Rows of one DuckDB data chunk, the most a chunk can hold. */
const CHUNK_ROWS = 2048;
/** Batches queued per worker: enough to keep it busy while the next batch is read. */
const QUEUED_PER_WORKER = 2;
const WORKER_FILE = path.join(__dirname, `text-measure-worker${path.extname(__filename)}`);
// Run from TypeScript (tsx), a worker thread needs tsx's loader registered in it too: workers do
// not inherit loaders registered at run time.
const WORKER_SOURCE = [
  ...(path.extname(WORKER_FILE) === '.ts' ? [`require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();`] : []),
  `require(${JSON.stringify(WORKER_FILE)});`,
].join('\n');

/**
 * Creates the view `text_measures(row_idx, field, <TEXT_COUNT_NAMES> INTEGER, similarity DOUBLE)`:
 * one row per text of `relation` (columns prompt, response_a, response_b; NULL counts as empty),
 * row_idx its `rowNumber` column (a streamed scan of many chunks does not keep table order). The texts leave DuckDB as UTF-8 bytes and are
 * measured on worker threads, one batch per data chunk; only their numbers come back.
 * Similarity (with the prompt, on response rows) is 0 unless asked for.
 */
export async function measureTexts(
  connection: DuckDBConnection,
  relation: string,
  rowNumber: string,
  pool: TextMeasurePool,
  options: { similarity: boolean },
): Promise<void> {
  const columns = ['row_idx', 'text_idx', ...TEXT_COUNT_NAMES];
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE text_measure_values (${columns.map((c) => `${c} INTEGER`).join(', ')}, similarity DOUBLE)`,
  );
  await connection.run(
    `CREATE OR REPLACE TEMP VIEW text_measures AS
     SELECT row_idx, [${TEXT_FIELDS.map((f) => `'${f}'`).join(', ')}][text_idx + 1] AS field, * EXCLUDE (row_idx, text_idx)
     FROM text_measure_values`,
  );
  const appender = await connection.createAppender('text_measure_values');
  try {
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
    // Appended only once the scan is over: the appender shares the connection, and using it
    // mid-stream ends the streamed result early.
    for (const { rowIdx, measured } of await Promise.all(measuring)) appendMeasures(appender, rowIdx, measured);
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
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

function appendMeasures(appender: DuckDBAppender, rowIdx: Int32Array, { counts, similarity }: MeasuredBatch): void {
  const texts = rowIdx.length * TEXTS_PER_ROW;
  const types = [INTEGER, INTEGER, ...TEXT_COUNT_NAMES.map(() => INTEGER), DOUBLE];
  for (let from = 0; from < texts; from += CHUNK_ROWS) {
    const size = Math.min(CHUNK_ROWS, texts - from);
    const chunk = DuckDBDataChunk.create(types, size);
    const rowColumn = chunk.getColumnVector(0) as DuckDBIntegerVector;
    const textIdx = chunk.getColumnVector(1) as DuckDBIntegerVector;
    const similarityColumn = chunk.getColumnVector(2 + COUNTS_PER_TEXT) as DuckDBDoubleVector;
    for (let i = 0; i < size; i++) {
      const t = from + i;
      const field = t % TEXTS_PER_ROW;
      const row = (t - field) / TEXTS_PER_ROW;
      rowColumn.setItem(i, rowIdx[row]);
      textIdx.setItem(i, field);
      similarityColumn.setItem(i, field === 0 ? 0 : similarity[row * RESPONSES_PER_ROW + field - 1]);
    }
    for (let c = 0; c < COUNTS_PER_TEXT; c++) {
      const column = chunk.getColumnVector(2 + c) as DuckDBIntegerVector;
      for (let i = 0; i < size; i++) column.setItem(i, counts[(from + i) * COUNTS_PER_TEXT + c]);
      column.flush();
    }
    rowColumn.flush();
    textIdx.flush();
    similarityColumn.flush();
    appender.appendDataChunk(chunk);
  }
}

/**
 * Worker threads measuring batches, each in the order it receives them. Started ahead of the
 * reading (a worker takes 0.1-0.2 s to start) and kept for every table of a run.
 */
export class TextMeasurePool {
  private readonly workers: { worker: Worker; waiting: { resolve: (m: MeasuredBatch) => void; reject: (e: Error) => void }[] }[];
  private failure: Error | null = null;
  /** Callers of ready() waiting for a batch to finish. */
  private wakeups: (() => void)[] = [];

  /** threads: default one per core. */
  constructor(threads = os.availableParallelism()) {
    // The class table is built once and shared, not parsed again by every worker.
    const kinds = pythonCharKinds(new Uint8Array(new SharedArrayBuffer(0x110000)));
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const entry = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { kinds: kinds.buffer } }), waiting: [] as TextMeasurePool['workers'][number]['waiting'] };
      entry.worker.on('message', (measured: MeasuredBatch) => {
        entry.waiting.shift()!.resolve(measured);
        this.wake();
      });
      entry.worker.on('error', (error) => this.fail(error));
      entry.worker.on('exit', (code) => {
        if (entry.waiting.length > 0) this.fail(new Error(`text measuring worker exited (code ${code}) with batches pending`));
      });
      return entry;
    });
  }

  /** Resolves once some worker has room for another batch. */
  async ready(): Promise<void> {
    while (!this.failure && Math.min(...this.workers.map((w) => w.waiting.length)) >= QUEUED_PER_WORKER) {
      await new Promise<void>((resolve) => this.wakeups.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  measure(batch: TextBatch): Promise<MeasuredBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const entry = this.workers.reduce((best, w) => (w.waiting.length < best.waiting.length ? w : best));
    return new Promise((resolve, reject) => {
      entry.waiting.push({ resolve, reject });
      entry.worker.postMessage(batch, [batch.bytes.buffer as ArrayBuffer, batch.offsets.buffer as ArrayBuffer]);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const entry of this.workers) for (const waiting of entry.waiting.splice(0)) waiting.reject(error);
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.wakeups.splice(0)) resolve();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
