import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { DuckDBInstance } from '@duckdb/node-api';
import type { PipelineInput, PipelineResult } from '../lib/run-types';
import { sampleData } from './helpers/temporal';
import { workersSuite } from './helpers/temporal-session';
import { suiteEnv } from './helpers/suite-env';

type Row = Record<string, unknown>;

async function sql(statement: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(statement)).getRowObjectsJS() as Row[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
const rowsOf = (dir: string, file: string): Promise<Row[]> => sql(`SELECT * FROM read_parquet('${path.join(dir, file)}', hive_partitioning = false)`);

const TEACHERS = ['teacher[fold=0]', 'teacher[fold=1]', 'teacher[fold=2]'];

describe('distill pipelines on a real Temporal dev server, the LMSYS sample and the CPU model', () => {
  const suite = workersSuite({ taskQueue: 'distill-test', devices: 2 });
  const { store, taskQueue } = suite;
  // The data dir of the runs: imported teacher files go here (the sample itself is named by path).
  const dataDir = suite.tempDir('distill-data');
  suiteEnv('ARENA_DATA_DIR', dataDir);
  let distilled: PipelineResult;

  const start = (pipeline: string, workflowId: string, input: PipelineInput) => suite.env.client.workflow.start(pipeline, { taskQueue, workflowId, args: [input] });

  it('trains 3 fold teachers, predicts every training row out of fold, trains the student on soft labels and evaluates the fold ensemble', async () => {
    distilled = (await (await start('distill-pipeline', 'distill-1', { config: 'distill_micro', overrides: sampleData() })).result()) as PipelineResult;
    const stages = distilled.stages;
    for (const id of ['folds', ...TEACHERS, 'oof', 'soft_labels', 'student', 'evaluate', 'ensemble', 'submit', 'submit_ensemble']) assert.ok(stages[id], `${id} ran`);

    // OOF coverage: every training row of the split once, predicted by the teacher of its own fold.
    const train = await rowsOf(stages['split']!.dir, 'train.parquet');
    const oof = await rowsOf(stages['oof']!.dir, 'oof.parquet');
    assert.deepEqual(oof.map((r) => r['id']), train.map((r) => r['id']));
    const foldOf = new Map((await rowsOf(stages['folds']!.dir, 'folds.parquet')).map((r) => [r['pair_id'], r['fold']]));
    for (const row of oof) assert.equal(row['fold'], foldOf.get(row['pair_id']));
    for (const fold of [0, 1, 2]) {
      const seen = new Set((await rowsOf(stages[`fold_data[fold=${fold}]`]!.dir, 'train.parquet')).map((r) => r['pair_id']));
      assert.equal(oof.filter((r) => r['fold'] === fold && seen.has(r['pair_id'])).length, 0, `teacher[fold=${fold}] never saw what it predicted`);
    }

    // The student's data: the split's rows with teacher_p, a swapped copy's the complement of its original's.
    const soft = await rowsOf(stages['soft_labels']!.dir, 'train.parquet');
    assert.equal(soft.length, train.length);
    const byId = new Map(soft.map((r) => [r['id'], r['teacher_p'] as number]));
    for (const row of soft) {
      assert.ok(typeof row['teacher_p'] === 'number' && row['teacher_p'] >= 0 && row['teacher_p'] <= 1);
      if (row['swapped']) assert.ok(Math.abs((row['teacher_p'] as number) - (1 - byId.get(row['pair_id'])!)) < 1e-12);
    }
    // The student trained on that file: its shards' trainer specs name it.
    const specs = readdirSync(path.join(store, 'stages', 'student'), { recursive: true }).map(String).filter((f) => f.endsWith(path.join('logs', 'train-spec.json')));
    assert.ok(specs.length > 0);
    for (const file of specs) {
      const spec = JSON.parse(readFileSync(path.join(store, 'stages', 'student', file), 'utf8'));
      assert.equal(spec.train_data, path.join(stages['soft_labels']!.dir, 'train.parquet'));
    }

    const metrics = JSON.parse(readFileSync(path.join(stages['evaluate']!.dir, 'metrics.json'), 'utf8'));
    const ensemble = JSON.parse(readFileSync(path.join(stages['ensemble']!.dir, 'metrics.json'), 'utf8'));
    assert.equal(ensemble.rows, metrics.rows);
    assert.deepEqual(ensemble.members.map((m: { name: string }) => m.name), TEACHERS);
    for (const m of [...ensemble.members, ensemble.ensemble]) assert.ok(m.accuracy > 0 && m.accuracy < 1 && Number.isFinite(m.log_loss));
    // The fold ensemble is submitted too: every test row, scored by the 3 teachers' mean.
    assert.equal(stages['submit_ensemble']!.summary['models'], 3);
    assert.equal(stages['submit']!.summary['models'], 1);
    assert.equal(stages['submit_ensemble']!.summary['rows'], stages['submit']!.summary['rows']);
    assert.equal(distilled.metrics?.['accuracy'], metrics.accuracy);
  });

  it('distils from an imported teacher file, and refuses one that misses training pairs, naming them', async () => {
    // The OOF predictions of the first run, given as an imported teacher in both orders: the same soft labels.
    const oof = await rowsOf(distilled.stages['oof']!.dir, 'oof.parquet');
    const p = new Map(oof.map((r) => [r['id'], r['p_model_a'] as number]));
    const pairs = [...new Set(oof.map((r) => String(r['pair_id'])))];
    const lines = pairs.map((id) => `${id},${p.get(id)},${p.get(`${id}#swap`)}`);
    writeFileSync(path.join(dataDir, 'teacher.csv'), ['id,p_model_a,p_model_a_swapped', ...lines].join('\n'));
    const overrides = { ...sampleData(), distill: { teachers: [{ name: 'big', file: 'teacher.csv', weight: 2 }], swap_tolerance: 1 } };
    const imported = (await (await start('distill-imported-pipeline', 'distill-imported-1', { config: 'distill_micro', overrides })).result()) as PipelineResult;
    assert.equal(imported.stages['split']!.cacheHit, true);
    const soft = await rowsOf(imported.stages['soft_labels']!.dir, 'train.parquet');
    const own = new Map((await rowsOf(distilled.stages['soft_labels']!.dir, 'train.parquet')).map((r) => [r['id'], r['teacher_p'] as number]));
    for (const row of soft) assert.ok(Math.abs((row['teacher_p'] as number) - own.get(row['id'])!) < 1e-9, String(row['id']));
    assert.ok(imported.stages['evaluate']);

    writeFileSync(path.join(dataDir, 'short.csv'), ['id,p_model_a', ...pairs.slice(0, -2).map((id) => `${id},0.5`)].join('\n'));
    const short = { ...sampleData(), distill: { teachers: [{ name: 'big', file: 'short.csv' }] } };
    const failed = await start('distill-imported-pipeline', 'distill-imported-short', { config: 'distill_micro', overrides: short });
    const missing = pairs.slice(-2).sort().map((id) => JSON.stringify(id)).join(', ');
    await assert.rejects(failed.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal(
        err.cause!.message,
        `stage 'soft_labels' failed (soft_labels, not retryable): UserInputError: teacher 'big' (distill.teachers[0]): ${path.join(dataDir, 'short.csv')}: column "id" misses 2 of the split's ${pairs.length} training pairs (first: ${missing}); a teacher must give every training pair`,
      );
      return true;
    });
  });
});
