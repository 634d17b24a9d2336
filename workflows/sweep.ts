import { ApplicationFailure, executeChild, isCancellation, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { PipelineInput, PipelineResult } from '../lib/run-types';
import { executedStages, failureMessage, gridLabel, gridValues, pointOfResult, sweepInputSchema, type SweepInput, type SweepPoint, type SweepResult } from '../lib/sweep';
import { describeInputIssues } from '../lib/workflow-input';
import { ARENA_CONFIG, ARENA_PIPELINE, ARENA_STATUS } from './search-attributes';

/**
 * A grid of runs: one child workflow of the pipeline per point (`<sweep id>/point-<i>`), all at
 * once. The children share every stage whose key the grid does not change through the run store's
 * cache and single-flight leases: the first child to reach a key computes it, its siblings wait and
 * are served the same output. A failed point does not stop the others: the sweep reports every
 * point's outcome and fails only after all children ended, naming the failed points.
 */
export async function sweep(rawInput?: unknown): Promise<SweepResult> {
  const input = validInput(rawInput);
  const { workflowId, startTime } = workflowInfo();
  upsertSearchAttributes([
    { key: ARENA_CONFIG, value: input.config },
    { key: ARENA_PIPELINE, value: input.pipeline },
    { key: ARENA_STATUS, value: 'running' },
  ]);
  const grids = gridValues(input.points);
  const points: SweepPoint[] = input.points.map((_, i) => ({ point: i, workflowId: `${workflowId}/point-${i}`, grid: grids[i]!, status: 'running', stages: {} }));
  const publish = () => setCurrentDetails(sweepMarkdown(input, points));
  publish();

  await Promise.all(
    input.points.map(async (point, i) => {
      const outcome = points[i]!;
      const childInput: PipelineInput = { config: input.config, overrides: point.overrides, ...(input.noCache ? { noCache: true } : {}) };
      try {
        const result = await executeChild<(input: PipelineInput) => Promise<PipelineResult>>(input.pipeline, {
          workflowId: outcome.workflowId,
          args: [childInput],
          memo: { arenaSweepPoint: i, arenaGrid: outcome.grid },
        });
        Object.assign(outcome, pointOfResult(result));
      } catch (err) {
        if (isCancellation(err)) throw err;
        outcome.status = 'failed';
        outcome.error = failureMessage(err);
      }
      publish();
    }),
  );

  const seconds = (Date.now() - startTime.getTime()) / 1000;
  const failed = points.filter((p) => p.status === 'failed');
  upsertSearchAttributes([{ key: ARENA_STATUS, value: failed.length > 0 ? 'failed' : 'completed' }]);
  const result: SweepResult = { pipeline: input.pipeline, config: input.config, points, seconds };
  if (failed.length > 0) {
    const named = failed.map((p) => `point-${p.point} (${gridLabel(p.grid)}): ${p.error}`);
    throw ApplicationFailure.create({
      type: 'SweepFailed',
      message: `${failed.length} of ${points.length} points failed: ${named.join('; ')}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

function validInput(rawInput: unknown): SweepInput {
  const parsed = sweepInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({ message: `invalid workflow input: ${describeInputIssues(parsed.error.issues)}`, type: 'InvalidWorkflowInput', nonRetryable: true });
  }
  // As a run's input: the overrides go on as given, for the child's config loader to judge by name.
  return rawInput as SweepInput;
}

/** The sweep's points as Markdown, for the Temporal UI's "current details". */
function sweepMarkdown(input: SweepInput, points: SweepPoint[]): string {
  const rows = points.map((p) => {
    const num = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));
    const executed = executedStages(p);
    return `| ${p.workflowId} | ${gridLabel(p.grid)} | ${p.status} | ${num(p.accuracy)} | ${num(p.logLoss)} | ${executed.join(', ')} | ${(p.error ?? '').replace(/\s+/g, ' ')} |`;
  });
  return [
    `**sweep** of **${input.pipeline}** on config **${input.config}**: ${points.length} points`,
    '',
    '| run | grid | status | val acc | val logloss | executed stages | error |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
