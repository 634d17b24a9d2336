import path from 'node:path';
import type { EngineOptions } from '../lib/inference/engine';
import type { StageContext } from '../lib/stage';

/** Code versions of the stages that score tables: inference, the trainer engine's trainer process and its trainers. */
export const PREDICTION_CODE = ['lib/inference', 'lib/duckdb.ts', 'lib/text-hashing.ts', 'lib/feature-columns.ts', 'lib/trainer-process.ts', 'trainers'];

/**
 * How evaluate and submit score tables: the train stage's exported model (`model.onnx`, `model.json`,
 * and the checkpoint it came from), with the engine of the config's section, heartbeating progress
 * and stopping when the stage is cancelled.
 */
export function predictionOptions(ctx: StageContext, engine: 'onnx' | 'trainer') {
  const modelDir = path.dirname(ctx.input('model.onnx'));
  const options: EngineOptions & { modelDir: string; signal: AbortSignal; onProgress(rows: number): void } = {
    modelDir,
    engine,
    signal: ctx.signal,
    onProgress: (rows) => ctx.heartbeat({ rows }),
  };
  if (engine === 'trainer') {
    const trainer = ctx.trainer();
    options.trainer = { command: trainer.argv, passEnv: trainer.env, config: ctx.config, checkpoint: path.join(modelDir, 'checkpoint'), repoRoot: ctx.repoRoot };
  }
  return options;
}
