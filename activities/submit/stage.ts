import type { StageDefinition } from '../../lib/stage';
import { predictionOptions, PREDICTION_CODE } from '../prediction-options';
import { fromSyntheticData } from '../synthetic';
import { submit } from './submit';

/** Predicts the test file and writes submission.csv in the competition's format. */
export const submitStage: StageDefinition = {
  activity: 'submit',
  configSections: ['submit'],
  codePaths: ['activities/submit', 'activities/prediction-options.ts', ...PREDICTION_CODE],
  async run(ctx) {
    const result = await submit({
      ...predictionOptions(ctx, ctx.config.submit.engine),
      testTable: ctx.input('test_features.parquet'),
      featureColumnsFile: ctx.input('feature_columns.json'),
      batchSize: ctx.config.submit.batch_size,
      tta: ctx.config.submit.tta,
      outDir: ctx.outDir,
    });
    return { ...result, synthetic: fromSyntheticData(ctx) };
  },
};
