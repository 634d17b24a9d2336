import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import { defineStage, type Json } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { assignFolds } from './folds';

/** k-fold assignment of the split's training pairs (distill.folds), stratified by language. */
export const foldsStage = defineStage({
  activity: 'folds',
  source: sourceOf(__filename),
  config: ['distill', 'seed'],
  outputs: ['folds.parquet'],
  async run(ctx) {
    const report = await assignFolds({
      input: ctx.input('train.parquet'),
      folds: ctx.config.distill.folds,
      seed: ctx.config.seed,
      output: path.join(ctx.outDir, 'folds.parquet'),
    });
    return { report: report as unknown as Json, synthetic: fromSyntheticData(ctx) };
  },
});
