import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { bytesOf, listEntries, outputRefOf, type StoreEntry } from './entries';
import { readLease, staleness } from './lease';
import { ownerAlive } from './owner';
import { readRunIndex, type RunReferences } from './run-index';

/** Which runs' references gc keeps. A run is kept when any rule says so. */
export interface GcPolicy {
  /** Runs that used the store in the last N days. */
  keepDays?: number;
  /** The K runs per config that used the store last. */
  keepRuns?: number;
  /** Workflow ids still running (from Temporal): whatever they reference is kept, however old. */
  running: ReadonlySet<string>;
  now?: Date;
}

export interface GcItem {
  ref: string;
  bytes: number;
  reason: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** The runs the policy keeps. */
export function keptRuns(runs: RunReferences[], policy: GcPolicy): RunReferences[] {
  const now = (policy.now ?? new Date()).getTime();
  const newestPerConfig = new Set<RunReferences>();
  if (policy.keepRuns !== undefined) {
    const byConfig = new Map<string, RunReferences[]>();
    for (const run of runs) byConfig.set(run.config, [...(byConfig.get(run.config) ?? []), run]);
    for (const group of byConfig.values()) {
      for (const run of group.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime()).slice(0, policy.keepRuns)) newestPerConfig.add(run);
    }
  }
  return runs.filter(
    (run) =>
      policy.running.has(run.workflowId) ||
      (policy.keepDays !== undefined && now - run.lastUsed.getTime() <= policy.keepDays * DAY_MS) ||
      newestPerConfig.has(run),
  );
}

/**
 * What gc would remove, with the bytes and the reason for each: orphans (scratch folders whose owner
 * process on this host is gone, stale leases, half-removed leftovers), and outputs and checkpoints
 * that no kept run references and no live lease holds. Scratch folders of other hosts, or without
 * a recorded owner, are left alone: nothing here can tell whether their owner still writes them.
 */
export function planGc(root: string, policy: GcPolicy): GcItem[] {
  const runs = readRunIndex(root);
  const kept = keptRuns(runs, policy);
  const referenced = new Set(kept.flatMap((run) => [...run.refs]));
  const items: GcItem[] = orphans(root);
  const entries = listEntries(root);
  const leased = new Set(
    entries.filter((e): e is Extract<StoreEntry, { kind: 'lease' }> => e.kind === 'lease' && !isStaleLease(root, e.ref)).map((e) => outputRefOf(e.stageId, e.key)),
  );
  const keep = (ref: string) => referenced.has(ref) || leased.has(ref);
  const item = (ref: string, reason: string) => items.push({ ref, bytes: bytesOf(path.join(root, ref)), reason });
  for (const entry of entries) {
    if (entry.kind === 'output' && !keep(entry.ref)) item(entry.ref, 'no kept run references it');
    if (entry.kind === 'checkpoints' && !keep(outputRefOf(entry.stageId, entry.key))) item(entry.ref, 'checkpoints of a key no kept run references');
    if (entry.kind === 'failed' && policy.keepDays !== undefined && isOlderThan(root, entry.ref, policy.keepDays, policy.now)) {
      item(entry.ref, `failed attempt older than ${policy.keepDays} days`);
    }
  }
  for (const run of runs.filter((r) => !kept.includes(r))) item(path.relative(root, run.file).split(path.sep).join('/'), `index of run ${run.workflowId}, not kept`);
  return items;
}

/** What a killed process left on this host: scratch folders of dead owners, their stale leases, half-removed leftovers. */
export function orphans(root: string): GcItem[] {
  const items: GcItem[] = [];
  const item = (ref: string, reason: string) => items.push({ ref, bytes: bytesOf(path.join(root, ref)), reason });
  for (const entry of listEntries(root)) {
    if (entry.kind === 'scratch' && entry.owner && ownerAlive(entry.owner) === false) item(entry.ref, `scratch of pid ${entry.owner.pid} on ${entry.owner.host}, which is gone`);
    if (entry.kind === 'leftover') item(entry.ref, 'left half-removed by a killed process');
    if (entry.kind === 'lease' && isStaleLease(root, entry.ref)) item(entry.ref, 'lease whose holder is gone');
  }
  return items;
}

function isStaleLease(root: string, ref: string): boolean {
  const lease = readLease(path.join(root, ref));
  return lease !== undefined && staleness(lease) !== undefined;
}

function isOlderThan(root: string, ref: string, days: number, now = new Date()): boolean {
  return now.getTime() - statSync(path.join(root, ref)).mtime.getTime() > days * DAY_MS;
}

/** Removes what a plan lists. */
export function removeItems(root: string, items: readonly GcItem[]): void {
  for (const { ref } of items) rmSync(path.join(root, ...ref.split('/')), { recursive: true, force: true });
}
