import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import type { Json, StageDefinition } from '../../lib/stage';
import { evaluate } from './evaluate';

/** Validation metrics of the exported ONNX model, with and without swap-TTA, and report.html. */
export const evaluateStage: StageDefinition = {
  activity: 'evaluate',
  configSections: ['evaluate'],
  codePaths: ['activities/evaluate', 'lib/inference', 'lib/text-hashing.ts'],
  async run(ctx) {
    const metrics = await evaluate({
      modelDir: path.dirname(ctx.input('model.onnx')),
      validTable: ctx.input('valid.parquet'),
      featureColumnsFile: ctx.input('feature_columns.json'),
      batchSize: ctx.config.evaluate.batch_size,
      tta: ctx.config.evaluate.tta,
      outDir: ctx.outDir,
      synthetic: fromSyntheticData(ctx),
    });
    return metrics as unknown as { [key: string]: Json };
  },
};
