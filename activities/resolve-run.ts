import { loadConfig } from '../lib/config/load';
import { loadPipeline } from '../lib/pipeline/load';
import type { ResolvedRun } from '../lib/run-types';

export interface ResolveRunInput {
  pipeline: string;
  config: string;
  overrides: Record<string, unknown>;
}

export interface ResolveDirs {
  configDir?: string;
  pipelineDir?: string;
}

/** Reads and validates the pipeline and config files; the workflow records the result in history. */
export function resolveRun(input: ResolveRunInput, dirs: ResolveDirs = {}): ResolvedRun {
  const pipeline = loadPipeline(input.pipeline, dirs.pipelineDir);
  const config = loadConfig(input.config, { configDir: dirs.configDir, overrides: input.overrides });
  return { pipeline, config };
}
