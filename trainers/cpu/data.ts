import type { DuckDBConnection } from '@duckdb/node-api';
import { code, describeParquet, ident, joinSql, loadSql, queryRows, requireColumns, withDuckDB } from '../../lib/duckdb';
import type { RunConfig } from '../../lib/config/schema';
import { UserInputError } from '../../lib/errors';
import { hashTextSparse, swapSparseTextRow, type SparseTextRow } from '../../lib/text-hashing';
import type { SoftLabelLoss } from './loss';
import { STD_FLOOR, type FeatureScaling } from './model';
import { codeFile } from '../../lib/stage-contract/code-file';

/** One split (train or valid parquet) held in memory, columns as arrays. */
export interface SplitRows {
  file: string;
  ids: string[];
  pairIds: string[];
  swapped: Uint8Array;
  /** 1 when model_a wins. */
  labels: Float32Array;
  prompts: string[];
  responsesA: string[];
  responsesB: string[];
  featureCount: number;
  /** Raw feature values, row-major [rows, featureCount], in feature_columns.json order. */
  features: Float64Array;
  /**
   * The soft labels of a distillation student's split (column `teacher_p`: the teachers' p that this
   * row's response_a wins), NaN where a row has none; null when the split has no such column.
   */
  teacherP: Float64Array | null;
  /** How the soft labels weigh in the loss: the file's metadata says so (activities/soft-labels); null without soft labels. */
  softLoss: SoftLabelLoss | null;
}

const REQUIRED_COLUMNS = ['id', 'pair_id', 'swapped', 'winner', 'prompt', 'response_a', 'response_b'];
/** The optional soft-label column (docs/gpu-trainer.md, "Soft labels"). */
const TEACHER_COLUMN = 'teacher_p';
/** The key-value metadata of a soft-labelled split: the loss's weights (activities/soft-labels/write-train.sql). */
export const SOFT_LOSS_METADATA = { alpha: 'distill_alpha', temperature: 'distill_temperature' } as const;
/** Types whose every value casts to DOUBLE: a text column would fail mid-scan with a raw conversion error. */
const TEACHER_TYPE = /^(FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;

/**
 * Reads a split parquet, rejecting missing columns, an empty split, bad labels, non-finite features
 * and soft labels that are not probabilities.
 */
export async function readSplit(file: string, featureColumns: string[]): Promise<SplitRows> {
  return withDuckDB(async (connection) => {
    await requireColumns(connection, file, [...REQUIRED_COLUMNS, ...featureColumns]);
    const teacherType = (await describeParquet(connection, file)).get(TEACHER_COLUMN);
    if (teacherType !== undefined && !TEACHER_TYPE.test(teacherType)) {
      throw new UserInputError(`${file}: column "${TEACHER_COLUMN}" has type ${teacherType}, expected DOUBLE`);
    }
    const teacher = code(teacherType === undefined ? '' : `, CAST(${ident(TEACHER_COLUMN).text} AS DOUBLE) AS ${ident(TEACHER_COLUMN).text}`);
    const features = joinSql(featureColumns.map((c) => code(`, CAST(${ident(c).text} AS DOUBLE) AS ${ident(c).text}`)), '');
    let rows: Record<string, unknown>[];
    try {
      rows = await queryRows(connection, loadSql(codeFile(__dirname, 'read-split.sql'), { teacher, features }), { path: file });
    } catch (err) {
      throw new UserInputError(`${file}: cannot read rows: ${(err as Error).message.split('\n')[0]}`);
    }
    if (rows.length === 0) throw new UserInputError(`${file}: the split has no rows`);
    const softLoss = teacherType === undefined ? null : await readSoftLoss(connection, file);
    return { ...toSplitRows(file, rows, featureColumns, teacherType !== undefined), softLoss };
  });
}

/**
 * The soft-label loss's alpha and temperature, from the split file's key-value metadata: the
 * soft_labels stage writes them beside teacher_p, so that the student's key covers them through the
 * file's hash while the teachers' keys do not.
 */
async function readSoftLoss(connection: DuckDBConnection, file: string): Promise<SoftLabelLoss> {
  const rows = await queryRows(connection, `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata($path)`, { path: file });
  const value = (key: string, valid: (x: number) => boolean, expected: string): number => {
    const text = rows.find((r) => r['key'] === key)?.['value'];
    if (typeof text !== 'string') throw new UserInputError(`${file}: column "${TEACHER_COLUMN}" needs the file's key-value metadata ${key} (the soft_labels stage writes it)`);
    const x = Number(text);
    if (text.trim() === '' || !valid(x)) throw new UserInputError(`${file}: metadata ${key} is ${JSON.stringify(text)}, expected ${expected}`);
    return x;
  };
  return {
    alpha: value(SOFT_LOSS_METADATA.alpha, (x) => x >= 0 && x <= 1, 'a number in [0, 1]'),
    temperature: value(SOFT_LOSS_METADATA.temperature, (x) => Number.isFinite(x) && x > 0, 'a positive number'),
  };
}

function toSplitRows(file: string, rows: Record<string, unknown>[], featureColumns: string[], hasTeacher: boolean): SplitRows {
  const n = rows.length;
  const F = featureColumns.length;
  const split: SplitRows = {
    file,
    ids: new Array(n),
    pairIds: new Array(n),
    swapped: new Uint8Array(n),
    labels: new Float32Array(n),
    prompts: new Array(n),
    responsesA: new Array(n),
    responsesB: new Array(n),
    featureCount: F,
    features: new Float64Array(n * F),
    teacherP: hasTeacher ? new Float64Array(n) : null,
    softLoss: null,
  };
  rows.forEach((row, i) => {
    const id = row['id'];
    if (typeof id !== 'string') throw new UserInputError(`${file}: row ${i + 1}: column "id" is null`);
    const winner = row['winner'];
    if (winner !== 'model_a' && winner !== 'model_b') {
      throw new UserInputError(`${file}: row id ${id}: column "winner" is ${JSON.stringify(winner)}, expected model_a or model_b`);
    }
    if (typeof row['pair_id'] !== 'string') throw new UserInputError(`${file}: row id ${id}: column "pair_id" is null`);
    if (typeof row['swapped'] !== 'boolean') throw new UserInputError(`${file}: row id ${id}: column "swapped" is null`);
    split.ids[i] = id;
    split.pairIds[i] = row['pair_id'] as string;
    split.swapped[i] = row['swapped'] ? 1 : 0;
    split.labels[i] = winner === 'model_a' ? 1 : 0;
    split.prompts[i] = (row['prompt'] as string | null) ?? '';
    split.responsesA[i] = (row['response_a'] as string | null) ?? '';
    split.responsesB[i] = (row['response_b'] as string | null) ?? '';
    featureColumns.forEach((column, f) => {
      const value = row[column];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new UserInputError(`${file}: row id ${id}: feature column "${column}" is ${value === null ? 'null' : String(value)}`);
      }
      split.features[i * F + f] = value;
    });
    if (split.teacherP) split.teacherP[i] = teacherProbability(file, id, row[TEACHER_COLUMN]);
  });
  return split;
}

/** A row's soft label: NULL is none (NaN), anything else must be a probability. */
function teacherProbability(file: string, id: string, value: unknown): number {
  if (value === null) return NaN;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new UserInputError(`${file}: row id ${id}: column "${TEACHER_COLUMN}" is ${String(value)}, expected a probability in [0, 1]`);
  }
  return value;
}

/** Mean and population standard deviation (floored at STD_FLOOR) of every feature over the whole split. */
export function featureScaling(split: SplitRows): FeatureScaling {
  const F = split.featureCount;
  const n = split.ids.length;
  const mean = new Float64Array(F);
  const sq = new Float64Array(F);
  for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) mean[f]! += split.features[i * F + f]!;
  for (let f = 0; f < F; f++) mean[f]! /= n;
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) sq[f]! += (split.features[i * F + f]! - mean[f]!) ** 2;
  }
  const std = Float32Array.from(sq, (s) => Math.max(Math.sqrt(s / n), STD_FLOOR));
  return { mean: Float32Array.from(mean), std };
}

/** Stable shard of a pair: FNV-1a over the UTF-16 code units of pair_id, modulo the shard count. */
export function shardOfPair(pairId: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < pairId.length; i++) h = Math.imul(h ^ pairId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % count;
}

/**
 * Indices of the rows a shard trains on in `epoch`, ascending: its pairs, filtered by the A/B swap
 * mode (none: originals; append: both; alternate: swapped copies in odd epochs). per_gpu follows
 * the reference's DDP script: every shard trains on every pair, even shards in the original
 * orientation and odd shards swapped, so with 2+ shards each pair is seen both ways every epoch
 * (count × the rows of a hash partition); one shard sees the originals only, as the reference did
 * on one GPU. Same rule as trainers/gpu/arena_trainer/data.py.
 */
export function trainingRowIndices(
  split: SplitRows,
  shard: { index: number; count: number },
  mode: RunConfig['augment']['mode'],
  epoch: number,
): Int32Array {
  const wantSwapped = mode === 'alternate' ? epoch % 2 === 1 : mode === 'per_gpu' ? shard.index % 2 === 1 : false;
  const picked: number[] = [];
  for (let i = 0; i < split.ids.length; i++) {
    if (mode !== 'per_gpu' && shardOfPair(split.pairIds[i]!, shard.count) !== shard.index) continue;
    if (mode !== 'append' && (split.swapped[i] === 1) !== wantSwapped) continue;
    picked.push(i);
  }
  return Int32Array.from(picked);
}

/**
 * Hashed text rows, computed on first use. A pair's original orientation is hashed once and its
 * swapped copy is derived by swapping the response blocks, so augmentation costs no extra hashing.
 */
export class TextRowCache {
  private readonly byPair = new Map<string, SparseTextRow>();

  constructor(
    private readonly split: SplitRows,
    private readonly dim: number,
  ) {}

  row(i: number): SparseTextRow {
    const s = this.split;
    const swapped = s.swapped[i] === 1;
    let original = this.byPair.get(s.pairIds[i]!);
    if (!original) {
      original = swapped
        ? hashTextSparse(s.prompts[i]!, s.responsesB[i]!, s.responsesA[i]!, this.dim)
        : hashTextSparse(s.prompts[i]!, s.responsesA[i]!, s.responsesB[i]!, this.dim);
      this.byPair.set(s.pairIds[i]!, original);
    }
    return swapped ? swapSparseTextRow(original, this.dim) : original;
  }
}
