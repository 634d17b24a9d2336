import type { RunConfig } from './config/schema';
import type { ResolvedPipeline } from './pipeline/schema';
import type { Json } from './stage';

export type { PipelineInput } from './workflow-input';

/** What the first activity resolves from files, so that it is recorded in history and replay reads none. */
export interface ResolvedRun {
  pipeline: ResolvedPipeline;
  config: RunConfig;
}

export type StageState = 'pending' | 'running' | 'retrying' | 'done' | 'cached' | 'failed' | 'cancelled';

export interface StageProgress {
  state: StageState;
  /** Activity attempts started, over all sub-steps. */
  attempts: number;
  /** Failures charged to the system budget (pre-emption, OOM, lost worker). */
  systemFailures: number;
  /** Sub-steps served from the cache. */
  cacheHits: number;
  /** Sub-steps executed. */
  executed: number;
  /** Sub-steps the stage will take in all: 1, or the train stage's shards, merges and export. */
  total: number;
  detail: string;
  lastError?: string;
}

export interface RunProgress {
  pipeline: string;
  config: string;
  status: 'resolving' | 'running' | 'completed' | 'failed' | 'cancelled';
  stages: Record<string, StageProgress>;
  /** The latest headline metric, e.g. validation accuracy once evaluate is done. */
  metric?: { name: string; value: number };
}

export interface PipelineResult {
  pipeline: string;
  config: string;
  stages: Record<string, { dir: string; cacheHit: boolean; summary: { [key: string]: Json } }>;
  progress: RunProgress;
  metrics?: { [key: string]: Json };
}
