import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** What a train attempt leaves in its heartbeat details: where a retry resumes. */
export interface ResumePoint {
  checkpoint: string;
  step: number;
}

export function isResumePoint(value: unknown): value is ResumePoint {
  return typeof value === 'object' && value !== null && typeof (value as ResumePoint).checkpoint === 'string' && typeof (value as ResumePoint).step === 'number';
}

/** The newest complete `step-<n>` checkpoint in `dir` (complete because they appear by rename). */
export function latestCheckpoint(dir: string): ResumePoint | undefined {
  if (!existsSync(dir)) return undefined;
  const steps = readdirSync(dir)
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length === 0 ? undefined : { checkpoint: path.join(dir, `step-${steps[0]}`), step: steps[0]! };
}
