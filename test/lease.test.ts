import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { takeTurn } from '../activities/single-flight';
import type { StageHooks } from '../activities/stage-runner';
import { readLease } from '../lib/store/lease';
import { readRunIndex } from '../lib/store/run-index';
import { RunStore } from '../lib/store/run-store';
import { removeDir, tempDir } from './helpers/temporal';

const KEY = 'abcdefabcdefabcdefabcdef';

function hooks(logs: string[], signal = new AbortController().signal): StageHooks {
  return { heartbeat: () => undefined, signal, preempted: new AbortController().signal, log: (m) => logs.push(m), run: { workflowId: 'wf', activityId: '1', config: 'micro' } };
}

function plantLease(store: RunStore, record: object, ageSeconds: number): string {
  const file = store.local(store.leaseRef('features', KEY));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ holder: 'old-run/7', token: 't', since: new Date().toISOString(), ...record }));
  const then = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(file, then, then);
  return file;
}

describe('stage key leases', () => {
  const roots: string[] = [];
  const newStore = () => {
    const root = tempDir('lease');
    roots.push(root);
    return new RunStore(root);
  };
  after(() => roots.forEach(removeDir));

  it('a second taker waits for the first and returns its committed output, marked shared', async () => {
    const store = newStore();
    const logs: string[] = [];
    const first = await takeTurn(store, 'features', KEY, hooks(logs));
    assert.ok(first.lease);
    assert.deepEqual(readLease(first.lease.file)?.record?.holder, 'wf/1');
    let waiterDone = false;
    const waiter = takeTurn(store, 'features', KEY, hooks(logs)).finally(() => (waiterDone = true));
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(waiterDone, false, 'the waiter waits while the holder works');
    const scratch = store.createScratch('features', KEY);
    writeFileSync(path.join(scratch, 'features.parquet'), 'data');
    await store.commit(scratch, { stageId: 'features', activity: 'features', cacheKey: KEY, outputs: ['features.parquet'], logDir: 'logs' }, { rows: 1 });
    first.lease.release();
    const second = await waiter;
    assert.equal(second.lease, undefined);
    assert.deepEqual({ cacheHit: second.shared?.cacheHit, shared: second.shared?.shared, rows: second.shared?.summary['rows'] }, { cacheHit: true, shared: true, rows: 1 });
    assert.match(logs.join('\n'), /features: abcdefabcdefabcdefabcdef is being computed by wf\/1 \(pid \d+ on .+\); waiting for it/);
    assert.deepEqual([...readRunIndex(store.root)[0]!.refs], [`stages/features/${KEY}`]);
  });

  it('takes over a lease whose holder on this host is gone, and one from another host not renewed for the stale time', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    for (const [record, age, why] of [
      [{ host: os.hostname(), pid: dead }, 0, `its holder old-run/7 \\(pid ${dead} on .+\\) is gone`],
      [{ host: 'another-host', pid: 1 }, 60, 'it was not renewed for 60 s'],
    ] as const) {
      const store = newStore();
      const logs: string[] = [];
      plantLease(store, record, age);
      const turn = await takeTurn(store, 'features', KEY, hooks(logs), 30_000);
      assert.ok(turn.lease, 'this process computes the key now');
      assert.match(logs.join('\n'), new RegExp(`^features: taking over ${KEY}: ${why}$`, 'm'));
      turn.lease.release();
      assert.equal(readLease(turn.lease.file), undefined);
    }
  });

  it('a live lease from another host is waited for, and the wait ends when the activity is cancelled', async () => {
    const store = newStore();
    plantLease(store, { host: 'another-host', pid: 1 }, 0);
    const cancel = new AbortController();
    const waiting = takeTurn(store, 'features', KEY, hooks([], cancel.signal), 30_000);
    setTimeout(() => cancel.abort(new Error('activity cancelled')), 700);
    await assert.rejects(waiting, /^Error: activity cancelled$/);
  });
});
