import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { runConfigSchema } from '../lib/config/schema';
import { UserInputError } from '../lib/errors';
import { readFeatureColumns } from '../lib/feature-columns';
import { readCheckpoint } from '../trainers/cpu/checkpoint';
import { paramSpecs } from '../trainers/cpu/model';
import { EXIT_PREEMPTED, PREEMPT_MESSAGE } from '../lib/trainer-process';
import { SAMPLE_ROWS_SQL, trainSpec as protocolTrainSpec } from './fixtures/sample-splits';

const REPO = path.resolve(__dirname, '..');
const FEATURES = ['len_a', 'len_b', 'len_diff', 'signal'];

interface TrainerRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: Record<string, unknown>[];
  stderr: string;
}

/** Runs the real trainer process; `onEvent` may kill it (it gets the child). */
function runTrainer(
  verb: string,
  spec: object,
  dir: string,
  onEvent?: (event: Record<string, unknown>, child: ChildProcess) => void,
): Promise<TrainerRun> {
  const specFile = path.join(dir, `spec-${verb}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  const child = spawn(process.execPath, ['--import', 'tsx', 'trainers/cpu/main.ts', verb, '--spec', specFile], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      onEvent?.(event, child);
    }
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, events, stderr })));
}

/**
 * train/valid parquet in the split-stage shape from real LMSYS rows (ties dropped), with length
 * features and `signal`, a noisy copy of the label that a working trainer must pick up.
 */
async function buildSplits(dir: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`
    CREATE TABLE rows AS
    WITH raw AS (SELECT * FROM (${SAMPLE_ROWS_SQL}) WHERE NOT tie)
    SELECT id, id AS pair_id, false AS swapped, prompt, response_a, response_b, winner,
           length(response_a)::DOUBLE AS len_a, length(response_b)::DOUBLE AS len_b,
           (length(response_a) - length(response_b))::DOUBLE AS len_diff,
           (CASE WHEN winner = 'model_a' THEN 1.0 ELSE -1.0 END) + ((hash(id) % 1000) / 1000.0 - 0.5) * 1.2 AS signal
    FROM raw ORDER BY id LIMIT 400`);
  await c.run(`COPY (SELECT * FROM rows ORDER BY id LIMIT 320) TO '${path.join(dir, 'train.parquet')}' (FORMAT parquet)`);
  await c.run(`COPY (SELECT * FROM rows ORDER BY id OFFSET 320) TO '${path.join(dir, 'valid.parquet')}' (FORMAT parquet)`);
  fs.writeFileSync(
    path.join(dir, 'feature_columns.json'),
    JSON.stringify({ columns: FEATURES.map((name) => ({ name, swap: name === 'len_diff' || name === 'signal' ? 'negate' : 'keep' })) }),
  );
  c.closeSync();
  db.closeSync();
}

function config(trainer: object = {}, model: object = {}) {
  return runConfigSchema.parse({
    name: 'trainer-test',
    seed: 7,
    augment: { mode: 'none' },
    model: { text_hash_dim: 256, text_dim: 16, feature_dim: 16, hidden_dim: 16, head_dropout: 0.2, ...model },
    trainer: { epochs: 2, batch_size: 16, checkpoint_every_steps: 5, early_stopping_patience: 0, ...trainer },
  });
}

describe('cpu trainer process', () => {
  let dir: string;
  const trainSpec = (name: string, overrides: object = {}) => protocolTrainSpec(dir, name, config(), overrides);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-'));
    await buildSplits(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a run killed after its first checkpoint and resumed ends with the same weights', async () => {
    const whole = await runTrainer('train', trainSpec('whole'), dir);
    assert.equal(whole.code, 0, whole.stderr);
    const done = whole.events.at(-1)!;
    assert.equal(done['event'], 'done');
    assert.ok(whole.events.some((e) => e['event'] === 'metrics'));

    let firstCheckpoint: string | undefined;
    const killedSpec = trainSpec('killed', { config: config({ step_delay_ms: 40 }) });
    const killed = await runTrainer('train', killedSpec, dir, (event, child) => {
      if (event['event'] === 'checkpoint' && !firstCheckpoint) {
        firstCheckpoint = event['path'] as string;
        child.kill('SIGKILL');
      }
    });
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(firstCheckpoint, 'the run reported a checkpoint before it was killed');
    assert.ok(!fs.existsSync(path.join(killedSpec.output_dir, 'checkpoint')), 'killed before the end');

    const resumed = await runTrainer('train', { ...killedSpec, resume_from: firstCheckpoint }, dir);
    assert.equal(resumed.code, 0, resumed.stderr);
    const start = resumed.events[0]!;
    assert.equal(start['event'], 'start');
    assert.equal(start['step'], readCheckpoint(firstCheckpoint).state.step);
    assert.ok((start['step'] as number) > 0);

    const a = readCheckpoint(done['checkpoint'] as string);
    const b = readCheckpoint(resumed.events.at(-1)!['checkpoint'] as string);
    assert.equal(b.state.step, a.state.step);
    for (const spec of paramSpecs(a.dims)) {
      assert.deepEqual(b.params[spec.name], a.params[spec.name], `${spec.name} differs after resume`);
      assert.deepEqual(b.adam.v[spec.name], a.adam.v[spec.name], `adam.v of ${spec.name} differs after resume`);
    }
    assert.deepEqual(b.state.history, a.state.history);
  });

  it('on the preempt request it checkpoints at the current step and exits 4; resuming from it loses no step', async () => {
    const whole = await runTrainer('train', trainSpec('whole-p'), dir);
    assert.equal(whole.code, 0, whole.stderr);
    const spec = trainSpec('preempted', { config: config({ step_delay_ms: 40 }) });
    let asked = false;
    const preempted = await runTrainer('train', spec, dir, (event, child) => {
      if (event['event'] === 'checkpoint' && !asked) {
        asked = true;
        // A few steps past the periodic checkpoint: the pre-emption checkpoint must be a newer one.
        setTimeout(() => child.stdin!.write(PREEMPT_MESSAGE), 200);
      }
    });
    assert.equal(preempted.code, EXIT_PREEMPTED, preempted.stderr);
    const [last, error] = preempted.events.slice(-2);
    assert.equal(last!['event'], 'checkpoint');
    assert.ok((last!['step'] as number) > 5, `checkpointed at the current step ${last!['step']}, not the periodic step 5`);
    assert.deepEqual(error, { event: 'error', kind: 'preempted', message: `pre-empted at step ${last!['step']}; checkpoint written` });
    assert.equal(readCheckpoint(last!['path'] as string).state.step, last!['step']);

    const resumed = await runTrainer('train', { ...spec, resume_from: last!['path'] }, dir);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.events[0]!['step'], last!['step']);
    const a = readCheckpoint(whole.events.at(-1)!['checkpoint'] as string);
    const b = readCheckpoint(resumed.events.at(-1)!['checkpoint'] as string);
    for (const p of paramSpecs(a.dims)) assert.deepEqual(b.params[p.name], a.params[p.name], `${p.name} differs after a pre-emption`);
    assert.deepEqual(b.state.history, a.state.history);
  });

  it('exits promptly when stdin reaches end of file, and dies on SIGTERM', async () => {
    const slow = (name: string) => trainSpec(name, { config: config({ step_delay_ms: 200 }) });
    let closedAt = 0;
    const orphaned = await runTrainer('train', slow('orphaned'), dir, (event, child) => {
      if (event['event'] === 'start') {
        closedAt = Date.now();
        child.stdin!.end();
      }
    });
    assert.equal(orphaned.code, 1, orphaned.stderr);
    assert.ok(Date.now() - closedAt < 3000, 'exited within a few steps of EOF');
    assert.ok(!orphaned.events.some((e) => e['event'] === 'done'));

    const terminated = await runTrainer('train', slow('terminated'), dir, (event, child) => {
      if (event['event'] === 'start') child.kill('SIGTERM');
    });
    assert.equal(terminated.signal, 'SIGTERM');
    assert.ok(!terminated.events.some((e) => e['event'] === 'done'));
  });

  it('rejects a malformed config with an error event of kind user and exit 2', async () => {
    const bad = { ...trainSpec('bad'), config: { ...config(), trainer: { ...config().trainer, batch_size: 0 } } };
    const run = await runTrainer('train', bad, dir);
    assert.equal(run.code, 2);
    const error = run.events.find((e) => e['event'] === 'error')!;
    assert.equal(error['kind'], 'user');
    assert.match(error['message'] as string, /config\.trainer\.batch_size/);
    assert.ok(!fs.existsSync(bad.output_dir));
  });

  it('rejects a split that lacks a feature column, naming file and column', async () => {
    const columns = path.join(dir, 'bad_columns.json');
    fs.writeFileSync(columns, JSON.stringify({ columns: [{ name: 'len_a', swap: 'keep' }, { name: 'no_such_feature', swap: 'keep' }] }));
    const run = await runTrainer('train', trainSpec('missing', { feature_columns: columns }), dir);
    assert.equal(run.code, 2);
    const error = run.events.find((e) => e['event'] === 'error')!;
    assert.equal(error['kind'], 'user');
    assert.match(error['message'] as string, /train\.parquet: missing column "no_such_feature"/);
  });

  it('rejects a bad swap rule with the exact message of the pipeline\'s reader', async () => {
    const cases: [object[], string][] = [
      [[{ name: 'len_a', swap: { with: 'len_b' } }, { name: 'len_b', swap: 'keep' }], "key 'columns[0].swap': 'len_a' swaps with 'len_b', which must be another listed column that swaps back with it"],
      [[{ name: 'len_a', swap: 'mirror' }], `key 'columns[0].swap': must be {"with": <column>}, "negate", "reciprocal" or "keep", not "mirror"`],
    ];
    for (const [i, [columns, key]] of cases.entries()) {
      const file = path.join(dir, `bad_swap_${i}.json`);
      fs.writeFileSync(file, JSON.stringify({ columns }));
      const message = `${file}: ${key}`;
      assert.throws(() => readFeatureColumns(file), (err: Error) => err instanceof UserInputError && err.message === message);
      const run = await runTrainer('train', trainSpec(`bad-swap-${i}`, { feature_columns: file }), dir);
      assert.equal(run.code, 2, run.stderr);
      const error = run.events.find((e) => e['event'] === 'error')!;
      assert.deepEqual({ kind: error['kind'], message: error['message'] }, { kind: 'user', message });
    }
  });

  it('merge averages the weights and Adam moments of two shards exactly', async () => {
    const shards = await Promise.all(
      [0, 1].map((index) =>
        runTrainer('train', trainSpec(`shard${index}`, { shard: { index, count: 2 }, round: { index: 0, epoch_start: 0, epoch_end: 1 } }), dir),
      ),
    );
    for (const run of shards) assert.equal(run.code, 0, run.stderr);
    const inputs = shards.map((run) => run.events.at(-1)!['checkpoint'] as string);
    const merged = await runTrainer('merge', { config: config(), inputs, output_dir: path.join(dir, 'merged') }, dir);
    assert.equal(merged.code, 0, merged.stderr);
    const [a, b] = inputs.map((p) => readCheckpoint(p));
    const m = readCheckpoint(merged.events.at(-1)!['checkpoint'] as string);
    let differs = 0;
    for (const spec of paramSpecs(m.dims)) {
      const expected = (x: Float32Array | Float64Array, y: Float32Array | Float64Array) => Float32Array.from(x, (v, i) => (v + y[i]!) / 2);
      assert.deepEqual(m.params[spec.name], expected(a!.params[spec.name]!, b!.params[spec.name]!), spec.name);
      assert.deepEqual(m.adam.m[spec.name], expected(a!.adam.m[spec.name]!, b!.adam.m[spec.name]!), `adam.m ${spec.name}`);
      if (a!.params[spec.name]!.some((v, i) => v !== b!.params[spec.name]![i])) differs++;
    }
    assert.ok(differs > 0, 'the shards trained on different rows');
    assert.equal(m.state.step, Math.max(a!.state.step, b!.state.step));
  });

  it('learns a learnable signal and exports a model', async () => {
    const spec = trainSpec('learn', {
      config: config({ epochs: 3, lr: { backbone: 1e-3, features: 1e-2, head: 1e-2 } }),
      round: { index: 0, epoch_start: 0, epoch_end: 3 },
    });
    const run = await runTrainer('train', spec, dir);
    assert.equal(run.code, 0, run.stderr);
    const metrics = run.events.filter((e) => e['event'] === 'metrics');
    assert.equal(metrics.length, 3);
    assert.ok((metrics.at(-1)!['valid_accuracy'] as number) > 0.8, JSON.stringify(metrics));
    assert.ok((metrics.at(-1)!['valid_loss'] as number) < (metrics[0]!['valid_loss'] as number) || (metrics[0]!['valid_loss'] as number) < 0.4);
    const c = readCheckpoint(run.events.at(-1)!['checkpoint'] as string);
    const losses = c.state.history.train.map((e) => e.loss);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)), 'train loss falls');

    const exported = await runTrainer(
      'export',
      { config: spec.config, checkpoint: run.events.at(-1)!['checkpoint'], feature_columns: spec.feature_columns, output_dir: path.join(dir, 'export') },
      dir,
    );
    assert.equal(exported.code, 0, exported.stderr);
    const description = JSON.parse(fs.readFileSync(path.join(dir, 'export', 'model.json'), 'utf8'));
    assert.deepEqual(description.feature_columns, FEATURES);
    assert.equal(description.history.epochs.length, 3);
    assert.equal(description.history.train_loss_per_step.length, c.state.step);
    assert.ok(fs.statSync(path.join(dir, 'export', 'model.onnx')).size > 4 * 768 * 16);
  });
});
