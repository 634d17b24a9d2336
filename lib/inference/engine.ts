import * as path from 'node:path';
import { UserInputError } from '../errors';
import { predict, type PredictOptions, type Predictions } from './predict';
import { predictWithTrainer, type TrainerEngineOptions } from './trainer-predict';

/** onnx: the exported model in onnxruntime-node; trainer: the trainer's own `predict` verb, where the export does not fit. */
export type PredictionEngine = 'onnx' | 'trainer';

/** The folder of an evaluate or submit output that holds the trainer engine's specs, logs and predictions. */
export const TRAINER_PREDICT_DIR = 'trainer-predict';

export interface EngineOptions {
  /** Default: onnx. */
  engine?: PredictionEngine;
  /** Required by the trainer engine. */
  trainer?: TrainerEngineOptions;
}

/** Scores a table with either engine; both give the same `Predictions`, so metrics and submission code is shared. */
export async function predictWithEngine(opts: PredictOptions & EngineOptions & { workDir: string }): Promise<Predictions> {
  if ((opts.engine ?? 'onnx') === 'onnx') return predict(opts);
  if (opts.trainer === undefined) throw new UserInputError('predict: engine "trainer" needs the trainer command, config, checkpoint and repo root');
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserInputError(`predict: batch size must be a positive integer, got ${opts.batchSize}`);
  return predictWithTrainer({
    ...opts.trainer,
    // The trainer runs in the repo root; DuckDB here runs in this process's folder.
    table: path.resolve(opts.table),
    batchSize: opts.batchSize,
    tta: opts.tta,
    ...(opts.featureColumnsFile === undefined ? {} : { featureColumnsFile: opts.featureColumnsFile }),
    workDir: path.resolve(opts.workDir),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
