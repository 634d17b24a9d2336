import type { Client } from '@temporalio/client';
import type { PipelineResult, RunProgress } from '../lib/run-types';
import { failureMessage, pointOfResult, stageCounts, sweepMemoSchema, type SweepPoint } from '../lib/sweep';
import { textTable } from './text-table';
import { ARENA_CONFIG, ARENA_STATUS, ARENA_VAL_ACCURACY, ARENA_VAL_LOG_LOSS } from '../workflows/search-attributes';

/** Runs side by side: config, status and validation metrics, found through the search attributes. */
export async function listRuns(client: Client, limit: number): Promise<string> {
  const rows: string[][] = [['workflow id', 'pipeline', 'config', 'status', 'val acc', 'val logloss', 'started']];
  for await (const run of client.workflow.list({ query: 'ArenaPipeline IS NOT NULL', pageSize: limit })) {
    const attrs = run.typedSearchAttributes;
    const num = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(4));
    rows.push([
      run.workflowId,
      run.type,
      attrs.get(ARENA_CONFIG) ?? '-',
      attrs.get(ARENA_STATUS) ?? run.status.name,
      num(attrs.get(ARENA_VAL_ACCURACY)),
      num(attrs.get(ARENA_VAL_LOG_LOSS)),
      run.startTime.toISOString().replace('T', ' ').slice(0, 19),
    ]);
    if (rows.length > limit) break;
  }
  return textTable(rows);
}

/**
 * The children of sweep `sweepId` (`arena runs --sweep ID`), found as its children by the server
 * (`ParentWorkflowId`), one row per point: its grid values from the child's memo, its metrics, and
 * per stage what it executed and what came from the cache (from its result, or while it runs its
 * progress query).
 */
export async function sweepRuns(client: Client, sweepId: string): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  for await (const run of client.workflow.list({ query: `ParentWorkflowId = ${JSON.stringify(sweepId)}` })) {
    const memo = sweepMemoSchema.safeParse(run.memo);
    const attrs = run.typedSearchAttributes;
    const handle = client.workflow.getHandle(run.workflowId, run.runId);
    const point: SweepPoint = {
      point: memo.success ? memo.data.arenaSweepPoint : -1,
      workflowId: run.workflowId,
      grid: memo.success ? memo.data.arenaGrid : {},
      // A run refused before its first stage never sets its status attribute: the server's word for a closed one.
      status: run.status.name === 'RUNNING' ? (attrs.get(ARENA_STATUS) ?? 'running') : run.status.name.toLowerCase(),
      ...optional('accuracy', attrs.get(ARENA_VAL_ACCURACY)),
      ...optional('logLoss', attrs.get(ARENA_VAL_LOG_LOSS)),
      stages: {},
    };
    if (run.status.name === 'COMPLETED') Object.assign(point, pointOfResult((await handle.result()) as PipelineResult));
    else if (run.status.name === 'RUNNING') {
      const progress = await handle.query<RunProgress>('progress').catch(() => undefined);
      if (progress) point.stages = stageCounts(progress);
    } else {
      point.error = await handle.result().then(() => undefined, failureMessage);
    }
    points.push(point);
  }
  return points.sort((a, b) => a.point - b.point);
}

function optional<K extends string>(key: K, value: number | undefined): { [k in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: number };
}
