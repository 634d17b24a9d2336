import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import type { AdamState } from './adamw';
import { paramSpecs, sizeOf, type FeatureScaling, type ModelDims, type Params } from './model';

/**
 * A checkpoint folder: `checkpoint.json` (dims, feature columns, training position, history, and a
 * manifest of tensors) and `tensors.bin` (every tensor as little-endian float32, back to back).
 */

export const CHECKPOINT_FORMAT = 'arena-cpu-mlp-checkpoint/1';

export interface TrainLossEntry {
  shard: number;
  /** The round (spec round.index) the step was trained in: the report's per-round loss groups by it. */
  round: number;
  step: number;
  epoch: number;
  rows: number;
  loss: number;
  /** Micro-batches [first, end) of the shard's epoch order this step trained on: the data bookkeeping tests read. */
  batches: [number, number];
}

export interface EpochMetricsEntry {
  shard: number;
  step: number;
  epoch: number;
  train_loss: number;
  valid_loss: number;
  valid_accuracy: number;
}

export interface TrainingHistory {
  train: TrainLossEntry[];
  valid: EpochMetricsEntry[];
}

/** Where a shard stopped in its data order and dropout stream: where its next round starts. */
export interface DataPosition {
  epoch: number;
  batchInEpoch: number;
  rngState: number;
}

export interface TrainingState {
  /** Optimizer steps taken, counted across rounds. */
  step: number;
  /** The epoch in progress, or the next one to start when `batchInEpoch` is 0. */
  epoch: number;
  /** Micro-batches of `epoch` already trained on. */
  batchInEpoch: number;
  /** Dropout RNG state (mulberry32). */
  rngState: number;
  /** `best`: the best value of trainer.select_metric so far; `badEpochs`: evaluations since it. */
  earlyStopping: { best: number | null; badEpochs: number; stopped: boolean };
  history: TrainingHistory;
  /**
   * By shard (`shardKey`): where each shard whose round ended in this checkpoint stopped. A shard's
   * round output holds its own; a merge holds those of every input.
   */
  positions: Record<string, DataPosition>;
}

export function shardKey(shard: { index: number; count: number }): string {
  return `${shard.index}/${shard.count}`;
}

export interface Checkpoint {
  dims: ModelDims;
  featureColumns: string[];
  scaling: FeatureScaling;
  params: Params;
  adam: AdamState;
  state: TrainingState;
}

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
}

function tensorList(c: Checkpoint): { name: string; shape: number[]; data: ArrayLike<number> }[] {
  const specs = paramSpecs(c.dims);
  return [
    ...specs.map((s) => ({ name: s.name, shape: s.shape, data: c.params[s.name]! })),
    ...specs.map((s) => ({ name: `adam.m.${s.name}`, shape: s.shape, data: c.adam.m[s.name]! })),
    ...specs.map((s) => ({ name: `adam.v.${s.name}`, shape: s.shape, data: c.adam.v[s.name]! })),
    { name: 'features.mean', shape: [c.dims.featureCount], data: c.scaling.mean },
    { name: 'features.std', shape: [c.dims.featureCount], data: c.scaling.std },
  ];
}

/**
 * Writes the checkpoint to `dir` atomically: into a temporary sibling folder, renamed into place when
 * complete. With `replace` false an existing `dir` is kept (a resumed run rewriting a step it had
 * already saved produces the same content); with `replace` true it is swapped out.
 */
export function writeCheckpoint(c: Checkpoint, dir: string, replace: boolean): void {
  if (existsSync(dir) && !replace) return;
  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  const tensors = tensorList(c);
  const total = tensors.reduce((n, t) => n + t.data.length, 0);
  const blob = new Float32Array(total);
  const manifest: TensorEntry[] = [];
  let offset = 0;
  for (const t of tensors) {
    blob.set(t.data, offset);
    manifest.push({ name: t.name, shape: t.shape, offset });
    offset += t.data.length;
  }
  writeFileSync(path.join(tmp, 'tensors.bin'), new Uint8Array(blob.buffer));
  const meta = { format: CHECKPOINT_FORMAT, dims: c.dims, feature_columns: c.featureColumns, state: c.state, tensors: manifest };
  writeFileSync(path.join(tmp, 'checkpoint.json'), JSON.stringify(meta));
  if (existsSync(dir)) {
    const old = `${tmp}.old`;
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, dir);
  }
}

/** Reads a checkpoint folder; the weights are `params` by name (see `paramSpecs`). */
export function readCheckpoint(dir: string): Checkpoint {
  let meta: { format: string; dims: ModelDims; feature_columns: string[]; state: TrainingState; tensors: TensorEntry[] };
  let blob: Float32Array;
  try {
    meta = JSON.parse(readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'));
    const bytes = readFileSync(path.join(dir, 'tensors.bin'));
    blob = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch (err) {
    throw new UserInputError(`${dir}: not a readable checkpoint: ${(err as Error).message}`);
  }
  if (meta.format !== CHECKPOINT_FORMAT) throw new UserInputError(`${dir}/checkpoint.json: format is ${meta.format}, expected ${CHECKPOINT_FORMAT}`);
  const byName = new Map<string, Float32Array>();
  for (const t of meta.tensors) byName.set(t.name, blob.slice(t.offset, t.offset + sizeOf(t.shape)));
  const take = (name: string): Float32Array => {
    const t = byName.get(name);
    if (!t) throw new UserInputError(`${dir}/checkpoint.json: tensor "${name}" is missing`);
    return t;
  };
  const params: Params = {}, m: Params = {}, v: Params = {};
  for (const spec of paramSpecs(meta.dims)) {
    params[spec.name] = take(spec.name);
    m[spec.name] = take(`adam.m.${spec.name}`);
    v[spec.name] = take(`adam.v.${spec.name}`);
  }
  return {
    dims: meta.dims,
    featureColumns: meta.feature_columns,
    scaling: { mean: take('features.mean'), std: take('features.std') },
    params,
    adam: { m, v },
    state: meta.state,
  };
}

/** Rejects a checkpoint whose shape or feature columns differ from what the run expects. */
export function assertCompatible(c: Checkpoint, dir: string, dims: ModelDims, featureColumns: string[]): void {
  for (const key of Object.keys(dims) as (keyof ModelDims)[]) {
    if (c.dims[key] !== dims[key]) {
      throw new UserInputError(`${dir}: checkpoint has ${key} = ${c.dims[key]} but the config asks for ${dims[key]}`);
    }
  }
  if (c.featureColumns.join('\u0000') !== featureColumns.join('\u0000')) {
    throw new UserInputError(`${dir}: checkpoint feature columns [${c.featureColumns.join(', ')}] differ from [${featureColumns.join(', ')}]`);
  }
}
