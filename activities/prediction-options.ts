import path from 'node:path';
import { TRAINER_SECTIONS, type RunConfig, type TrainerConfig } from '../lib/config/schema';
import type { EngineOptions } from '../lib/inference/engine';
import type { StageContext } from '../lib/stage';

/**
 * The config sections evaluate and submit read: their own, and the trainer's, which the `trainer`
 * engine hands to the trainer's predict verb.
 */
export const PREDICTION_SECTIONS = <const S extends 'evaluate' | 'submit'>(own: S) => [own, ...TRAINER_SECTIONS] as const;

type PredictionContext = StageContext<(typeof TRAINER_SECTIONS)[number] | 'evaluate' | 'submit'>;

/** The trainer a scoring stage runs: only with the `trainer` engine. */
export function predictionTrainer(engine: 'onnx' | 'trainer', trainer: RunConfig['trainer']): string | undefined {
  return engine === 'trainer' ? trainer.engine : undefined;
}

/**
 * How evaluate and submit score tables: the train stage's exported model (`model.onnx`, `model.json`,
 * and the checkpoint it came from), with the engine of the config's section, heartbeating progress
 * and stopping when the stage is cancelled. A stage with several models upstream (the fold
 * teachers) names the one's folder.
 */
export function predictionOptions(
  ctx: Omit<PredictionContext, 'config'> & { config: TrainerConfig },
  engine: 'onnx' | 'trainer',
  modelDir: string = path.dirname(ctx.input('model.onnx')),
) {
  const options: EngineOptions & { modelDir: string; signal: AbortSignal; onProgress(rows: number): void } = {
    modelDir,
    engine,
    signal: ctx.signal,
    onProgress: (rows) => ctx.heartbeat({ rows }),
  };
  if (engine === 'trainer') {
    const entry = ctx.trainer();
    const { seed, augment, model, trainer } = ctx.config;
    options.trainer = { command: entry.argv, passEnv: entry.env, config: { seed, augment, model, trainer }, checkpoint: path.join(modelDir, 'checkpoint'), repoRoot: ctx.repoRoot };
  }
  return options;
}
