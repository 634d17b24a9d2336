import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import { defineStage } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { augment } from './augment';

/** Adds the A/B-swapped copy of every row; the config's mode decides which copies the trainer uses. */
export const augmentStage = defineStage({
  activity: 'augment',
  source: sourceOf(__filename),
  config: ['augment'],
  outputs: ['augmented.parquet'],
  async run(ctx) {
    const result = await augment({
      input: ctx.input('features.parquet'),
      featureColumnsFile: ctx.input('feature_columns.json'),
      mode: ctx.config.augment.mode,
      output: path.join(ctx.outDir, 'augmented.parquet'),
    });
    return { rows: result.rows, swapped_rows: result.swappedRows, mode: ctx.config.augment.mode, synthetic: fromSyntheticData(ctx) };
  },
});
