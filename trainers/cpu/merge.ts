import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { assertCompatible, readCheckpoint, writeCheckpoint, type Checkpoint, type TrainingHistory } from './checkpoint';
import { emit, log } from './events';
import { paramSpecs, sizeOf, type Params } from './model';
import type { MergeSpec } from './spec';

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
 * the same training split); early stopping keeps the best validation loss seen and the fewest epochs
 * without gain, and counts as stopped only when every input stopped. Data positions and dropout RNG
 * states are not merged but kept per shard (each input holds its own shard's), so that every shard
 * of the next round goes on where it stopped.
 */
export function mergeCheckpoints(inputs: string[]): Checkpoint {
  const checkpoints = inputs.map((dir) => readCheckpoint(dir));
  const first = checkpoints[0]!;
  checkpoints.forEach((c, i) => assertCompatible(c, inputs[i]!, first.dims, first.featureColumns));
  const specs = paramSpecs(first.dims);
  const names = specs.map((s) => s.name);
  const sizes = specs.map((s) => sizeOf(s.shape));
  const losses = checkpoints.map((c) => c.state.earlyStopping.bestValidLoss).filter((l): l is number => l !== null);
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
      earlyStopping: {
        bestValidLoss: losses.length > 0 ? Math.min(...losses) : null,
        badEpochs: Math.min(...checkpoints.map((c) => c.state.earlyStopping.badEpochs)),
        stopped: checkpoints.every((c) => c.state.earlyStopping.stopped),
      },
      history: mergeHistories(checkpoints.map((c) => c.state.history)),
      positions: Object.assign({}, ...checkpoints.map((c) => c.state.positions)),
    },
  };
}

/** The `merge` verb. */
export async function mergeCommand(spec: MergeSpec): Promise<void> {
  if (new Set(spec.inputs).size !== spec.inputs.length) throw new UserInputError('spec inputs: a checkpoint is listed twice');
  const merged = mergeCheckpoints(spec.inputs);
  const dir = path.join(spec.output_dir, 'checkpoint');
  writeCheckpoint(merged, dir, true);
  log(`merged ${spec.inputs.length} checkpoints at step ${merged.state.step} into ${dir}`);
  emit({ event: 'done', checkpoint: dir, step: merged.state.step });
}
