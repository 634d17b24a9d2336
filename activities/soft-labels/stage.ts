import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import { defineStage, type Json } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { softLabels } from './soft-labels';
import { resolveTeachers } from './teacher-files';

/**
 * The student's data: the split's rows with `teacher_p` from distill.teachers (the pipeline's own
 * out-of-fold predictions and imported files); imported files' contents enter the key.
 */
export const softLabelsStage = defineStage({
  activity: 'soft_labels',
  source: sourceOf(__filename),
  config: ['distill', 'data'],
  outputs: ['train.parquet', 'valid.parquet'],
  externalInputs: (config, repoRoot) => resolveTeachers(config, repoRoot).flatMap((teacher) => (teacher.file ? [teacher.file] : [])),
  async run(ctx) {
    const oof = Object.values(ctx.upstream).some((result) => 'oof.parquet' in result.files) ? ctx.input('oof.parquet') : undefined;
    const summary = await softLabels({
      teachers: resolveTeachers(ctx.config, ctx.repoRoot),
      oof,
      train: ctx.input('train.parquet'),
      valid: ctx.input('valid.parquet'),
      swapTolerance: ctx.config.distill.swap_tolerance,
      loss: { alpha: ctx.config.distill.alpha, temperature: ctx.config.distill.temperature },
      trainOutput: path.join(ctx.outDir, 'train.parquet'),
      validOutput: path.join(ctx.outDir, 'valid.parquet'),
    });
    return { ...(summary as unknown as { [key: string]: Json }), synthetic: fromSyntheticData(ctx) };
  },
});
