import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { gridPoints } from '../cli/sweep-grid';
import { sweepRuns } from '../cli/runs';
import { renderSweep } from '../cli/sweep-table';
import type { SweepInput, SweepResult } from '../lib/sweep';
import { REPO_ROOT } from '../worker';
import { SAMPLE_DIR } from './fixtures/sample-splits';
import { saveHistoryIfAsked } from './helpers/histories';
import { waitFor } from './helpers/temporal';
import { workersSuite } from './helpers/temporal-session';

const UPSTREAM = ['ingest', 'features', 'augment', 'split'];
const PER_POINT = ['train', 'evaluate', 'submit', 'package'];

/** The shared LMSYS sample, 200 rows, one epoch on one shard: a point trains in seconds. */
const SET = [
  `data.train=[{format: lmsys, path: ${path.join(SAMPLE_DIR, 'train_sample.csv')}}]`,
  `data.test={format: lmsys, path: ${path.join(SAMPLE_DIR, 'test.csv')}}`,
  'data.sample_size=200',
  'trainer.gpus=1',
  'trainer.round_epochs=null',
  'seed=11',
];

describe('arena sweep: the grid', () => {
  it('is the cartesian product of the --grid flags, each point the --set overrides plus one value per axis, parsed as --set parses them', () => {
    const points = gridPoints('micro', ['trainer.lr.head=1e-4,5e-4', 'trainer.epochs=2,4'], ['seed=3']);
    assert.deepEqual(
      points.map((p) => p.overrides),
      [
        { seed: 3, trainer: { lr: { head: 1e-4 }, epochs: 2 } },
        { seed: 3, trainer: { lr: { head: 1e-4 }, epochs: 4 } },
        { seed: 3, trainer: { lr: { head: 5e-4 }, epochs: 2 } },
        { seed: 3, trainer: { lr: { head: 5e-4 }, epochs: 4 } },
      ],
    );
  });

  it('refuses a bad grid before anything starts, with one error naming the --grid flag', () => {
    const messageOf = (grid: string[], set: string[]) => {
      let message = '';
      assert.throws(
        () => gridPoints('micro', grid, set),
        (err: Error) => ((message = err.message), err.name === 'UserInputError'),
      );
      return message;
    };
    assert.equal(messageOf(['trainer.epochs='], []), '--grid trainer.epochs: the value list is empty');
    assert.equal(messageOf(['trainer.epochs=2,,4'], []), '--grid trainer.epochs=2,,4: a value is empty');
    assert.equal(messageOf(['trainer.epochs=2,2'], []), "--grid trainer.epochs=2,2: the value '2' is given twice");
    assert.equal(messageOf(['trainer.epochs=2', 'trainer.epochs=4'], []), '--grid trainer.epochs: the key is given twice');
    assert.equal(messageOf(['trainer.epochs=2,4'], ['trainer.epochs=1']), '--grid trainer.epochs: the key is given twice');
    assert.equal(messageOf(['trainer.lr=1', 'trainer.lr.head=1e-4,5e-4'], []), "--grid trainer.lr: overlaps 'trainer.lr.head', given as well");
    assert.equal(messageOf(['trainer.epochs'], []), '--grid trainer.epochs: expected key.path=value1,value2,...');
    assert.equal(messageOf([], []), 'sweep needs at least one --grid key.path=value1,value2,...');
    assert.equal(
      messageOf(['trainer.lr.heda=1e-4,5e-4'], []),
      `--grid trainer.lr.heda=1e-4: invalid config 'micro':\n(overrides): trainer.lr.heda: Unrecognized key: "heda"`,
    );
    assert.equal(
      messageOf(['trainer.epochs=2,two'], []),
      "--grid trainer.epochs=two: invalid config 'micro':\n(overrides): trainer.epochs: Invalid input: expected number, received string",
    );
    assert.equal(
      messageOf(['data.dir=/etc,/tmp'], []),
      "--grid data.dir=/etc: invalid config 'micro':\n(overrides): data.dir: names a filesystem root of the worker; set it in a config file or with the worker's ARENA_DATA_DIR",
    );
  });
});

describe('arena sweep on a real Temporal dev server', () => {
  const suite = workersSuite({ taskQueue: 'sweep-test', devices: 2 });
  const { taskQueue } = suite;

  const startSweep = (workflowId: string, input: unknown) => suite.env.client.workflow.start('sweep', { taskQueue, workflowId, args: [input] });

  it('runs one child per point, concurrently; the upstream stages execute once in all and every point trains its own model', async () => {
    const points = gridPoints('micro', ['trainer.lr.head=1e-4,5e-4', 'trainer.epochs=1,2'], SET);
    const input: SweepInput = { pipeline: 'train-pipeline', config: 'micro', points };
    const started = Date.now();
    const handle = await startSweep('sweep-grid', input);
    const result = (await handle.result()) as SweepResult;
    const seconds = (Date.now() - started) / 1000;
    await saveHistoryIfAsked(handle, 'sweep-grid');

    assert.deepEqual(
      result.points.map((p) => [p.workflowId, p.status, p.grid]),
      [
        ['sweep-grid/point-0', 'completed', { 'trainer.lr.head': 1e-4, 'trainer.epochs': 1 }],
        ['sweep-grid/point-1', 'completed', { 'trainer.lr.head': 1e-4, 'trainer.epochs': 2 }],
        ['sweep-grid/point-2', 'completed', { 'trainer.lr.head': 5e-4, 'trainer.epochs': 1 }],
        ['sweep-grid/point-3', 'completed', { 'trainer.lr.head': 5e-4, 'trainer.epochs': 2 }],
      ],
    );
    for (const p of result.points) {
      const child = await suite.env.client.workflow.getHandle(p.workflowId).describe();
      assert.equal(child.type, 'train-pipeline');
      assert.equal(child.parentExecution?.workflowId, 'sweep-grid', `${p.workflowId} is a child of the sweep`);
      assert.ok(p.accuracy !== undefined && p.accuracy > 0 && p.accuracy < 1, `${p.workflowId}: accuracy ${p.accuracy}`);
      assert.ok(p.logLoss !== undefined && Number.isFinite(p.logLoss));
      for (const stage of UPSTREAM) assert.equal(p.stages[stage]!.executed + p.stages[stage]!.cacheHits, 1, `${p.workflowId}: ${stage} executed or served once`);
      for (const stage of PER_POINT) assert.ok(p.stages[stage]!.executed > 0, `${p.workflowId}: ${stage} executed for this point`);
    }
    for (const stage of UPSTREAM) {
      assert.equal(
        result.points.reduce((sum, p) => sum + p.stages[stage]!.executed, 0),
        1,
        `${stage} executed once over the 4 points, the other 3 served from the cache or its single flight`,
      );
    }
    // The learning rate changes the model: two points differing only in it train different models.
    assert.notEqual(result.points[0]!.logLoss, result.points[2]!.logLoss);

    // `arena runs --sweep grid`: the same table, rebuilt from the children the server lists.
    const listed = await waitFor('the server to list the 4 children', async () => {
      const rows = await sweepRuns(suite.env.client, 'sweep-grid');
      return rows.length === 4 && rows.every((r) => r.status === 'completed') ? rows : undefined;
    }, 30_000);
    assert.deepEqual(listed, result.points);
    const table = renderSweep(listed);
    console.log(`${table}\nsweep of 4 points: ${seconds.toFixed(1)} s wall`);
    // Which child computes each upstream stage is a race: a point shows 0 to 4 of them as cached.
    assert.match(table, /^1 +sweep-grid\/point-1 +0\.0001 +2 +completed +0\.\d{4} +\d\.\d{4} +[0-4]\/8 +/m);
    for (const stage of UPSTREAM) assert.match(table, new RegExp(`^${stage} +1/4 +1 +3$`, 'm'));
    for (const stage of PER_POINT) assert.match(table, new RegExp(`^${stage} +4/4 +\\d+ +0$`, 'm'));
  });

  it('reports every point and fails only after all children ended, naming the failed points', async () => {
    const [good, bad] = gridPoints('micro', ['trainer.lr.head=1e-4', 'trainer.epochs=1,2'], SET);
    // A value only the worker refuses (the CLI would have): the child fails at once, its sibling runs on.
    (bad!.overrides['trainer'] as { epochs: number }).epochs = 0;
    const input: SweepInput = { pipeline: 'train-pipeline', config: 'micro', points: [good!, bad!] };
    const handle = await startSweep('sweep-failed-point', input);
    const err = await handle.result().then(
      () => assert.fail('the sweep succeeded'),
      (e: unknown) => e,
    );
    await saveHistoryIfAsked(handle, 'sweep-failed-point');
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.cause?.message, "1 of 2 points failed: point-1 (trainer.epochs=0): invalid config 'micro':\n(overrides): trainer.epochs: Too small: expected number to be >0");
    const rows = await waitFor('the server to list the 2 children', async () => {
      const listed = await sweepRuns(suite.env.client, 'sweep-failed-point');
      return listed.length === 2 && listed.every((r) => r.status !== 'running') ? listed : undefined;
    }, 30_000);
    assert.equal(rows[0]!.status, 'completed');
    for (const stage of [...UPSTREAM, ...PER_POINT]) assert.equal(rows[0]!.stages[stage]!.executed, 0, `point 0 is the first sweep's point 0: ${stage} served from the cache`);
    assert.deepEqual([rows[1]!.status, rows[1]!.error], ['failed', "invalid config 'micro':\n(overrides): trainer.epochs: Too small: expected number to be >0"]);
  });

  it('arena sweep --wait starts the sweep and prints its points side by side', async () => {
    const arena = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/arena.ts', ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: suite.env.address, TEMPORAL_NAMESPACE: 'default', ARENA_TASK_QUEUE: taskQueue },
      });
    // Points 0 and 2 of the first sweep: every stage comes from the cache.
    const sets = SET.flatMap((item) => ['--set', item]);
    const swept = await arena('sweep', '--config', 'micro', '--grid', 'trainer.lr.head=1e-4,5e-4', '--grid', 'trainer.epochs=1', ...sets, '--id', 'grid-cli', '--wait');
    assert.match(swept.stdout, /^started a sweep of 2 runs of train-pipeline as grid-cli \(children grid-cli\/point-0 … point-1\)$/m);
    assert.match(swept.stdout, /^0 +grid-cli\/point-0 +0\.0001 +completed +0\.\d{4} +\d\.\d{4} +8\/8 +-$/m);
    assert.match(swept.stdout, /^1 +grid-cli\/point-1 +0\.0005 +completed +0\.\d{4} +\d\.\d{4} +8\/8 +-$/m);
  });

  it('refuses a bad input at once, naming the field', async () => {
    const err = await (await startSweep('grid-empty', { pipeline: 'sweep', config: 'micro', points: [] })).result().then(
      () => assert.fail('the sweep succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.cause?.message, 'invalid workflow input: pipeline: a sweep runs pipelines, not sweeps; points: Too small: expected array to have >=1 items');
  });
});
