import { setTimeout as sleep } from 'node:timers/promises';
import type { StageResult } from '../lib/stage';
import { breakLease, LEASE_STALE_MS, readLease, staleness, tryAcquire, type Lease } from '../lib/store/lease';
import { recordRunUse } from '../lib/store/run-index';
import type { RunStore } from '../lib/store/run-store';
import type { StageHooks } from './stage-runner';

/** How often a waiter looks whether the holder is done or gone: small against any stage's run time. */
const POLL_MS = 500;

/** Either this process computes the key under `lease`, or another run already did: `shared`. */
export type Turn = { lease: Lease; shared?: undefined } | { shared: StageResult; lease?: undefined };

/**
 * Single flight for one stage key across the processes sharing a store root: the first to take the
 * key's lease computes it; the others wait (their own activity heartbeats go on) and return the
 * holder's committed output, marked `shared` (it counts as a cache hit, not an execution), or take
 * over when the holder failed or died. The holder releases its lease after its commit or failure,
 * so a waiter that gets the lease looks for the output before computing.
 */
export async function takeTurn(store: RunStore, stageId: string, cacheKey: string, hooks: StageHooks, staleMs = LEASE_STALE_MS): Promise<Turn> {
  const file = store.local(store.leaseRef(stageId, cacheKey));
  const holder = hooks.run ? `${hooks.run.workflowId}/${hooks.run.activityId}` : 'unknown';
  let waitingFor: string | undefined;
  for (;;) {
    const lease = tryAcquire(file, holder);
    if (lease) {
      // Another run may have committed the key between this run's cache lookup and now.
      const done = await store.lookup(stageId, cacheKey).catch((err: unknown) => {
        lease.release();
        throw err;
      });
      if (done) {
        lease.release();
        hooks.log(`${stageId}: computed by ${waitingFor ?? 'another run'} while this run looked`);
        return { shared: { ...done, shared: true } };
      }
      if (waitingFor !== undefined) hooks.log(`${stageId}: ${waitingFor} left ${cacheKey} without a result; computing it here`);
      // Recorded before the work starts, so that gc keeps the key's checkpoints while this run trains.
      if (hooks.run) recordRunUse(store.root, hooks.run.workflowId, hooks.run.config, store.outputRef(stageId, cacheKey));
      return { lease };
    }
    const seen = readLease(file);
    if (!seen) continue;
    const stale = staleness(seen, staleMs);
    if (stale !== undefined) {
      if (breakLease(file, seen)) hooks.log(`${stageId}: taking over ${cacheKey}: ${stale}`);
      continue;
    }
    if (waitingFor === undefined) {
      waitingFor = seen.record ? `${seen.record.holder} (pid ${seen.record.pid} on ${seen.record.host})` : 'another worker';
      hooks.log(`${stageId}: ${cacheKey} is being computed by ${waitingFor}; waiting for it`);
    }
    if (hooks.signal.aborted) throw hooks.signal.reason;
    await sleep(POLL_MS, undefined, { signal: hooks.signal }).catch(() => {
      throw hooks.signal.reason;
    });
  }
}
