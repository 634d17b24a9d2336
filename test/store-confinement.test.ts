import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { withDuckDB, queryRows } from '../lib/duckdb';
import { listEntries } from '../lib/store/entries';
import { objectStoreFromEnv } from '../lib/store/object-store';
import { RunStore } from '../lib/store/run-store';
import type { StageResult } from '../lib/stage';
import { removeDir, tempDir } from './helpers/temporal';

const RULE = "must be a relative '/'-separated path without empty, '.' or '..' segments, backslashes or NUL";

describe('run store confinement (issue 9 row 4)', () => {
  const root = tempDir('confined-store');
  const store = new RunStore(root);
  after(() => removeDir(root));

  it('refuses a checkpoint reference from heartbeat details that climbs out of the store', async () => {
    await assert.rejects(store.materializeCheckpoint('../../../../etc'), { name: 'UserInputError', message: `store reference "../../../../etc" ${RULE}` });
    await assert.rejects(store.materializeCheckpoint('/etc'), { name: 'UserInputError', message: `store reference "/etc" ${RULE}` });
    await assert.rejects(store.materializeCheckpoint('checkpoints/train/k/../../../../etc'), { message: `store reference "checkpoints/train/k/../../../../etc" ${RULE}` });
  });

  it('refuses empty, backslash and NUL segments in references', async () => {
    for (const ref of ['', 'checkpoints//step-1', 'checkpoints/./step-1', 'checkpoints\\..\\..\\etc', 'checkpoints/step-1\0']) {
      await assert.rejects(store.materializeCheckpoint(ref), { message: `store reference ${JSON.stringify(ref)} ${RULE}` });
    }
  });

  it('refuses an upstream result from history whose ref points outside the store', async () => {
    const forged: StageResult = { stage: 'features', activity: 'features', cacheKey: 'k', ref: '../../../../etc', dir: '/etc', files: {}, summary: {}, cacheHit: true };
    await assert.rejects(store.materialize(forged), { message: `store reference "../../../../etc" ${RULE}` });
  });

  it('refuses stage ids with .. or backslashes before creating or discarding any folder', async () => {
    assert.throws(() => store.createScratch('../../outside', 'key'), { name: 'UserInputError', message: `stage id "../../outside" ${RULE}` });
    assert.throws(() => store.checkpointRef('train\\..\\..', 'key'), { message: `stage id "train\\\\..\\\\.." ${RULE}` });
    await assert.rejects(store.lookup('ingest/..', 'key'), { message: `stage id "ingest/.." ${RULE}` });
    const scratch = store.createScratch('train/round-1/shard-0', 'key');
    assert.throws(() => store.discard(scratch, '../../../tmp'), { message: `stage id "../../../tmp" ${RULE}` });
    assert.deepEqual(readdirSync(root), ['stages'], 'nothing was created outside stages/');
    assert.ok(existsSync(scratch));
  });

  it('refuses a published folder outside the store', () => {
    const outside = tempDir('outside-store');
    mkdirSync(path.join(outside, 'step-1'));
    try {
      assert.throws(() => store.refOf(path.join(outside, 'step-1')), { name: 'UserInputError', message: `${path.join(outside, 'step-1')} is outside the run store ${root}` });
      assert.throws(() => store.refOf(root), { message: `store reference of ${root} "" ${RULE}` });
    } finally {
      removeDir(outside);
    }
  });

  it('the S3 store refuses the same references with the same rule, before any request', async () => {
    const remote = objectStoreFromEnv({ ARENA_STORE_URL: 's3://arena-runs/main', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' })!;
    await assert.rejects(remote.exists('../../../../etc'), { name: 'UserInputError', message: `Object store key "../../../../etc" ${RULE}` });
    await assert.rejects(remote.exists('checkpoints\\x'), { message: `Object store key "checkpoints\\\\x" ${RULE}` });
  });

  it("keeps an instance's '=' out of its folder names, so DuckDB reads no hive partition column from them", async () => {
    const scratch = store.createScratch('fold_data[fold=1]', 'key');
    await withDuckDB((db) => db.run(`COPY (SELECT 1 AS a) TO '${path.join(scratch, 't.parquet')}' (FORMAT parquet)`));
    const result = await store.commit(scratch, { stageId: 'fold_data[fold=1]', activity: 'fold_split', cacheKey: 'key', outputs: ['t.parquet'], logDir: 'logs' }, {});
    assert.equal(result.ref, 'stages/fold_data[fold%3D1]/key');
    const columns = await withDuckDB((db) => queryRows(db, `SELECT * FROM read_parquet('${path.join(result.dir, 't.parquet')}')`));
    assert.deepEqual(columns, [{ a: 1 }]);
    assert.equal(store.checkpointRef('teacher[fold=2]/round-0/shard-0', 'k'), 'checkpoints/teacher[fold%3D2]/round-0/shard-0/k');
    assert.deepEqual(
      listEntries(root).filter((e) => e.kind === 'output').map((e) => e.stageId),
      ['fold_data[fold=1]'],
    );
  });
});
