import path from 'node:path';
import { predictWithEngine, TRAINER_PREDICT_DIR } from '../../lib/inference/engine';
import { defineStage } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { foldInstances } from '../fold-instances';
import { PREDICTION_SECTIONS, predictionOptions, predictionTrainer } from '../prediction-options';
import { fromSyntheticData } from '../synthetic';
import { evaluateEnsemble } from './ensemble';

/** The fold teachers' ensemble on the split's validation rows, beside each fold model (evaluate's settings). */
export const ensembleStage = defineStage({
  activity: 'ensemble',
  source: sourceOf(__filename),
  config: PREDICTION_SECTIONS('evaluate'),
  outputs: ['metrics.json', 'report.html'],
  trainer: (config) => predictionTrainer(config.evaluate.engine, config.trainer),
  async run(ctx) {
    const teachers = foldInstances('ensemble', ctx.upstream, 'model.onnx');
    const validTable = ctx.input('valid.parquet');
    const featureColumnsFile = ctx.input('feature_columns.json');
    const metrics = await evaluateEnsemble({
      members: [...teachers].map(([fold, { id, result }]) => ({ name: id, fold, modelDir: result.dir })),
      predict: (member) =>
        predictWithEngine({
          ...predictionOptions(ctx, ctx.config.evaluate.engine, member.modelDir),
          workDir: path.join(ctx.logDir, TRAINER_PREDICT_DIR, `fold-${member.fold}`),
          table: validTable,
          batchSize: ctx.config.evaluate.batch_size,
          tta: ctx.config.evaluate.tta,
          featureColumnsFile,
        }),
      validTable,
      tta: ctx.config.evaluate.tta,
      synthetic: fromSyntheticData(ctx),
      outDir: ctx.outDir,
    });
    return {
      rows: metrics.rows,
      synthetic: metrics.synthetic,
      tta: metrics.tta,
      accuracy: metrics.accuracy,
      log_loss: metrics.log_loss,
      members: metrics.members.map((m) => ({ name: m.name, accuracy: m.accuracy, log_loss: m.log_loss })),
    };
  },
});
