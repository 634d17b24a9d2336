import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { assertCompatible, readCheckpoint, writeCheckpoint, type Checkpoint, type DataPosition, type TrainingHistory } from './checkpoint';
import { emit, log } from './events';
import { readFeatureNames } from '../../lib/feature-columns';
import { readSplit, TextRowCache } from './data';
import { paramSpecs, sizeOf, type Params } from './model';
import { recordEvaluation, type ValidMetrics } from './selection';
import type { MergeSpec } from './spec';
import { evaluateSplit } from './train';

function averageTensors(tensors: Params[], names: string[], sizes: number[]): Params {
  const out: Params = {};
  names.forEach((name, k) => {
    const sum = new Float64Array(sizes[k]!);
    for (const t of tensors) {
      const x = t[name]!;
      for (let i = 0; i < sum.length; i++) sum[i]! += x[i]!;
    }
    out[name] = Float32Array.from(sum, (v) => v / tensors.length);
  });
  return out;
}

/** The union of the inputs' histories: entries a round inherited from its init checkpoint appear once. */
function mergeHistories(histories: TrainingHistory[]): TrainingHistory {
  const unique = <T>(entries: T[]): T[] => [...new Map(entries.map((e) => [JSON.stringify(e), e])).values()];
  const byStep = (a: { step: number; shard: number }, b: { step: number; shard: number }) => a.step - b.step || a.shard - b.shard;
  return {
    train: unique(histories.flatMap((h) => h.train)).sort(byStep),
    valid: unique(histories.flatMap((h) => h.valid)).sort(byStep),
  };
}

/**
 * Averages weights and Adam moments of the inputs (float64 sums, in input order). The merged step is
 * the largest input step; feature scaling comes from the first input (every shard computes it from
 * the same training split); early stopping is the first input's state, which parallel shards carry
 * unchanged from the round start (only the merged model is judged, in `mergeCommand`). Data
 * positions and dropout RNG states are not merged but kept per shard (each input holds its own
 * shard's), so that every shard of the next round goes on where it stopped.
 */
export function mergeCheckpoints(inputs: string[]): Checkpoint {
  const checkpoints = inputs.map((dir) => readCheckpoint(dir));
  const first = checkpoints[0]!;
  checkpoints.forEach((c, i) => assertCompatible(c, inputs[i]!, first.dims, first.featureColumns));
  const specs = paramSpecs(first.dims);
  const names = specs.map((s) => s.name);
  const sizes = specs.map((s) => sizeOf(s.shape));
  return {
    dims: first.dims,
    featureColumns: first.featureColumns,
    scaling: first.scaling,
    params: averageTensors(checkpoints.map((c) => c.params), names, sizes),
    adam: {
      m: averageTensors(checkpoints.map((c) => c.adam.m), names, sizes),
      v: averageTensors(checkpoints.map((c) => c.adam.v), names, sizes),
    },
    state: {
      step: Math.max(...checkpoints.map((c) => c.state.step)),
      epoch: Math.max(...checkpoints.map((c) => c.state.epoch)),
      batchInEpoch: 0,
      rngState: 0,
      earlyStopping: { ...first.state.earlyStopping },
      history: mergeHistories(checkpoints.map((c) => c.state.history)),
      positions: Object.assign({}, ...checkpoints.map((c) => c.state.positions)),
    },
  };
}

/** The merged model on the validation split, dropout off: what the round is selected and early-stopped by. */
async function validateMerged(merged: Checkpoint, validData: string, featureColumnsFile: string): Promise<ValidMetrics> {
  const valid = await readSplit(validData, readFeatureNames(featureColumnsFile));
  const { loss, accuracy } = evaluateSplit(merged, valid, new TextRowCache(valid, merged.dims.textHashDim));
  return { step: merged.state.step, epoch: lastTrainedEpoch(Object.values(merged.state.positions ?? {})), valid_loss: loss, valid_accuracy: accuracy };
}

/**
 * The latest epoch the merged shards trained in: a position mid-epoch is in its epoch, one at an
 * epoch's first batch (an epoch-round end, or a K-step round that ended on the boundary) just after it.
 */
function lastTrainedEpoch(positions: DataPosition[]): number {
  return Math.max(0, ...positions.map((p) => (p.batchInEpoch > 0 ? p.epoch : p.epoch - 1)));
}

/** The `merge` verb: with `valid_data`, the merged model is validated and early stopping judges it. */
export async function mergeCommand(spec: MergeSpec): Promise<void> {
  if (new Set(spec.inputs).size !== spec.inputs.length) throw new UserInputError('spec inputs: a checkpoint is listed twice');
  if (spec.valid_data && !spec.feature_columns) throw new UserInputError('spec feature_columns: required with valid_data');
  const merged = mergeCheckpoints(spec.inputs);
  let validMetrics: ValidMetrics | undefined;
  if (spec.valid_data) {
    validMetrics = await validateMerged(merged, spec.valid_data, spec.feature_columns!);
    const t = spec.config.trainer;
    const stop = recordEvaluation(merged.state.earlyStopping, t.select_metric, validMetrics, t.early_stopping_patience);
    log(`merged model: valid loss ${validMetrics.valid_loss.toFixed(4)}, valid accuracy ${validMetrics.valid_accuracy.toFixed(4)}`);
    if (stop) log(stop);
  }
  const dir = path.join(spec.output_dir, 'checkpoint');
  writeCheckpoint(merged, dir, true);
  log(`merged ${spec.inputs.length} checkpoints at step ${merged.state.step} into ${dir}`);
  emit({ event: 'done', checkpoint: dir, step: merged.state.step, stopped_early: merged.state.earlyStopping.stopped, valid_metrics: validMetrics });
}
