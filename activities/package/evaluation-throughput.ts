import type { Json } from '../../lib/stage';
import type { EvaluationThroughput } from './runtime-estimate';

/** The evaluate stage's timing (its summary's rows, passes and seconds), if it recorded one. */
export function evaluationThroughput(summary: { [key: string]: Json } | undefined): EvaluationThroughput | null {
  const rows = summary?.['rows'];
  const timing = summary?.['timing'];
  if (typeof rows !== 'number' || timing === null || typeof timing !== 'object' || Array.isArray(timing)) return null;
  const { seconds, passes } = timing;
  return typeof seconds === 'number' && typeof passes === 'number' && seconds > 0 ? { rows, passes, seconds } : null;
}
