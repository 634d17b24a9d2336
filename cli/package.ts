import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { buildPackage, type PackageSummary } from '../activities/package/build-package';
import { evaluationThroughput } from '../activities/package/evaluation-throughput';
import { describeEstimate } from '../activities/package/runtime-estimate';
import { kaggleSchema, runConfigSchema, type RunConfig } from '../lib/config/schema';
import { UserInputError } from '../lib/errors';
import { loadTrainerRegistry, resolveTrainer } from '../lib/trainer-registry';
import { outputOfStage, stageResultsOf } from './run-results';

/** The run's config as its resolveRun activity resolved it (the worker's files, the run's overrides). */
async function resolvedConfig(handle: WorkflowHandle): Promise<RunConfig> {
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const payload = event.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (!payload) continue;
    const value = defaultPayloadConverter.fromPayload<{ pipeline?: unknown; config?: unknown }>(payload);
    if (value && value.pipeline && value.config) return runConfigSchema.parse(value.config);
  }
  throw new UserInputError(`${handle.workflowId}: no resolved config in its history (did the run start?)`);
}

export interface PackageCommandOptions {
  workflowId: string;
  outDir: string;
  /** owner/slug; default: the config's kaggle.dataset. */
  kaggleDataset?: string;
  repoRoot: string;
}

/** `arena package`: the finished run's package written to `outDir`, from the run's own stage outputs. */
export async function packageRun(handle: WorkflowHandle, o: PackageCommandOptions): Promise<{ summary: PackageSummary; text: string }> {
  const results = await stageResultsOf(handle);
  const train = outputOfStage(results, 'train');
  const features = outputOfStage(results, 'features');
  if (!train || !features) throw new UserInputError(`${o.workflowId}: the run has no completed train and features stages to package`);
  const config = await resolvedConfig(handle);
  const dataset = o.kaggleDataset === undefined ? config.kaggle.dataset : kaggleSchema.shape.dataset.parse(o.kaggleDataset);
  const summary = await buildPackage({
    runId: o.workflowId,
    modelDir: train.dir,
    featureColumnsFile: path.join(features.dir, 'feature_columns.json'),
    config: { ...config, kaggle: { ...config.kaggle, dataset } },
    throughput: evaluationThroughput(outputOfStage(results, 'evaluate')?.summary),
    trainer: resolveTrainer(loadTrainerRegistry(), config.trainer.engine),
    repoRoot: o.repoRoot,
    outDir: o.outDir,
  });
  const datasetDir = path.join(o.outDir, summary.dataset_dir);
  const notebookDir = path.join(o.outDir, summary.notebook_dir);
  const text = [
    `package:  ${datasetDir} (${summary.files} files, ${(summary.bytes / 1e6).toFixed(2)} MB; the backbone ${config.kaggle.basemodel} is attached, not copied)`,
    `notebook: ${notebookDir}`,
    summary.estimate ? describeEstimate(summary.estimate) : 'no run-time estimate: the run\'s evaluation recorded no timing',
    '',
    'upload and submit:',
    `  kaggle datasets create -p ${datasetDir} --dir-mode zip && kaggle kernels push -p ${notebookDir}`,
    `  kaggle competitions submit ${config.kaggle.competition} -k ${summary.kernel} -v 1 -f submission.csv -m "${o.workflowId}"`,
    ...(dataset === null ? ['(no --kaggle-dataset given: dataset-metadata.json and kernel-metadata.json name a placeholder owner; pass --kaggle-dataset owner/slug)'] : []),
  ].join('\n');
  return { summary, text };
}
