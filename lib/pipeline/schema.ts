import { z } from 'zod';
import { USER_ERROR_TYPES } from '../errors';

/** Activities a stage may name; `train` is composite (per-device shards, merges, export). */
export const STAGE_ACTIVITIES = ['ingest', 'features', 'augment', 'split', 'train', 'evaluate', 'submit', 'package', 'folds', 'fold_split', 'oof', 'soft_labels', 'ensemble'] as const;
export type StageActivity = (typeof STAGE_ACTIVITIES)[number];

const DURATION = /^[1-9][0-9]*(ms|s|m|h|d)$/;
const duration = z.string().regex(DURATION, { error: "expected a duration such as '500ms', '30s', '5m', '2h' or '1d'" });

const retrySchema = z
  .strictObject({
    attempts: z.int().positive().default(3).describe('tries for ordinary failures, the first included'),
    system_attempts: z.int().min(0).default(5).describe('extra tries for system failures: pre-emption, OOM, lost worker'),
    initial_interval: duration.default('1s').describe('wait before the first retry'),
    backoff_coefficient: z.number().min(1).default(2).describe('each wait is this times the last'),
    maximum_interval: duration.default('1m').describe('longest wait between tries'),
    non_retryable: z.array(z.string().min(1)).default([...USER_ERROR_TYPES]).describe('error types that fail the stage at once'),
  })
  .describe('retry policy of a stage');

const stageOptionsShape = {
  retry: retrySchema.partial().optional(),
  start_to_close_timeout: duration.optional().describe('longest one attempt may run'),
  heartbeat_timeout: duration.optional().describe('an attempt without a heartbeat for this long has lost its worker'),
  queue: z.enum(['main', 'gpu']).optional().describe("main: the workflow's task queue; gpu: '<main>-gpu'"),
};

const stageSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/, { error: 'expected a lower-case name of letters, digits, _ and -' }),
  activity: z.string().describe('the stage code to run'),
  needs: z.array(z.string()).default([]).describe('stages whose outputs this one reads'),
  params: z.record(z.string(), z.json()).default({}).describe('stage parameters, part of its cache key'),
  cache: z.boolean().default(true).describe('false: always run, never reuse an earlier output'),
  ...stageOptionsShape,
});

export const pipelineFileSchema = z.strictObject({
  description: z.string().default(''),
  defaults: z
    .strictObject({
      retry: retrySchema.default(retrySchema.parse({})),
      start_to_close_timeout: duration.default('1h'),
      heartbeat_timeout: duration.default('15s'),
      queue: z.enum(['main', 'gpu']).default('main'),
    })
    .default({ retry: retrySchema.parse({}), start_to_close_timeout: '1h', heartbeat_timeout: '15s', queue: 'main' }),
  stages: z.array(stageSchema).min(1),
});

export type PipelineFile = z.infer<typeof pipelineFileSchema>;
export type RetrySettings = z.infer<typeof retrySchema>;

/** A stage with every option filled in from the pipeline's defaults: what the workflow runs. */
export interface ResolvedStage {
  name: string;
  activity: StageActivity;
  needs: string[];
  params: Record<string, z.core.util.JSONType>;
  cache: boolean;
  retry: RetrySettings;
  startToCloseTimeout: string;
  heartbeatTimeout: string;
  queue: 'main' | 'gpu';
}

export interface ResolvedPipeline {
  name: string;
  description: string;
  /** Stages in an order where each comes after everything it needs. */
  stages: ResolvedStage[];
}
