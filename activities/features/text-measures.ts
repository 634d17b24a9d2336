import { TEXT_COUNT_NAMES, TextCounter } from './text-counts';
import { TrigramCosine } from './trigram-similarity';

/** The texts of each row: prompt, response_a, response_b. */
export const TEXTS_PER_ROW = 3;
export const RESPONSES_PER_ROW = TEXTS_PER_ROW - 1;
export const COUNTS_PER_TEXT = TEXT_COUNT_NAMES.length;

/** Consecutive rows' texts as UTF-8: text t (row t / 3, field t % 3) is bytes[offsets[t], offsets[t + 1]). */
export interface TextBatch {
  rows: number;
  bytes: Uint8Array;
  offsets: Uint32Array;
  similarity: boolean;
}

export interface MeasuredBatch {
  /** COUNTS_PER_TEXT counts per text, in TEXT_COUNT_NAMES order. */
  counts: Int32Array;
  /** Per row, the prompt's similarity with each response; all 0 when not asked for. */
  similarity: Float64Array;
}

/** The counts and similarities of one batch: the work each worker thread does. */
export function measureBatch(batch: TextBatch, counter: TextCounter, cosine: TrigramCosine): MeasuredBatch {
  const { rows, bytes, offsets } = batch;
  const counts = new Int32Array(rows * TEXTS_PER_ROW * COUNTS_PER_TEXT);
  const similarity = new Float64Array(rows * RESPONSES_PER_ROW);
  for (let t = 0; t < rows * TEXTS_PER_ROW; t++) counter.countInto(bytes, offsets[t], offsets[t + 1], counts, t * COUNTS_PER_TEXT);
  if (batch.similarity) {
    for (let row = 0; row < rows; row++) {
      const first = row * TEXTS_PER_ROW;
      cosine.similarities(
        bytes,
        offsets.subarray(first, first + TEXTS_PER_ROW),
        offsets.subarray(first + 1, first + TEXTS_PER_ROW + 1),
        similarity,
        row * RESPONSES_PER_ROW,
      );
    }
  }
  return { counts, similarity };
}
