import { defineStage, type Json } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { PREDICTION_SECTIONS, predictionOptions, predictionTrainer } from '../prediction-options';
import { fromSyntheticData } from '../synthetic';
import { evaluate } from './evaluate';

/** Validation metrics of the exported model, with and without swap-TTA, and report.html. */
export const evaluateStage = defineStage({
  activity: 'evaluate',
  source: sourceOf(__filename),
  config: PREDICTION_SECTIONS('evaluate'),
  outputs: ['metrics.json', 'report.html'],
  trainer: (config) => predictionTrainer(config.evaluate.engine, config.trainer),
  async run(ctx) {
    const started = performance.now();
    const metrics = await evaluate({
      ...predictionOptions(ctx, ctx.config.evaluate.engine),
      validTable: ctx.input('valid.parquet'),
      featureColumnsFile: ctx.input('feature_columns.json'),
      batchSize: ctx.config.evaluate.batch_size,
      tta: ctx.config.evaluate.tta,
      outDir: ctx.outDir,
      logDir: ctx.logDir,
      synthetic: fromSyntheticData(ctx),
    });
    // The headline numbers travel in the workflow; the tables stay in metrics.json.
    const summary: { [key: string]: Json } = {
      rows: metrics.rows,
      synthetic: metrics.synthetic,
      model_kind: metrics.model_kind,
      accuracy: metrics.accuracy,
      log_loss: metrics.log_loss,
      roc_auc: metrics.roc_auc,
      ece: metrics.ece,
      tta: metrics.tta && { accuracy: metrics.tta.accuracy, log_loss: metrics.tta.log_loss },
      baseline_longer: { accuracy: metrics.baseline_longer.accuracy },
      // Scoring throughput, for the package stage's Kaggle run-time estimate.
      timing: { seconds: (performance.now() - started) / 1000, passes: ctx.config.evaluate.tta ? 2 : 1 },
    };
    return summary;
  },
});
