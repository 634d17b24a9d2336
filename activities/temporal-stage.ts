import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { USER_ERROR_TYPES } from '../lib/errors';
import { recordRunUse } from '../lib/store/run-index';
import type { StageDefinition, StageResult } from '../lib/stage';
import { runStage, type StageEnvironment, type StageRequest } from './stage-runner';

/** Heartbeat at least this often while a stage works, so only a dead worker misses its timeout. */
const HEARTBEAT_EVERY_MS = 2000;

/** Never aborted: the pre-emption signal of a worker that is never pre-empted. */
const NEVER = new AbortController().signal;

/**
 * Binds a stage to Temporal: heartbeats, cancellation, pre-emption, and failures typed for the
 * workflow's retry budgets.
 */
export function temporalStage(def: StageDefinition, env: StageEnvironment): (request: StageRequest) => Promise<StageResult> {
  return async (request) => {
    const activity = Context.current();
    let lastDetails: unknown = activity.info.heartbeatDetails;
    const timer = setInterval(() => activity.heartbeat(lastDetails), HEARTBEAT_EVERY_MS);
    // Activities started outside a workflow have no run to record their references under.
    const workflowId = activity.info.workflowExecution?.workflowId;
    const run = workflowId === undefined ? undefined : { workflowId, activityId: activity.info.activityId, config: request.config.name };
    try {
      const work = runStage(def, request, env, {
        heartbeat: (details) => {
          if (details !== undefined) lastDetails = details;
          activity.heartbeat(lastDetails);
        },
        signal: activity.cancellationSignal,
        preempted: env.preemption?.signal ?? NEVER,
        log: (message) => activity.log.info(message),
        run,
      });
      const result = await (env.preemption ? env.preemption.race(work) : work);
      if (run) recordRunUse(env.store.root, run.workflowId, run.config, result.ref);
      return result;
    } catch (err) {
      throw toFailure(err, lastDetails);
    } finally {
      clearInterval(timer);
    }
  };
}

function toFailure(err: unknown, lastDetails: unknown): unknown {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const userError = (USER_ERROR_TYPES as readonly string[]).includes(error.name);
  return ApplicationFailure.create({
    type: error.name,
    message: error.message,
    nonRetryable: userError,
    details: lastDetails === undefined ? [] : [lastDetails],
    cause: error,
  });
}
