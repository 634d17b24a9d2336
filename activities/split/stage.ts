import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import { defineStage, type Json } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { split } from './split';

/** Deterministic train/validation split that keeps a row and its swapped copy together. */
export const splitStage = defineStage({
  activity: 'split',
  source: sourceOf(__filename),
  config: ['data', 'seed'],
  outputs: ['train.parquet', 'valid.parquet'],
  async run(ctx) {
    const report = await split({
      input: ctx.input('augmented.parquet'),
      validationSize: ctx.config.data.validation_size,
      sampleSize: ctx.config.data.sample_size,
      seed: ctx.config.seed,
      stratifyByLanguage: ctx.config.data.stratify_by_language,
      trainOutput: path.join(ctx.outDir, 'train.parquet'),
      validOutput: path.join(ctx.outDir, 'valid.parquet'),
    });
    return { report: report as unknown as Json, synthetic: fromSyntheticData(ctx) };
  },
});
