import { loadConfig } from '../lib/config/load';
import { checkWorkflowOverrides } from '../lib/config/workflow-overrides';
import { loadPipeline } from '../lib/pipeline/load';
import type { ResolvedRun } from '../lib/run-types';
import { checkParallel, resolveTrainer, type TrainerRegistry } from '../lib/trainer-registry';

export interface ResolveRunInput {
  pipeline: string;
  config: string;
  overrides: Record<string, unknown>;
}

export interface ResolveDirs {
  configDir?: string;
  pipelineDir?: string;
}

/**
 * Reads and validates the pipeline and config files; the workflow records the result in history.
 * The overrides come from a workflow input: they may not set worker-only keys, and the trainer
 * they name must be one this worker knows.
 */
export function resolveRun(input: ResolveRunInput, dirs: ResolveDirs & { trainers: TrainerRegistry }): ResolvedRun {
  checkWorkflowOverrides(input.config, input.overrides);
  const config = loadConfig(input.config, { configDir: dirs.configDir, overrides: input.overrides });
  // A foreach may range over a config value: the pipeline is expanded for this config.
  const pipeline = loadPipeline(input.pipeline, config, dirs.pipelineDir);
  resolveTrainer(dirs.trainers, config.trainer.engine, `invalid config '${input.config}': trainer.engine`);
  checkParallel(dirs.trainers, config.trainer, `invalid config '${input.config}': trainer.parallel`);
  return { pipeline, config };
}
