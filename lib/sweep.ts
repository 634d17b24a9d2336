import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import type { PipelineResult, RunProgress } from './run-types';
import { PIPELINE_NAME } from './pipeline/schema';
import { CONFIG_NAME } from './workflow-input';

/**
 * The `sweep` workflow's input and result: one child run of a pipeline per point of a grid.
 * Bundled into the workflow: no I/O here.
 */

/** The sweep's own workflow type: a pipeline of that name would start sweeps of itself. */
export const SWEEP_WORKFLOW = 'sweep';

export const sweepInputSchema = z.strictObject({
  pipeline: z
    .string()
    .regex(PIPELINE_NAME, "expected a pipeline name: lower-case letters, digits and '-'")
    .refine((name) => name !== SWEEP_WORKFLOW, 'a sweep runs pipelines, not sweeps')
    .describe('the workflow type of every child: a file of pipelines/ without .yaml'),
  config: z.string().regex(CONFIG_NAME, "expected a config name: letters, digits, '_', '-' and '.'").describe('name of a file in configs/, without .yaml'),
  points: z
    .array(z.strictObject({ overrides: z.record(z.string(), z.unknown()).describe("this point's overrides, as a run's input takes them") }))
    .min(1)
    .describe('one child run per point'),
  noCache: z.boolean().optional().describe('every child runs every stage even when a valid cached output exists'),
});

export type SweepInput = z.infer<typeof sweepInputSchema>;

const stageCountsSchema = z.object({ executed: z.number(), cacheHits: z.number() });

/** One point's outcome: what the sweep returns per child, and what `arena runs --sweep` rebuilds from the children. */
export const sweepPointSchema = z.object({
  point: z.number().int(),
  workflowId: z.string(),
  /** The keys that vary between the points, dotted (`trainer.lr.head`), with this point's values. */
  grid: z.record(z.string(), z.unknown()),
  status: z.string(),
  error: z.string().optional(),
  accuracy: z.number().optional(),
  logLoss: z.number().optional(),
  /** Per pipeline stage: sub-steps executed by this child and those served from the cache (or shared with a sibling). */
  stages: z.record(z.string(), stageCountsSchema),
});

export type SweepPoint = z.infer<typeof sweepPointSchema>;

export const sweepResultSchema = z.object({
  pipeline: z.string(),
  config: z.string(),
  points: z.array(sweepPointSchema),
  /** Workflow time from the sweep's start to its last child's end. */
  seconds: z.number(),
});

export type SweepResult = z.infer<typeof sweepResultSchema>;

/** The memo each child carries, so that a listing of a sweep's children shows their grid values. */
export const sweepMemoSchema = z.object({ arenaSweepPoint: z.number().int(), arenaGrid: z.record(z.string(), z.unknown()) });

/**
 * Per point, the dotted keys whose values differ between the points (the grid's axes, not the
 * overrides every point shares); a single point shows all of its keys.
 */
export function gridValues(points: SweepInput['points']): Array<Record<string, unknown>> {
  const flat = points.map((p) => flatten(p.overrides));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  const varying = keys.filter((key) => flat.some((f) => JSON.stringify(f[key]) !== JSON.stringify(flat[0]![key])));
  const shown = points.length === 1 ? keys : varying;
  return flat.map((f) => Object.fromEntries(shown.filter((key) => key in f).map((key) => [key, f[key]])));
}

function flatten(value: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, dotted));
    else out[dotted] = v;
  }
  return out;
}

/** A completed child's metrics and per-stage executions and cache hits. */
export function pointOfResult(result: PipelineResult): Pick<SweepPoint, 'status' | 'accuracy' | 'logLoss' | 'stages'> {
  const m = result.metrics ?? {};
  return {
    status: 'completed',
    ...(typeof m['accuracy'] === 'number' ? { accuracy: m['accuracy'] } : {}),
    ...(typeof m['log_loss'] === 'number' ? { logLoss: m['log_loss'] } : {}),
    stages: stageCounts(result.progress),
  };
}

/** The stages a point executed (at least one sub-step not served from the cache). */
export function executedStages(point: Pick<SweepPoint, 'stages'>): string[] {
  return Object.entries(point.stages)
    .filter(([, s]) => s.executed > 0)
    .map(([name]) => name);
}

/** Per stage of a run: its sub-steps executed and those served from the cache. */
export function stageCounts(progress: RunProgress): SweepPoint['stages'] {
  return Object.fromEntries(Object.entries(progress.stages).map(([name, s]) => [name, { executed: s.executed, cacheHits: s.cacheHits }]));
}

export function gridLabel(grid: Record<string, unknown>): string {
  return Object.entries(grid)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(' ');
}

/**
 * What made a child fail, for a person: the first application failure down the cause chain (a
 * failed stage names itself there; a run refused at resolve has the activity's failure in between),
 * else the innermost message.
 */
export function failureMessage(err: unknown): string {
  let cause: unknown = err;
  let last = String(err);
  while (cause instanceof Error) {
    if (cause instanceof ApplicationFailure) return cause.message;
    last = cause.message;
    cause = cause.cause;
  }
  return last;
}
