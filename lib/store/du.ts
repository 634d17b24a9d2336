import path from 'node:path';
import { bytesOf, listEntries } from './entries';
import { readRunIndex } from './run-index';

export interface StageUsage {
  stageId: string;
  outputs: number;
  checkpoints: number;
  /** Scratch folders, failed attempts and leftovers. */
  other: number;
  /** Completed outputs (cache entries). */
  entries: number;
}

export interface RunUsage {
  workflowId: string;
  config: string;
  lastUsed: Date;
  /** The outputs and checkpoints the run references; an output shared by several runs counts in each. */
  bytes: number;
}

export interface StoreUsage {
  stages: StageUsage[];
  runs: RunUsage[];
  total: number;
}

/** Bytes by stage and by run. */
export function storeUsage(root: string): StoreUsage {
  const byStage = new Map<string, StageUsage>();
  const stage = (stageId: string) => {
    let usage = byStage.get(stageId);
    if (!usage) byStage.set(stageId, (usage = { stageId, outputs: 0, checkpoints: 0, other: 0, entries: 0 }));
    return usage;
  };
  const sizes = new Map<string, number>();
  for (const entry of listEntries(root)) {
    const bytes = bytesOf(path.join(root, entry.ref));
    sizes.set(entry.ref, bytes);
    const usage = stage(entry.stageId);
    if (entry.kind === 'output') {
      usage.outputs += bytes;
      usage.entries++;
    } else if (entry.kind === 'checkpoints') usage.checkpoints += bytes;
    else usage.other += bytes;
  }
  const runs = readRunIndex(root).map((run) => ({
    workflowId: run.workflowId,
    config: run.config,
    lastUsed: run.lastUsed,
    bytes: [...run.refs].reduce((sum, ref) => sum + (sizes.get(ref) ?? 0) + (sizes.get(ref.replace(/^stages\//, 'checkpoints/')) ?? 0), 0),
  }));
  return {
    stages: [...byStage.values()].sort((a, b) => a.stageId.localeCompare(b.stageId)),
    runs: runs.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime()),
    total: bytesOf(root),
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ')).join('\n');
}

export function formatUsage(usage: StoreUsage): string {
  const stages = table([
    ['stage', 'entries', 'outputs', 'checkpoints', 'scratch/failed', 'total'],
    ...usage.stages.map((s) => [s.stageId, String(s.entries), formatBytes(s.outputs), formatBytes(s.checkpoints), formatBytes(s.other), formatBytes(s.outputs + s.checkpoints + s.other)]),
  ]);
  const runs = table([
    ['run', 'config', 'last used', 'references'],
    ...usage.runs.map((r) => [r.workflowId, r.config, r.lastUsed.toISOString().replace('T', ' ').slice(0, 19), formatBytes(r.bytes)]),
  ]);
  return `${stages}\n\n${runs}\n\nstore total: ${formatBytes(usage.total)}`;
}
