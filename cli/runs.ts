import type { Client } from '@temporalio/client';
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
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join('  ')).join('\n');
}
