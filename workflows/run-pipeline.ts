import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  defineQuery,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ResolvedStage, RoundSteps } from '../lib/pipeline/schema';
import type { PipelineResult, ResolvedRun, RunProgress, StageProgress } from '../lib/run-types';
import { describeInputIssues, pipelineInputSchema, type PipelineInput } from '../lib/workflow-input';
import type { Json, StageResult } from '../lib/stage';
import type { StageRequest } from '../activities/stage-runner';
import { initialStageProgress, progressMarkdown } from './progress';
import { backoff, classifyFailure, isCancellation, RetryBudget } from './retry';
import { ARENA_CONFIG, ARENA_PIPELINE, ARENA_STATUS, ARENA_VAL_ACCURACY, ARENA_VAL_LOG_LOSS } from './search-attributes';
import { runTrainStage } from './train-rounds';

export const progressQuery = defineQuery<RunProgress>('progress');

type StageActivityName = Exclude<keyof Activities, 'resolveRun'>;

const { resolveRun } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['ConfigError', 'PipelineError', 'UserInputError'] },
});

/**
 * Stages that do not depend on a failed stage go on to their end, so that their outputs are cached
 * and a resumed run re-runs only the failed stage and what depends on it (a fan-out's other
 * instances, hours of training each, are not thrown away). Runs started before this cancelled
 * everything at the first failure: they replay so.
 */
export const INDEPENDENT_STAGES_FINISH = 'independent-stages-finish';

/**
 * Runs any pipeline of `pipelines/`: the workflow type is the pipeline's name. Stages start as soon
 * as what they need is done; a stage that spends its retry budget fails the run with its cause,
 * once every stage that does not depend on it has ended.
 */
export async function runPipeline(rawInput?: unknown): Promise<PipelineResult> {
  const input = validInput(rawInput);
  const pipelineName = workflowInfo().workflowType;
  const progress: RunProgress = { pipeline: pipelineName, config: input.config, status: 'resolving', stages: {} };
  setHandler(progressQuery, () => progress);
  const publish = () => setCurrentDetails(progressMarkdown(progress));
  upsertSearchAttributes([
    { key: ARENA_CONFIG, value: input.config },
    { key: ARENA_PIPELINE, value: pipelineName },
    { key: ARENA_STATUS, value: 'running' },
  ]);

  const run = await resolveRun({ pipeline: pipelineName, config: input.config, overrides: input.overrides ?? {} });
  for (const stage of run.pipeline.stages) progress.stages[stage.name] = initialStageProgress();
  progress.status = 'running';
  publish();

  const results = new Map<string, Promise<StageResult>>();
  const independentStagesFinish = patched(INDEPENDENT_STAGES_FINISH);
  const scope = new CancellationScope();
  let firstFailure: unknown;
  try {
    await scope.run(async () => {
      for (const stage of run.pipeline.stages) {
        const pending = (async () => {
          const upstream: Record<string, StageResult> = {};
          for (const need of stage.needs) upstream[need] = await results.get(need)!;
          return runStage(stage, run, upstream, progress, input.noCache === true, publish);
        })();
        // A stage whose need failed rejects with that failure before it starts: it is skipped.
        pending.catch((err: unknown) => {
          if (firstFailure === undefined && !isCancellation(err)) {
            firstFailure = err;
            if (!independentStagesFinish) scope.cancel();
          }
        });
        results.set(stage.name, pending);
      }
      await Promise.allSettled(results.values());
      // Every stage has ended; what a failed composite still had in flight (its other shards) is cancelled.
      if (firstFailure !== undefined && independentStagesFinish) scope.cancel();
    });
  } catch (err) {
    firstFailure ??= err;
  }
  if (firstFailure !== undefined || CancellationScope.current().consideredCancelled) {
    const cancelled = firstFailure === undefined || isCancellation(firstFailure);
    progress.status = cancelled ? 'cancelled' : 'failed';
    for (const s of Object.values(progress.stages)) if (s.state === 'pending' || s.state === 'running') s.state = 'cancelled';
    upsertSearchAttributes([{ key: ARENA_STATUS, value: progress.status }]);
    publish();
    throw firstFailure ?? new CancelledFailure('run cancelled');
  }

  const finished: Record<string, StageResult> = {};
  for (const [name, pending] of results) finished[name] = await pending;
  const metrics = Object.values(finished).find((r) => r.activity === 'evaluate')?.summary;
  progress.status = 'completed';
  upsertSearchAttributes([{ key: ARENA_STATUS, value: 'completed' }, ...metricAttributes(metrics)]);
  publish();
  return {
    pipeline: pipelineName,
    config: input.config,
    stages: Object.fromEntries(Object.entries(finished).map(([name, r]) => [name, { dir: r.dir, cacheHit: r.cacheHit, summary: r.summary }])),
    progress,
    metrics,
  };

  function metricAttributes(m: { [key: string]: Json } | undefined) {
    const accuracy = typeof m?.['accuracy'] === 'number' ? m['accuracy'] : undefined;
    const logLoss = typeof m?.['log_loss'] === 'number' ? m['log_loss'] : undefined;
    if (accuracy !== undefined) progress.metric = { name: 'validation accuracy', value: accuracy };
    return [
      ...(accuracy !== undefined ? [{ key: ARENA_VAL_ACCURACY, value: accuracy }] : []),
      ...(logLoss !== undefined ? [{ key: ARENA_VAL_LOG_LOSS, value: logLoss }] : []),
    ];
  }
}

/**
 * The input, checked before anything else: a bad one fails the run at once, not retryable, naming
 * the field. The input itself goes on, not zod's copy, which would silently drop a `__proto__`
 * key of the overrides that the worker's config loader refuses by name.
 */
function validInput(rawInput: unknown): PipelineInput {
  const parsed = pipelineInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({ message: `invalid workflow input: ${describeInputIssues(parsed.error.issues)}`, type: 'InvalidWorkflowInput', nonRetryable: true });
  }
  return rawInput as PipelineInput;
}

/**
 * The steps of a `rounds` composite stage. Runs started before composites were declared in the
 * pipeline file recorded their train stage as `activity: train` in history: they replay as the
 * composite they ran.
 */
function roundsOf(stage: ResolvedStage): RoundSteps | undefined {
  if (stage.rounds) return stage.rounds;
  return (stage.activity as string | undefined) === 'train' ? { shard: 'trainShard', merge: 'mergeShards', export: 'exportModel' } : undefined;
}

/** Runs one pipeline stage (or fan-out instance): a composite of rounds, or a single activity. */
async function runStage(
  stage: ResolvedStage,
  run: ResolvedRun,
  upstream: Record<string, StageResult>,
  runProgress: RunProgress,
  noCache: boolean,
  publish: () => void,
): Promise<StageResult> {
  const progress = runProgress.stages[stage.name]!;
  const reportMetric = (name: string, value: number) => {
    runProgress.metric = { name, value };
    publish();
  };
  progress.state = 'running';
  publish();
  try {
    const call: StageCall = (activity, stageId, params, stepUpstream) =>
      callWithRetry(stage, activity, { stageId, params, config: run.config, upstream: stepUpstream, cache: stage.cache && !noCache }, progress, publish);
    const rounds = roundsOf(stage);
    const result = rounds
      ? await runTrainStage({ stage, steps: rounds, config: run.config, upstream, call, progress, reportMetric })
      : await call(stage.activity!, stage.name, stage.params, upstream);
    progress.state = progress.executed === 0 ? 'cached' : 'done';
    // A stage may name what it made (the package stage: where its package is) for the progress table.
    if (typeof result.summary['detail'] === 'string') progress.detail = `${result.summary['detail']} in ${result.dir}`;
    publish();
    return result;
  } catch (err) {
    progress.state = isCancellation(err) ? 'cancelled' : 'failed';
    publish();
    throw err;
  }
}

export type StageCall = (activity: StageActivityName, stageId: string, params: Record<string, Json>, upstream: Record<string, StageResult>) => Promise<StageResult>;

/** One activity with the stage's retry policy: separate budgets for system and ordinary failures. */
async function callWithRetry(
  stage: ResolvedStage,
  activity: StageActivityName,
  request: StageRequest,
  progress: StageProgress,
  publish: () => void,
): Promise<StageResult> {
  const activities = proxyActivities<Activities>({
    taskQueue: stage.queue === 'gpu' ? `${workflowInfo().taskQueue}-gpu` : workflowInfo().taskQueue,
    startToCloseTimeout: stage.startToCloseTimeout as Duration,
    heartbeatTimeout: stage.heartbeatTimeout as Duration,
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // The UI's timeline names each activity by its stage id, e.g. train/round-1/shard-0.
    summary: request.stageId,
  });
  const budget = new RetryBudget(stage.retry);
  let resumeFrom: unknown;
  for (;;) {
    progress.attempts++;
    try {
      const result = await activities[activity]({ ...request, resumeFrom });
      if (result.cacheHit) progress.cacheHits++;
      else progress.executed++;
      return result;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = classifyFailure(err, stage.retry);
      if (failure.resumeFrom !== undefined && failure.resumeFrom !== null) resumeFrom = failure.resumeFrom;
      progress.lastError = `${request.stageId}: ${failure.message}`;
      const wait = budget.charge(failure.kind);
      progress.systemFailures = budget.systemFailures;
      if (wait === undefined) {
        throw ApplicationFailure.create({
          message: `stage '${stage.name}' failed (${request.stageId}, ${failure.kind === 'fatal' ? 'not retryable' : 'retries spent'}): ${failure.message}`,
          type: 'StageFailed',
          nonRetryable: true,
          cause: err instanceof Error ? err : undefined,
        });
      }
      progress.state = 'retrying';
      publish();
      await backoff(wait);
      progress.state = 'running';
      publish();
    }
  }
}
