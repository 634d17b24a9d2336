import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserInputError } from '../../lib/errors';
import { adamwStep, lrMultiplier, type ScheduleSettings } from './adamw';
import { assertCompatible, readCheckpoint, shardKey, writeCheckpoint, type Checkpoint, type TrainingState } from './checkpoint';
import { readFeatureNames } from '../../lib/feature-columns';
import { featureScaling, readSplit, TextRowCache, trainingRowIndices, type SplitRows } from './data';
import { emit as emitEvent, log, type TrainerEvent } from './events';
import { bceWithLogits, type SoftTargets } from './loss';
import {
  backward,
  dropoutMask,
  forward,
  initParams,
  modelDims,
  zeroParams,
  type Batch,
  type ModelDims,
  type Params,
} from './model';
import { deriveSeed, Mulberry32, shuffleInPlace } from './rng';
import { recordEvaluation, type ValidMetrics } from './selection';
import type { TrainSpec } from './spec';

/** Stream tags of `deriveSeed`, so init, shuffling and dropout never share random numbers. */
export const INIT_STREAM = 1;
const SHUFFLE_STREAM = 2;
const DROPOUT_STREAM = 3;
const EVAL_BATCH_ROWS = 256;
const PROGRESS_INTERVAL_MS = 1000;

interface Starting {
  checkpoint: Checkpoint;
  from: string;
}

/**
 * Where a train run starts: `resume_from` restores everything (weights, Adam moments, step, position
 * in the epoch, RNG); `init_from` (a round start) keeps weights, Adam moments, step, feature scaling,
 * early-stopping state and history, and goes on at this shard's data position and dropout RNG state
 * as the checkpoint recorded them where the shard's previous round stopped, so rounds together cover
 * every epoch once; otherwise weights are initialised from the seed alone, so every shard starts from
 * the same point, and the dropout RNG is seeded from (seed, shard).
 */
function startingPoint(spec: TrainSpec, dims: ModelDims, featureColumns: string[], train: SplitRows): Starting {
  const cfg = spec.config;
  const dropoutSeed = deriveSeed(cfg.seed, DROPOUT_STREAM, spec.shard.index, spec.shard.count);
  if (spec.resume_from) {
    const checkpoint = readCheckpoint(spec.resume_from);
    assertCompatible(checkpoint, spec.resume_from, dims, featureColumns);
    return { checkpoint, from: `resumed from ${spec.resume_from}` };
  }
  if (spec.init_from) {
    const checkpoint = readCheckpoint(spec.init_from);
    assertCompatible(checkpoint, spec.init_from, dims, featureColumns);
    const position = checkpoint.state.positions[shardKey(spec.shard)];
    if (!position) throw new UserInputError(`${spec.init_from}: checkpoint holds no data position for shard ${spec.shard.index} of ${spec.shard.count}`);
    checkpoint.state = { ...checkpoint.state, ...position };
    return { checkpoint, from: `initialised from ${spec.init_from}` };
  }
  const state: TrainingState = {
    step: 0,
    epoch: spec.round.epoch_start,
    batchInEpoch: 0,
    rngState: dropoutSeed,
    earlyStopping: { best: null, badEpochs: 0, stopped: false },
    history: { train: [], valid: [] },
    positions: {},
  };
  const checkpoint: Checkpoint = {
    dims,
    featureColumns,
    scaling: featureScaling(train),
    params: initParams(dims, new Mulberry32(deriveSeed(cfg.seed, INIT_STREAM))),
    adam: { m: zeroParams(dims), v: zeroParams(dims) },
    state,
  };
  return { checkpoint, from: 'fresh initialisation' };
}

/** The rows' model inputs, hard labels and soft labels (NaN: none; null: the split has no teacher_p column). */
function batchOf(split: SplitRows, texts: TextRowCache, rows: ArrayLike<number>): { batch: Batch; labels: Float32Array; teacherP: Float64Array | null } {
  const F = split.featureCount;
  const features = new Float64Array(rows.length * F);
  const labels = new Float32Array(rows.length);
  const teacherP = split.teacherP && new Float64Array(rows.length);
  const text = [];
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    text.push(texts.row(i));
    features.set(split.features.subarray(i * F, (i + 1) * F), k * F);
    labels[k] = split.labels[i]!;
    if (teacherP) teacherP[k] = split.teacherP![i]!;
  }
  return { batch: { text, features }, labels, teacherP };
}

/** Mean BCE and accuracy (p >= 0.5 means model_a) of the model, dropout off, over every row of `split`: hard labels, soft ones or not. */
export function evaluateSplit(c: Checkpoint, split: SplitRows, texts: TextRowCache): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  const n = split.ids.length;
  for (let start = 0; start < n; start += EVAL_BATCH_ROWS) {
    const rows = Array.from({ length: Math.min(EVAL_BATCH_ROWS, n - start) }, (_, k) => start + k);
    const { batch, labels } = batchOf(split, texts, rows);
    const { logits } = forward(c.dims, c.params, c.scaling, batch, null);
    for (let k = 0; k < rows.length; k++) {
      loss += bceWithLogits(logits[k]!, labels[k]!);
      if ((logits[k]! >= 0 ? 1 : 0) === labels[k]) correct++;
    }
  }
  return { loss: loss / n, accuracy: correct / n };
}

/** The shard's rows of `epoch` in training order: a pure function of (seed, epoch, shard), so a round can resume it. */
export function epochOrder(spec: TrainSpec, train: SplitRows, epoch: number): Int32Array {
  const order = trainingRowIndices(train, spec.shard, spec.config.augment.mode, epoch);
  shuffleInPlace(order, new Mulberry32(deriveSeed(spec.config.seed, SHUFFLE_STREAM, epoch, spec.shard.index, spec.shard.count)));
  return order;
}

function stepsInEpoch(rows: number, batchSize: number, accumulation: number): number {
  return Math.ceil(Math.ceil(rows / batchSize) / accumulation);
}

/** The validation of the shard's final checkpoint: its last epoch's (a round stopped early trains none, and keeps the last). */
function lastValidation(s: TrainingState, shard: number): ValidMetrics | undefined {
  const entry = s.history.valid.filter((e) => e.shard === shard).at(-1);
  return entry && { step: entry.step, epoch: entry.epoch, valid_loss: entry.valid_loss, valid_accuracy: entry.valid_accuracy };
}

/** Thrown once a pre-empted run has written and announced its checkpoint at the current step. */
export class Preempted extends Error {
  override readonly name = 'Preempted';
}

/**
 * The `train` verb: trains one shard up to epoch `round.epoch_end`, or until its step count reaches
 * `round.step_end` when that comes first; events go to
 * `emit` (stdout by default). When `preemption.requested` turns true it checkpoints before its next
 * step and throws `Preempted`.
 */
export async function trainCommand(
  spec: TrainSpec,
  emit: (event: TrainerEvent) => void = emitEvent,
  preemption: { readonly requested: boolean } = { requested: false },
): Promise<void> {
  const cfg = spec.config;
  const t = cfg.trainer;
  const featureColumns = readFeatureNames(spec.feature_columns);
  const train = await readSplit(spec.train_data, featureColumns);
  const valid = await readSplit(spec.valid_data, featureColumns);
  const dims = modelDims(cfg.model, featureColumns.length);
  if (spec.round.epoch_end > t.epochs) {
    throw new UserInputError(`spec round.epoch_end ${spec.round.epoch_end} is beyond config.trainer.epochs ${t.epochs}`);
  }

  const epochSteps: number[] = [];
  for (let e = 0; e < t.epochs; e++) {
    const rows = trainingRowIndices(train, spec.shard, cfg.augment.mode, e).length;
    if (rows === 0) throw new UserInputError(`${spec.train_data}: shard ${spec.shard.index} of ${spec.shard.count} has no training rows in epoch ${e}`);
    epochSteps.push(stepsInEpoch(rows, t.batch_size, t.grad_accumulation));
  }
  // Every shard follows the largest shard's schedule, so a smaller one does not run ahead of the
  // learning rates of the others it is averaged with each round.
  let totalSteps = 0;
  for (let index = 0; index < spec.shard.count; index++) {
    let steps = 0;
    for (let e = 0; e < t.epochs; e++) {
      steps += stepsInEpoch(trainingRowIndices(train, { index, count: spec.shard.count }, cfg.augment.mode, e).length, t.batch_size, t.grad_accumulation);
    }
    totalSteps = Math.max(totalSteps, steps);
  }
  const schedule: ScheduleSettings = { totalSteps, warmupRatio: t.warmup_ratio, numCycles: t.scheduler.num_cycles };

  const { checkpoint: c, from } = startingPoint(spec, dims, featureColumns, train);
  const s = c.state;
  const stepEnd = spec.round.step_end ?? Infinity;
  const remaining = s.earlyStopping.stopped
    ? 0
    : Math.min(
        stepEnd - s.step,
        epochSteps.slice(s.epoch, spec.round.epoch_end).reduce((a, b) => a + b, 0) - Math.ceil(s.batchInEpoch / t.grad_accumulation),
      );
  log(`train shard ${spec.shard.index}/${spec.shard.count} round ${spec.round.index}: ${from}, step ${s.step}, ${train.ids.length} train rows, ${valid.ids.length} valid rows`);
  if (train.teacherP && train.softLoss) {
    const soft = train.teacherP.filter((p) => !Number.isNaN(p)).length;
    log(`soft labels on ${soft} of ${train.ids.length} train rows: alpha ${train.softLoss.alpha}, temperature ${train.softLoss.temperature}`);
  }
  emit({ event: 'start', step: s.step, total_steps: s.step + Math.max(0, remaining) });

  const trainTexts = new TextRowCache(train, dims.textHashDim);
  const validTexts = new TextRowCache(valid, dims.textHashDim);
  const rng = new Mulberry32(s.rngState);
  const grads = zeroParams(dims);
  const lrs = cfg.trainer.lr;
  const roundScale = t.round_lr_scale[spec.round.index] ?? 1;
  let lastProgress = { at: Date.now(), rows: 0, loss: 0, steps: 0 };

  const saveStep = () => {
    s.rngState = rng.state;
    const dir = path.join(spec.checkpoint_dir, `step-${s.step}`);
    writeCheckpoint(c, dir, false);
    emit({ event: 'checkpoint', step: s.step, path: dir });
  };

  while (s.epoch < spec.round.epoch_end && !s.earlyStopping.stopped) {
    const order = epochOrder(spec, train, s.epoch);
    const microBatches = Math.ceil(order.length / t.batch_size);
    while (s.batchInEpoch < microBatches && s.step < stepEnd) {
      if (preemption.requested) {
        saveStep();
        throw new Preempted(`pre-empted at step ${s.step}; checkpoint written`);
      }
      for (const name in grads) grads[name]!.fill(0);
      let rows = 0;
      let loss = 0;
      const firstBatch = s.batchInEpoch;
      for (let a = 0; a < t.grad_accumulation && s.batchInEpoch < microBatches; a++, s.batchInEpoch++) {
        const picked = order.subarray(s.batchInEpoch * t.batch_size, (s.batchInEpoch + 1) * t.batch_size);
        const { batch, labels, teacherP } = batchOf(train, trainTexts, picked);
        const mask = cfg.model.head_dropout > 0 ? dropoutMask(picked.length, dims.hiddenDim, cfg.model.head_dropout, rng) : null;
        const cache = forward(dims, c.params, c.scaling, batch, mask);
        const soft: SoftTargets | null = teacherP && train.softLoss && { teacherP, loss: train.softLoss };
        loss += backward(dims, c.params, batch, cache, labels, grads, soft);
        rows += picked.length;
      }
      const multiplier = lrMultiplier(s.step, schedule) * roundScale;
      const stepLrs = { backbone: lrs.backbone * multiplier, features: lrs.features * multiplier, head: lrs.head * multiplier };
      adamwStep(dims, c.params, grads as Params, c.adam, s.step + 1, stepLrs, t.weight_decay, 1 / rows);
      s.step += 1;
      s.history.train.push({ shard: spec.shard.index, round: spec.round.index, step: s.step, epoch: s.epoch, rows, loss: loss / rows, batches: [firstBatch, s.batchInEpoch] });

      lastProgress = { ...lastProgress, rows: lastProgress.rows + rows, loss: lastProgress.loss + loss, steps: lastProgress.steps + 1 };
      const now = Date.now();
      if (now - lastProgress.at >= PROGRESS_INTERVAL_MS) {
        const seconds = (now - lastProgress.at) / 1000;
        emit({ event: 'progress', step: s.step, epoch: s.epoch, loss: lastProgress.loss / lastProgress.rows, rows_per_s: lastProgress.rows / seconds, lr: stepLrs.head });
        lastProgress = { at: now, rows: 0, loss: 0, steps: 0 };
      }
      if (s.step % t.checkpoint_every_steps === 0 && s.batchInEpoch < microBatches) saveStep();
      // Yield every step so that stdin requests, EOF and signals are noticed while training.
      if (t.step_delay_ms > 0) await sleep(t.step_delay_ms);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    // The round's steps ran out mid-epoch: the next round goes on from here.
    if (s.batchInEpoch < microBatches) break;

    const epochEntries = s.history.train.filter((e) => e.shard === spec.shard.index && e.epoch === s.epoch);
    const epochRows = epochEntries.reduce((n, e) => n + e.rows, 0);
    const trainLoss = epochEntries.reduce((n, e) => n + e.loss * e.rows, 0) / Math.max(1, epochRows);
    const { loss: validLoss, accuracy } = evaluateSplit(c, valid, validTexts);
    const metrics = { step: s.step, epoch: s.epoch, train_loss: trainLoss, valid_loss: validLoss, valid_accuracy: accuracy };
    s.history.valid.push({ shard: spec.shard.index, ...metrics });
    emit({ event: 'metrics', ...metrics });
    log(`epoch ${s.epoch}: train loss ${trainLoss.toFixed(4)}, valid loss ${validLoss.toFixed(4)}, valid accuracy ${accuracy.toFixed(4)}`);

    const es = s.earlyStopping;
    // A lone shard is the merged model; parallel shards are judged only once merged (merge.ts).
    const stop = spec.shard.count === 1 ? recordEvaluation(es, t.select_metric, metrics, t.early_stopping_patience) : undefined;
    if (stop) log(stop);
    s.epoch += 1;
    s.batchInEpoch = 0;
    if (s.step % t.checkpoint_every_steps === 0 || s.epoch >= spec.round.epoch_end || es.stopped) saveStep();
  }

  s.rngState = rng.state;
  s.positions = { [shardKey(spec.shard)]: { epoch: s.epoch, batchInEpoch: s.batchInEpoch, rngState: s.rngState } };
  const finalDir = path.join(spec.output_dir, 'checkpoint');
  writeCheckpoint(c, finalDir, true);
  const finished = s.earlyStopping.stopped || s.epoch >= t.epochs;
  emit({ event: 'done', checkpoint: finalDir, step: s.step, stopped_early: s.earlyStopping.stopped, finished, valid_metrics: lastValidation(s, spec.shard.index) });
}
