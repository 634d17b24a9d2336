import { UserInputError } from '../../lib/errors';
import { defineStage } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { PREDICTION_SECTIONS, predictionOptions, predictionTrainer } from '../prediction-options';
import { fromSyntheticData } from '../synthetic';
import { submit } from './submit';

const MODEL_FILE = 'model.onnx';

/**
 * Predicts the test file and writes submission.csv in the competition's format: with the one model
 * upstream, or, when several upstream instances export one (a fan-out's `teacher[fold=k]`), with
 * their fold ensemble, the mean of their probabilities.
 */
export const submitStage = defineStage({
  activity: 'submit',
  source: sourceOf(__filename),
  config: PREDICTION_SECTIONS('submit'),
  outputs: ['submission.csv'],
  trainer: (config) => predictionTrainer(config.submit.engine, config.trainer),
  async run(ctx) {
    const [first, ...others] = Object.keys(ctx.upstream)
      .sort()
      .filter((id) => MODEL_FILE in ctx.upstream[id]!.files)
      .map((id) => predictionOptions(ctx, ctx.config.submit.engine, ctx.upstream[id]!.dir));
    if (!first) throw new UserInputError(`submit: no upstream stage provides '${MODEL_FILE}' (upstream: ${Object.keys(ctx.upstream).join(', ')}); check the stage's needs in the pipeline`);
    const result = await submit({
      ...first,
      ensemble: others,
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
