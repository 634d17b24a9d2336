import { z } from 'zod';
import { USER_ERROR_TYPES } from '../errors';

/** A pipeline's name, its file's without `.yaml`, and the workflow type that runs it: never a path. */
export const PIPELINE_NAME = /^[a-z][a-z0-9-]*$/;

/** Activities a stage may name: each one activity call. */
export const STAGE_ACTIVITIES = ['ingest', 'features', 'augment', 'split', 'evaluate', 'submit', 'package', 'folds', 'fold_split', 'oof', 'soft_labels', 'ensemble'] as const;
export type StageActivity = (typeof STAGE_ACTIVITIES)[number];

/**
 * The steps of the `rounds` composite (shards × rounds of training, merged every round, the best
 * round exported), by role: what each role may name.
 */
export const ROUND_STEPS = { shard: ['trainShard'], merge: ['mergeShards'], export: ['exportModel'] } as const;
const roundsSchema = z
  .strictObject({
    shard: z.enum(ROUND_STEPS.shard).describe("one shard's part of one round, on its own device (or the whole DDP run)"),
    merge: z.enum(ROUND_STEPS.merge).describe("combines a round's shard checkpoints into the next round's start"),
    export: z.enum(ROUND_STEPS.export).describe("exports the best round's checkpoint as the model"),
  })
  .describe('a composite stage: trainer.gpus shards a round, merged each round, the best round exported');
export type RoundSteps = z.infer<typeof roundsSchema>;

/** A foreach variable's name, and a label of one of its values in an instance id `teacher[fold=2]`. */
export const VARIABLE_NAME = /^[a-z][a-z0-9_]*$/;
export const INSTANCE_LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** A dotted path into the run config, e.g. `distill.folds`. */
const configPath = z.string().regex(/^[a-z_]+(\.[a-z_]+)*$/, { error: 'expected a config key path such as distill.folds' });

const fanOutSchema = z.union([
  z.strictObject({ range: z.union([z.int().positive(), configPath]).describe('0..n-1: n, or the config key holding it') }),
  z.strictObject({ in: z.union([z.array(z.json()).min(1, { error: 'an empty list has no instances' }), configPath]).describe('a list, or the config key holding it') }),
]);

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
  activity: z.string().optional().describe('the stage code to run: one activity'),
  rounds: roundsSchema.optional(),
  foreach: z
    .record(z.string().regex(VARIABLE_NAME, { error: 'expected a variable name of lower-case letters, digits and _' }), fanOutSchema)
    .optional()
    .describe('fan-out: one instance per value (per combination, with several variables), e.g. {fold: {range: distill.folds}}'),
  needs: z
    .array(z.string())
    .default([])
    .describe("stages whose outputs this one reads: a stage (all its instances), one instance 'teacher[fold=1]', or 'teacher[fold]': the instance with this instance's fold"),
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

/**
 * A stage, or one instance of a fan-out stage, with every option filled in from the pipeline's
 * defaults: what the workflow runs. Exactly one of `activity` and `rounds` is set.
 */
export interface ResolvedStage {
  /** The stage name, or an instance id such as `teacher[fold=2]`. */
  name: string;
  activity?: StageActivity;
  rounds?: RoundSteps;
  /** The ids of the stages and instances it reads. */
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
