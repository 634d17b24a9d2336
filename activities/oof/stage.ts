import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { predictWithEngine, TRAINER_PREDICT_DIR } from '../../lib/inference/engine';
import { defineStage, type Json } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { foldInstances } from '../fold-instances';
import { PREDICTION_SECTIONS, predictionOptions, predictionTrainer } from '../prediction-options';
import { fromSyntheticData } from '../synthetic';
import { outOfFold, type OofMember } from './oof';

/**
 * Gathers the fold teachers' out-of-fold predictions: teacher[fold=k] scores fold_data[fold=k]'s
 * valid.parquet (the fold it did not train on), with evaluate's engine and batch size.
 */
export const oofStage = defineStage({
  activity: 'oof',
  source: sourceOf(__filename),
  config: PREDICTION_SECTIONS('evaluate'),
  outputs: ['oof.parquet'],
  trainer: (config) => predictionTrainer(config.evaluate.engine, config.trainer),
  async run(ctx) {
    const stageId = 'oof';
    const teachers = foldInstances(stageId, ctx.upstream, 'model.onnx');
    const data = foldInstances(stageId, ctx.upstream, 'valid.parquet');
    const split = Object.entries(ctx.upstream).find(([, result]) => result.activity === 'split');
    if (!split) throw new UserInputError(`${stageId}: needs the split stage (its train.parquet is what must be covered); check the stage's needs in the pipeline`);
    const members: (OofMember & { modelDir: string })[] = [...teachers].map(([fold, teacher]) => {
      const own = data.get(fold);
      if (!own) throw new UserInputError(`${stageId}: ${teacher.id} has no fold data instance with fold ${fold} upstream (found: ${[...data.values()].map((d) => d.id).join(', ')})`);
      return { fold, teacher: teacher.id, data: own.id, modelDir: teacher.result.dir, validTable: path.join(own.result.dir, 'valid.parquet'), trainTable: path.join(own.result.dir, 'train.parquet') };
    });
    const orphan = [...data].find(([fold]) => !teachers.has(fold));
    if (orphan) throw new UserInputError(`${stageId}: ${orphan[1].id} has no teacher with fold ${orphan[0]} upstream; its rows would have no prediction`);
    const summary = await outOfFold({
      stageId,
      splitTrain: path.join(split[1].dir, 'train.parquet'),
      members,
      predict: (member) =>
        predictWithEngine({
          ...predictionOptions(ctx, ctx.config.evaluate.engine, member.modelDir),
          workDir: path.join(ctx.logDir, TRAINER_PREDICT_DIR, `fold-${member.fold}`),
          table: member.validTable,
          batchSize: ctx.config.evaluate.batch_size,
          tta: false,
          featureColumnsFile: ctx.input('feature_columns.json'),
        }),
      output: path.join(ctx.outDir, 'oof.parquet'),
    });
    return { ...(summary as unknown as { [key: string]: Json }), synthetic: fromSyntheticData(ctx) };
  },
});
