import { defineStage } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { PREDICTION_SECTIONS, predictionOptions, predictionTrainer } from '../prediction-options';
import { fromSyntheticData } from '../synthetic';
import { submit } from './submit';

/** Predicts the test file and writes submission.csv in the competition's format. */
export const submitStage = defineStage({
  activity: 'submit',
  source: sourceOf(__filename),
  config: PREDICTION_SECTIONS('submit'),
  outputs: ['submission.csv'],
  trainer: (config) => predictionTrainer(config.submit.engine, config.trainer),
  async run(ctx) {
    const result = await submit({
      ...predictionOptions(ctx, ctx.config.submit.engine),
      testTable: ctx.input('test_features.parquet'),
      featureColumnsFile: ctx.input('feature_columns.json'),
      batchSize: ctx.config.submit.batch_size,
      tta: ctx.config.submit.tta,
      outDir: ctx.outDir,
      logDir: ctx.logDir,
    });
    return { ...result, synthetic: fromSyntheticData(ctx) };
  },
});
