/**
 * Hashed n-gram vectors of (prompt, response_a, response_b): the text input of the cpu_mlp model.
 * The trainer and the ONNX consumers (evaluate, submit) must build bit-identical vectors, so every
 * choice below is part of the model and is recorded in model.json as `TEXT_HASHING`.
 *
 * Per text, after `toLowerCase()`:
 * - word unigrams and bigrams, words being maximal runs of letters, digits, marks and `_` (`\p{L}\p{N}\p{M}_`);
 * - character 3-grams over the UTF-16 code units of the whole lowercased text (spaces included).
 * Hash: FNV-1a over UTF-16 code units (one xor-multiply per code unit, a different offset basis per
 * n-gram kind), finalised with murmur3's fmix32. A bigram hashes fmix32(imul(fnv(w1), FNV prime) ^ fnv(w2)).
 * Bit 0 of the hash gives the sign (+1/-1), the remaining bits modulo `dim` the bucket.
 * Signed counts per bucket are scaled sign(c)*log1p(|c|), then the text's block is L2-normalised
 * (an empty text is all zeros). The row vector is [h(prompt), h(a), h(b)], length 3*dim.
 */

export const TEXT_HASHING = {
  scheme: 'arena-hashed-ngrams/1',
  lowercase: true,
  word_ngrams: [1, 2],
  char_ngrams: [3],
  hash: 'fnv1a32-utf16-fmix32',
  sign: 'bit0',
  scaling: 'signed-log1p-count, l2 per text',
  layout: '[prompt, response_a, response_b]',
} as const;

/** A row's nonzero entries, indices ascending within each text block. */
export interface SparseTextRow {
  indices: Int32Array;
  values: Float32Array;
}

const FNV_PRIME = 0x01000193;
const WORD_BASIS = 0x811c9dc5;
const CHAR_BASIS = 0x050c5d1f;
const WORD_PATTERN = /[\p{L}\p{N}\p{M}_]+/gu;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Reused per dim: signed counts and the list of touched buckets of the text being hashed. */
class Accumulator {
  readonly counts: Float64Array;
  readonly seen: Uint8Array;
  touched: Int32Array;
  size = 0;

  constructor(readonly dim: number) {
    this.counts = new Float64Array(dim);
    this.seen = new Uint8Array(dim);
    this.touched = new Int32Array(256);
  }

  add(hash: number): void {
    const bucket = (hash >>> 1) % this.dim;
    if (this.seen[bucket] === 0) {
      this.seen[bucket] = 1;
      if (this.size === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.size++] = bucket;
    }
    this.counts[bucket]! += hash & 1 ? -1 : 1;
  }

  /** Appends the scaled, normalised block as (bucket + base, value) pairs and resets the accumulator. */
  drain(base: number, indices: number[], values: number[]): void {
    const buckets = this.touched.subarray(0, this.size).sort();
    let norm = 0;
    for (const bucket of buckets) {
      const c = this.counts[bucket]!;
      const v = Math.sign(c) * Math.log1p(Math.abs(c));
      this.counts[bucket] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (const bucket of buckets) {
      const v = this.counts[bucket]!;
      if (v !== 0) {
        indices.push(base + bucket);
        values.push(v / norm);
      }
      this.counts[bucket] = 0;
      this.seen[bucket] = 0;
    }
    this.size = 0;
  }
}

const accumulators = new Map<number, Accumulator>();

function accumulatorFor(dim: number): Accumulator {
  let acc = accumulators.get(dim);
  if (!acc) {
    acc = new Accumulator(dim);
    accumulators.set(dim, acc);
  }
  return acc;
}

function hashWord(text: string, start: number, end: number): number {
  let h = WORD_BASIS;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

function addText(raw: string, acc: Accumulator): void {
  const text = raw.toLowerCase();
  let previous = -1;
  for (const match of text.matchAll(WORD_PATTERN)) {
    const word = hashWord(text, match.index, match.index + match[0].length);
    acc.add(fmix32(word));
    if (previous !== -1) acc.add(fmix32(Math.imul(previous, FNV_PRIME) ^ word));
    previous = word;
  }
  for (let i = 0; i + 3 <= text.length; i++) {
    let h = CHAR_BASIS;
    h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
    h = Math.imul(h ^ text.charCodeAt(i + 1), FNV_PRIME);
    h = Math.imul(h ^ text.charCodeAt(i + 2), FNV_PRIME);
    acc.add(fmix32(h));
  }
}

/** The nonzero entries of [h(prompt), h(a), h(b)]; the trainer's input (its first Linear costs O(nnz)). */
export function hashTextSparse(prompt: string, a: string, b: string, dim: number): SparseTextRow {
  const acc = accumulatorFor(dim);
  const indices: number[] = [];
  const values: number[] = [];
  [prompt, a, b].forEach((text, block) => {
    addText(text, acc);
    acc.drain(block * dim, indices, values);
  });
  return { indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

/**
 * The dense vector [h(prompt), h(a), h(b)] (length 3*dim), written into `out` at `offset` when given
 * (that span is overwritten), so a batch of ONNX `text` inputs can share one buffer.
 */
export function hashTextVector(
  prompt: string,
  a: string,
  b: string,
  dim: number,
  out: Float32Array = new Float32Array(3 * dim),
  offset = 0,
): Float32Array {
  if (offset < 0 || offset + 3 * dim > out.length) {
    throw new RangeError(`hashTextVector: a row of ${3 * dim} values does not fit at offset ${offset} of ${out.length}`);
  }
  out.fill(0, offset, offset + 3 * dim);
  const row = hashTextSparse(prompt, a, b, dim);
  for (let k = 0; k < row.indices.length; k++) out[offset + row.indices[k]!] = row.values[k]!;
  return out;
}

/** Swaps the response_a and response_b blocks of the dense row at `offset` in place: the vector of (prompt, b, a). */
export function swapTextVector(vector: Float32Array, dim: number, offset = 0): void {
  const a = offset + dim;
  const b = offset + 2 * dim;
  for (let i = 0; i < dim; i++) {
    const tmp = vector[a + i]!;
    vector[a + i] = vector[b + i]!;
    vector[b + i] = tmp;
  }
}

/** The sparse row of (prompt, b, a) from that of (prompt, a, b), without hashing again. */
export function swapSparseTextRow(row: SparseTextRow, dim: number): SparseTextRow {
  const n = row.indices.length;
  const indices = new Int32Array(n);
  const values = new Float32Array(n);
  const blockOf = (index: number) => Math.floor(index / dim);
  let out = 0;
  for (const block of [0, 2, 1]) {
    const shift = (block === 0 ? 0 : block === 2 ? -1 : 1) * dim;
    for (let k = 0; k < n; k++) {
      if (blockOf(row.indices[k]!) !== block) continue;
      indices[out] = row.indices[k]! + shift;
      values[out++] = row.values[k]!;
    }
  }
  return { indices, values };
}
