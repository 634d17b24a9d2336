import { executedStages, type SweepPoint } from '../lib/sweep';
import { textTable } from './text-table';

/**
 * A sweep's points side by side: one row per point with its grid values, validation metrics and
 * which stages it executed; below, per stage, how many points executed it and how many were served
 * from the cache (or shared a sibling's computation), the figure that shows what the grid shared.
 */
export function renderSweep(points: SweepPoint[]): string {
  const keys = [...new Set(points.flatMap((p) => Object.keys(p.grid)))];
  const num = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(4));
  const rows: string[][] = [['point', 'workflow id', ...keys, 'status', 'val acc', 'val logloss', 'cached', 'executed stages']];
  for (const p of points) {
    const stages = Object.keys(p.stages);
    const executed = executedStages(p);
    rows.push([
      String(p.point),
      p.workflowId,
      ...keys.map((key) => (key in p.grid ? JSON.stringify(p.grid[key]) : '-')),
      p.status,
      num(p.accuracy),
      num(p.logLoss),
      stages.length === 0 ? '-' : `${stages.length - executed.length}/${stages.length}`,
      executed.join(',') || '-',
    ]);
  }
  const errors = points.filter((p) => p.error !== undefined).map((p) => `point ${p.point}: ${p.error}`);
  return [textTable(rows), '', perStage(points), ...(errors.length > 0 ? ['', ...errors] : [])].join('\n');
}

/** Per stage over all points: executions and cache hits of its sub-steps (a train stage has several). */
function perStage(points: SweepPoint[]): string {
  const totals = new Map<string, { executed: number; cacheHits: number; points: number }>();
  for (const p of points) {
    for (const [name, s] of Object.entries(p.stages)) {
      const t = totals.get(name) ?? { executed: 0, cacheHits: 0, points: 0 };
      totals.set(name, { executed: t.executed + s.executed, cacheHits: t.cacheHits + s.cacheHits, points: t.points + (s.executed > 0 ? 1 : 0) });
    }
  }
  const rows = [['stage', 'points that executed it', 'sub-steps executed', 'sub-steps from cache']];
  for (const [name, t] of totals) rows.push([name, `${t.points}/${points.length}`, String(t.executed), String(t.cacheHits)]);
  return textTable(rows);
}
