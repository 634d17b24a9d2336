import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import type { StageDefinition } from '../../lib/stage';
import { submit } from './submit';

/** Predicts the test file and writes submission.csv in the competition's format. */
export const submitStage: StageDefinition = {
  activity: 'submit',
  configSections: ['submit'],
  codePaths: ['activities/submit', 'lib/inference', 'lib/text-hashing.ts'],
  async run(ctx) {
    const result = await submit({
      modelDir: path.dirname(ctx.input('model.onnx')),
      testTable: ctx.input('test_features.parquet'),
      featureColumnsFile: ctx.input('feature_columns.json'),
      batchSize: ctx.config.submit.batch_size,
      tta: ctx.config.submit.tta,
      outDir: ctx.outDir,
    });
    return { ...result, synthetic: fromSyntheticData(ctx) };
  },
};
