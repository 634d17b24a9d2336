import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gcPolicy, runningWorkflowIds, storeDu, storeGc } from '../cli/store';
import type { PipelineResult } from '../lib/run-types';
import { listEntries } from '../lib/store/entries';
import { readRunIndex } from '../lib/store/run-index';
import { sampleData, startRun, waitFor } from './helpers/temporal';
import { temporalSuite } from './helpers/temporal-session';

const checkpointsOf = (ref: string) => ref.replace(/^stages\//, 'checkpoints/');

/** A pid that no process has any more. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('arena store gc', () => {
  const suite = temporalSuite();
  const store = suite.tempDir('gc-store');
  const logs = suite.tempDir('gc-logs');

  it('removes what a SIGKILLed worker orphaned and unreferenced outputs, and nothing a kept completed run reported or a running run holds', async () => {
    const input = (seed: number, trainer: Record<string, unknown> = {}) => ({
      config: 'micro',
      overrides: { ...sampleData(), seed, trainer: { epochs: 1, gpus: 1, checkpoint_every_steps: 4, ...trainer } },
    });
    const workers = await suite.startWorkers({ taskQueue: 'gc', storeDir: store, devices: 1 });
    for (const [id, seed] of [['gc-first', 1], ['gc-second', 2]] as const) await (await startRun(suite.env, 'gc', id, input(seed))).result();
    await workers.stop();

    // A run whose worker is SIGKILLed mid-training: it stays running, with a scratch folder and a lease orphaned.
    const doomed = suite.spawnWorker({ taskQueue: 'gc-victim', store, role: 'all', devices: 1, logFile: path.join(logs, 'victim.log') });
    const victim = await startRun(suite.env, 'gc-victim', 'gc-victim', input(3, { step_delay_ms: 100 }));
    const shard = 'train/round-0/shard-0';
    const lease = await waitFor('the victim shard to be computing', () => listEntries(store).find((e) => e.kind === 'lease' && e.stageId === shard));
    const key = lease.ref.slice(lease.ref.lastIndexOf('/') + 1, -'.json'.length);
    await waitFor('a checkpoint of the victim shard', () => existsSync(path.join(store, 'checkpoints', shard, key)) || undefined);
    doomed.kill('SIGKILL');
    await new Promise((resolve) => doomed.once('exit', resolve));
    const orphanedScratch = listEntries(store).filter((e) => e.kind === 'scratch' && e.owner?.pid === doomed.pid);
    assert.ok(orphanedScratch.length > 0, `the killed worker (${doomed.pid}) left a scratch folder: ${JSON.stringify(listEntries(store).filter((e) => e.kind !== 'output'))}`);
    assert.ok(listEntries(store).some((e) => e.kind === 'lease'), 'and a lease');

    const runs = Object.fromEntries(readRunIndex(store).map((r) => [r.workflowId, r.refs]));
    const held = new Set([...runs['gc-second']!, ...runs['gc-victim']!]);
    const firstOnly = [...runs['gc-first']!].filter((ref) => !held.has(ref));
    assert.ok(firstOnly.length > 0, 'the first run has outputs of its own');
    const victimShard = [...runs['gc-victim']!].find((ref) => ref.startsWith(`stages/${shard}/`))!;
    assert.ok(existsSync(path.join(store, checkpointsOf(victimShard))), 'the running shard has checkpoints');

    const running = await runningWorkflowIds(suite.env.client);
    assert.deepEqual([...running], ['gc-victim']);
    // The last two runs of the config are the running one and gc-second; gc-first is the one to go.
    const policy = gcPolicy({ 'keep-runs': '2' }, running);
    const before = listEntries(store);
    const dry = storeGc(store, policy, true);
    assert.deepEqual(listEntries(store), before, 'a dry run removes nothing');
    for (const ref of [...firstOnly, ...orphanedScratch.map((e) => e.ref)]) assert.match(dry, new RegExp(`^would remove ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`, 'm'));
    assert.match(dry, /^would free \d+(\.\d)? [KMG]?B in \d+ items of /m);
    const sizeBefore = Number(execFileSync('du', ['-sb', store], { encoding: 'utf8' }).split('\t')[0]);

    console.log(storeGc(store, policy, false).split('\n').at(-1));
    const after = listEntries(store);
    assert.equal(after.filter((e) => e.kind === 'scratch' && e.owner?.host === os.hostname() && e.owner.pid === doomed.pid).length, 0, 'orphaned scratch removed');
    assert.equal(after.filter((e) => e.kind === 'lease').length, 0, 'the dead holder lease removed');
    for (const ref of firstOnly) assert.ok(!existsSync(path.join(store, ref)) && !existsSync(path.join(store, checkpointsOf(ref))), `${ref} removed`);
    for (const ref of held) {
      const isOutput = existsSync(path.join(store, ref, 'manifest.json'));
      assert.ok(isOutput || ref === victimShard, `${ref} kept`);
    }
    assert.ok(existsSync(path.join(store, checkpointsOf(victimShard))), 'the running shard keeps its checkpoints');
    assert.ok(!existsSync(path.join(store, 'runs', 'gc-first.jsonl')));
    const sizeAfter = Number(execFileSync('du', ['-sb', store], { encoding: 'utf8' }).split('\t')[0]);
    console.log(`store ${sizeBefore} bytes before gc, ${sizeAfter} after`);
    assert.ok(sizeAfter < sizeBefore);
    assert.match(storeDu(store), /^train\/round-0\/shard-0 +\d+ /m);

    // A worker starting on this host removes the orphans of its dead processes, and the victim run completes from its checkpoint.
    const orphan = path.join(store, 'stages', 'evaluate', `0123456789abcdef01234567.tmp-00000000-0000-4000-8000-000000000000-${deadPid()}@${os.hostname()}`);
    mkdirSync(orphan, { recursive: true });
    await suite.startWorkers({ taskQueue: 'gc-victim', storeDir: store, devices: 1 });
    assert.ok(!existsSync(orphan), 'cleaned at worker start');
    const result = (await victim.result()) as PipelineResult;
    assert.equal(result.progress.status, 'completed');
  });
});
