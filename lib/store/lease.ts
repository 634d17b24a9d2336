import { randomUUID } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ownerAlive, thisProcess } from './owner';

/**
 * A lease on one stage key in a local store root: a file created exclusively (`wx`), so at most one
 * process computes that key at a time. The holder touches its mtime while it works; a lease not
 * renewed for `staleMs`, or whose owner process on this host is gone, may be broken by a waiter.
 * Only processes sharing the store root see it: workers with separate roots mirrored through an
 * object store each have their own leases.
 */

const leaseRecordSchema = z.strictObject({
  host: z.string(),
  pid: z.int(),
  /** The activity that holds it, for people reading the file: `<workflowId>/<activityId>`. */
  holder: z.string(),
  /** Tells this acquisition apart from a later one by the same process. */
  token: z.string(),
  since: z.string(),
});
export type LeaseRecord = z.infer<typeof leaseRecordSchema>;

/** The holder renews at least this often. */
export const LEASE_RENEW_MS = 2000;
/** Not renewed for this long: its holder is presumed dead, wherever it ran. */
export const LEASE_STALE_MS = 30_000;

export class Lease {
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly file: string,
    readonly record: LeaseRecord,
  ) {
    this.timer = setInterval(() => this.renew(), LEASE_RENEW_MS);
    // The timer must not keep a worker that is shutting down alive.
    this.timer.unref();
  }

  private ours(): boolean {
    return readLease(this.file)?.record?.token === this.record.token;
  }

  private renew(): void {
    const now = new Date();
    if (this.ours()) utimesSync(this.file, now, now);
  }

  /** Gives the key up; a lease someone broke in the meantime is theirs now and is left alone. */
  release(): void {
    clearInterval(this.timer);
    if (this.ours()) rmSync(this.file, { force: true });
  }
}

/** The lease, or undefined when another process holds one. */
export function tryAcquire(file: string, holder: string): Lease | undefined {
  mkdirSync(path.dirname(file), { recursive: true });
  const record: LeaseRecord = { ...thisProcess(), holder, token: randomUUID(), since: new Date().toISOString() };
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(record));
  } finally {
    closeSync(fd);
  }
  return new Lease(file, record);
}

export interface LeaseState {
  /** The raw text seen: breaking checks that it is still the same lease. */
  text: string;
  /** Undefined while its holder is still writing it (created, not yet filled). */
  record?: LeaseRecord;
  ageMs: number;
}

/** The lease on a file, or undefined when there is none. */
export function readLease(file: string): LeaseState | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = leaseRecordSchema.safeParse(safeJson(text));
  return { text, record: parsed.success ? parsed.data : undefined, ageMs: Date.now() - mtimeMs };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Why a lease may be broken, or undefined while its holder is presumed alive. */
export function staleness(lease: LeaseState, staleMs = LEASE_STALE_MS): string | undefined {
  if (lease.record && ownerAlive(lease.record) === false) return `its holder ${lease.record.holder} (pid ${lease.record.pid} on ${lease.record.host}) is gone`;
  if (lease.ageMs > staleMs) return `it was not renewed for ${(lease.ageMs / 1000).toFixed(0)} s`;
  return undefined;
}

/**
 * Removes a stale lease, provided it is still the one seen. The rename is atomic, so of several
 * waiters breaking it at once only one moves it; should that one have moved a lease someone had
 * just re-created, it links that one back.
 */
export function breakLease(file: string, seen: LeaseState): boolean {
  const moved = `${file}.broken-${randomUUID()}`;
  try {
    renameSync(file, moved);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    let text: string;
    try {
      text = readFileSync(moved, 'utf8');
    } catch (err) {
      // A gc took the moved file first: the lease is gone either way, and the caller tries again.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    if (text === seen.text) return true;
    try {
      linkSync(moved, file);
    } catch (err) {
      // EEXIST: yet another process took the key meanwhile; two holders then race to the same commit, which is safe.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return false;
  } finally {
    rmSync(moved, { force: true });
  }
}
