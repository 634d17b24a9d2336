import { SystemError } from './errors';

/** RunPod kills a pod 30 s after its SIGTERM; the worker is gone a little before that. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;

/**
 * Time the failures of unfinished stages need to reach the server before the worker exits. Stages
 * that cannot checkpoint get the grace minus this to finish on their own.
 */
const REPORT_MARGIN_MS = 3_000;

/** `ARENA_SHUTDOWN_GRACE`: seconds (`25`, `7.5`) or a duration (`25s`, `900ms`). */
export function shutdownGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = env['ARENA_SHUTDOWN_GRACE'];
  if (value === undefined || value === '') return DEFAULT_SHUTDOWN_GRACE_MS;
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  if (!match) throw new TypeError(`ARENA_SHUTDOWN_GRACE: expected seconds such as 25, 25s or 900ms, got '${value}'`);
  return Math.round(Number(match[1]) * (match[2] === 'ms' ? 1 : 1000));
}

/**
 * A worker's pre-emption (the platform's SIGTERM, then SIGKILL after a grace period). Stages see
 * `signal`: trainers checkpoint at once and exit; every other stage may finish until `stageDeadline`
 * and is failed as `Preempted` then, so the next attempt starts on another worker without waiting
 * for a heartbeat timeout.
 */
export class Preemption {
  private readonly controller = new AbortController();
  private deadline: Promise<never> | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Races not settled yet: while there are any, the deadline timer keeps the process alive. */
  private pending = 0;
  /** Aborted, with a `Preempted` SystemError as its reason, when the worker is pre-empted. */
  readonly signal = this.controller.signal;

  constructor(readonly graceMs: number) {}

  begin(why: string): void {
    if (this.signal.aborted) return;
    const error = new SystemError('Preempted', `the worker was pre-empted (${why}) before the stage finished`);
    const wait = Math.max(0, this.graceMs - REPORT_MARGIN_MS);
    this.deadline = new Promise<never>((_, reject) => {
      this.deadlineTimer = setTimeout(() => reject(error), wait);
    });
    // An idle worker exits without waiting for it; a stage that still races it must see it fire.
    if (this.pending === 0) this.deadlineTimer!.unref();
    this.deadline.catch(() => undefined);
    this.controller.abort(error);
  }

  /** `work`, unless the worker is pre-empted and its share of the grace period passes first: then `Preempted`. */
  async race<T>(work: Promise<T>): Promise<T> {
    let arm: (() => void) | undefined;
    const deadline = new Promise<never>((_, reject) => {
      arm = () => void this.deadline!.catch(reject);
      if (this.signal.aborted) arm();
      else this.signal.addEventListener('abort', arm, { once: true });
    });
    this.pending++;
    this.deadlineTimer?.ref();
    try {
      return await Promise.race([work, deadline]);
    } finally {
      this.signal.removeEventListener('abort', arm!);
      if (--this.pending === 0) this.deadlineTimer?.unref();
    }
  }
}
