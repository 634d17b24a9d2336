import type { RunConfig } from '../lib/config/schema';
import type { ResolvedStage, RoundSteps } from '../lib/pipeline/schema';
import type { StageProgress } from '../lib/run-types';
import type { StageResult } from '../lib/stage';
import type { StageCall } from './run-pipeline';

/** What a `rounds` composite stage works with: its declaration, the run's config, its upstream, how it calls a step. */
export interface RoundsRun {
  stage: ResolvedStage;
  steps: RoundSteps;
  config: RunConfig;
  upstream: Record<string, StageResult>;
  call: StageCall;
  progress: StageProgress;
  reportMetric: (name: string, value: number) => void;
}
