import type { Client } from '@temporalio/client';
import { formatBytes, formatUsage, storeUsage } from '../lib/store/du';
import { planGc, removeItems, type GcPolicy } from '../lib/store/gc';

/** Keep this many days when neither --keep-days nor --keep-runs is given. */
export const DEFAULT_KEEP_DAYS = 7;

/** Workflow ids of the runs still running: gc keeps everything they reference, however old. */
export async function runningWorkflowIds(client: Client): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const run of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) ids.add(run.workflowId);
  return ids;
}

function count(value: string | true | string[] | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 0) throw new Error(`${flag}: expected a whole number of 0 or more, got ${JSON.stringify(value)}`);
  return n;
}

export function gcPolicy(flags: Record<string, string | true | string[]>, running: Set<string>): GcPolicy {
  const keepDays = count(flags['keep-days'], '--keep-days');
  const keepRuns = count(flags['keep-runs'], '--keep-runs');
  return { keepDays: keepDays === undefined && keepRuns === undefined ? DEFAULT_KEEP_DAYS : keepDays, keepRuns, running };
}

/** `arena store gc`: prints what goes (all of it with --dry-run, which removes nothing) and the bytes. */
export function storeGc(root: string, policy: GcPolicy, dryRun: boolean): string {
  const items = planGc(root, policy);
  const lines = items.map((item) => `${dryRun ? 'would remove' : 'removed'} ${item.ref} (${formatBytes(item.bytes)}): ${item.reason}`);
  if (!dryRun) removeItems(root, items);
  const bytes = items.reduce((sum, item) => sum + item.bytes, 0);
  lines.push(`${dryRun ? 'would free' : 'freed'} ${formatBytes(bytes)} in ${items.length} items of ${root}`);
  return lines.join('\n');
}

export function storeDu(root: string): string {
  return formatUsage(storeUsage(root));
}
