import path from 'node:path';
import { defineStage, type Json } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { GEMMA2_KIND } from '../../lib/inference/model-manifest';
import { buildPackage } from './build-package';
import { evaluationThroughput } from './evaluation-throughput';
import { readFileSync } from 'node:fs';

/**
 * The run as a Kaggle package: dataset/ (weights, tokenizer, features, code, manifest) and
 * notebook/ (the offline inference notebook and its kernel metadata). A model without a Kaggle
 * inference engine (the CPU trainer's) gets no package, and the summary says why.
 */
export const packageStage = defineStage({
  activity: 'package',
  source: sourceOf(__filename),
  config: ['seed', 'augment', 'model', 'trainer', 'features', 'data', 'submit', 'kaggle'],
  outputs: ['dataset/?', 'notebook/?'],
  trainer: (config) => config.trainer.engine,
  async run(ctx) {
    const modelDir = path.dirname(ctx.input('model.json'));
    const kind = (JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as { kind?: string }).kind;
    if (kind !== GEMMA2_KIND) return { packaged: false, detail: `no Kaggle package: the notebook runs ${GEMMA2_KIND} models, this run's is ${kind}` };
    const train = ctx.upstream['train']!;
    const summary = await buildPackage({
      // The cache key, not a workflow id: another run of the same model reuses this entry.
      runId: `train-${train.cacheKey.slice(0, 12)}`,
      modelDir,
      featureColumnsFile: ctx.input('feature_columns.json'),
      config: ctx.config,
      throughput: evaluationThroughput(ctx.upstream['evaluate']?.summary),
      trainer: ctx.trainer(),
      repoRoot: ctx.repoRoot,
      outDir: ctx.outDir,
    });
    const hours = summary.estimate ? `, about ${summary.estimate.hours.toFixed(1)} h on Kaggle${summary.estimate.warning ? ' (near the limit)' : ''}` : '';
    return {
      packaged: true,
      ...(JSON.parse(JSON.stringify(summary)) as { [key: string]: Json }),
      detail: `Kaggle package ${summary.dataset_dir}/ and ${summary.notebook_dir}/ (${(summary.bytes / 1e6).toFixed(1)} MB${hours})`,
    };
  },
});
