import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import { defineStage } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { foldSplit } from './fold-split';

/** The data of one fold's teacher (`fold_data[fold=k]`): the other folds to train on, fold k to predict. */
export const foldSplitStage = defineStage({
  activity: 'fold_split',
  source: sourceOf(__filename),
  config: [],
  outputs: ['train.parquet', 'valid.parquet'],
  async run(ctx) {
    const result = await foldSplit({
      train: ctx.input('train.parquet'),
      folds: ctx.input('folds.parquet'),
      fold: ctx.params['fold'] as number,
      trainOutput: path.join(ctx.outDir, 'train.parquet'),
      validOutput: path.join(ctx.outDir, 'valid.parquet'),
    });
    return { ...result, synthetic: fromSyntheticData(ctx) };
  },
});
