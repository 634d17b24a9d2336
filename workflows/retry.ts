import { TimeoutType } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation, sleep } from '@temporalio/workflow';
import type { RetrySettings } from '../lib/pipeline/schema';

/** Failures of the machine rather than the code: they draw on the system budget (Metaflow's split). */
const SYSTEM_FAILURE_TYPES = ['Preempted', 'OutOfMemory', 'WorkerLost'];

export type FailureKind = 'fatal' | 'system' | 'ordinary';

export interface ClassifiedFailure {
  kind: FailureKind;
  message: string;
  /** The last heartbeat details the failed attempt left: where a retry resumes. */
  resumeFrom: unknown;
}

export function classifyFailure(err: unknown, retry: RetrySettings): ClassifiedFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) {
    const lostWorker = cause.timeoutType === TimeoutType.HEARTBEAT || cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
    return {
      kind: lostWorker ? 'system' : 'ordinary',
      message: lostWorker ? `WorkerLost: no heartbeat within the heartbeat timeout` : `timed out (${cause.timeoutType === undefined ? "unknown" : TimeoutType[cause.timeoutType]})`,
      resumeFrom: cause.lastHeartbeatDetails,
    };
  }
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? 'Error';
    const kind: FailureKind = cause.nonRetryable || retry.non_retryable.includes(type) ? 'fatal' : SYSTEM_FAILURE_TYPES.includes(type) ? 'system' : 'ordinary';
    return { kind, message: `${type}: ${cause.message}`, resumeFrom: cause.details?.[0] };
  }
  return { kind: 'ordinary', message: err instanceof Error ? err.message : String(err), resumeFrom: undefined };
}

/** Counts tries per budget; says whether another try is allowed and how long to wait first. */
export class RetryBudget {
  private ordinary = 0;
  private system = 0;

  constructor(private readonly retry: RetrySettings) {}

  get systemFailures(): number {
    return this.system;
  }

  /** Charges a failure; returns the wait in ms before the next try, or undefined when spent. */
  charge(kind: FailureKind): number | undefined {
    if (kind === 'fatal') return undefined;
    if (kind === 'system') {
      this.system++;
      if (this.system > this.retry.system_attempts) return undefined;
    } else {
      this.ordinary++;
      if (this.ordinary >= this.retry.attempts) return undefined;
    }
    const n = this.ordinary + this.system - 1;
    return Math.min(durationMs(this.retry.initial_interval) * this.retry.backoff_coefficient ** n, durationMs(this.retry.maximum_interval));
  }
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(duration: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(duration);
  if (!match) throw new Error(`bad duration '${duration}'`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export async function backoff(ms: number): Promise<void> {
  if (ms > 0) await sleep(ms);
}

export { isCancellation };
