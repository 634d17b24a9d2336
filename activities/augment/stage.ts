import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import type { StageDefinition } from '../../lib/stage';
import { augment } from './augment';

/** Adds the A/B-swapped copy of every row; the config's mode decides which copies the trainer uses. */
export const augmentStage: StageDefinition = {
  activity: 'augment',
  configSections: ['augment'],
  codePaths: ['activities/augment', 'lib/duckdb.ts'],
  async run(ctx) {
    const result = await augment({
      input: ctx.input('features.parquet'),
      featureColumnsFile: ctx.input('feature_columns.json'),
      mode: ctx.config.augment.mode,
      output: path.join(ctx.outDir, 'augmented.parquet'),
    });
    return { rows: result.rows, swapped_rows: result.swappedRows, mode: ctx.config.augment.mode, synthetic: fromSyntheticData(ctx) };
  },
};
