import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { runConfigSchema } from '../lib/config/schema';
import { hashTextSparse } from '../lib/text-hashing';
import { readCheckpoint, type Checkpoint } from '../trainers/cpu/checkpoint';
import { rowLoss, sigmoid, type SoftLabelLoss } from '../trainers/cpu/loss';
import { featureScaling, readSplit } from '../trainers/cpu/data';
import { backward, forward, initParams, paramSpecs, predictProbabilities, zeroParams, type Batch, type FeatureScaling, type ModelDims, type Params } from '../trainers/cpu/model';
import { deriveSeed, Mulberry32 } from '../trainers/cpu/rng';
import { INIT_STREAM } from '../trainers/cpu/train';
import { SAMPLE_ROWS_SQL, trainSpec } from './fixtures/sample-splits';

/**
 * Soft-label training of the CPU trainer (distill.alpha, distill.temperature, column teacher_p):
 * the loss gradient against finite differences, and real trainer processes on DuckDB-written splits.
 */

const REPO = path.resolve(__dirname, '..');
const FEATURES = ['len_a', 'len_b', 'len_diff'];

/** KL(teacher_T ‖ student_T) of one row, written out as the distill design states it. */
function klAtTemperature(teacherP: number, studentP: number, T: number): number {
  const logit = (p: number) => Math.log(p) - Math.log(1 - p);
  const clip = (p: number) => Math.min(Math.max(p, 1e-6), 1 - 1e-6);
  const pt = sigmoid(logit(clip(teacherP)) / T);
  const ps = sigmoid(logit(studentP) / T);
  return pt * Math.log(pt / ps) + (1 - pt) * Math.log((1 - pt) / (1 - ps));
}

describe('soft-label loss', () => {
  it('its gradient in the logit matches central differences, and its value the written-out formula', () => {
    let checked = 0;
    for (const alpha of [0, 0.3, 1]) {
      for (const temperature of [1, 2, 4.5]) {
        for (const p of [NaN, 0, 0.2, 0.5, 0.93, 1]) {
          for (const label of [0, 1]) {
            for (const z of [-30, -3, -0.4, 0, 0.7, 5, 30]) {
              const soft: SoftLabelLoss = { alpha, temperature };
              const { loss, grad } = rowLoss(z, label, p, soft);
              const h = 1e-5;
              const numeric = (rowLoss(z + h, label, p, soft).loss - rowLoss(z - h, label, p, soft).loss) / (2 * h);
              assert.ok(Math.abs(numeric - grad) <= 1e-7 + 1e-6 * Math.abs(numeric), `alpha ${alpha} T ${temperature} p ${p} y ${label} z ${z}: analytic ${grad}, numeric ${numeric}`);
              // Where σ(z) is not saturated, the value is alpha·BCE + (1-alpha)·T²·KL by the textbook form.
              if (Math.abs(z) < 10) {
                const q = sigmoid(z);
                const bce = -(label * Math.log(q) + (1 - label) * Math.log(1 - q));
                const expected = Number.isNaN(p) ? bce : alpha * bce + (1 - alpha) * temperature ** 2 * klAtTemperature(p, q, temperature);
                assert.ok(Math.abs(loss - expected) < 1e-9, `loss at alpha ${alpha} T ${temperature} p ${p} y ${label} z ${z}: ${loss} vs ${expected}`);
              }
              checked++;
            }
          }
        }
      }
    }
    assert.equal(checked, 3 * 3 * 6 * 2 * 7);
    // The soft part alone is zero exactly where the student agrees with the teacher.
    const atTeacher = rowLoss(Math.log(0.8 / 0.2), 0, 0.8, { alpha: 0, temperature: 2 });
    assert.ok(Math.abs(atTeacher.loss) < 1e-12 && Math.abs(atTeacher.grad) < 1e-12);
  });

  it('the backward pass with soft labels matches central differences of every parameter', () => {
    const dims: ModelDims = { textHashDim: 8, textDim: 3, featureCount: 3, featureDim: 4, hiddenDim: 5 };
    const rng = new Mulberry32(23);
    const alloc = (n: number) => new Float64Array(n);
    const params: Params = zeroParams(dims, alloc);
    for (const spec of paramSpecs(dims)) params[spec.name]!.forEach((_, i, t) => (t[i] = rng.next() * 2 - 1));
    const scaling: FeatureScaling = { mean: Float32Array.from([1, -2, 0.5]), std: Float32Array.from([2, 0.5, 1]) };
    const batch: Batch = {
      text: [
        { indices: Int32Array.from([0, 3, 9, 17]), values: Float32Array.from([0.5, -0.25, 1, 0.75]) },
        { indices: Int32Array.from([1, 8, 16]), values: Float32Array.from([1, 1, -0.5]) },
        { indices: Int32Array.from([2, 20]), values: Float32Array.from([-1, 0.3]) },
      ],
      features: [3, -1, 2, 0, 0, 0, -4, 2.5, 1],
    };
    const labels = [1, 0, 0];
    // Row 2 has no soft label: its loss is the hard one.
    const soft = { teacherP: [0.3, 0.9, NaN], loss: { alpha: 0.25, temperature: 3 } };
    const loss = () => {
      const { logits } = forward(dims, params, scaling, batch, null, alloc);
      return Array.from(logits).reduce((s, z, b) => s + rowLoss(z, labels[b]!, soft.teacherP[b]!, soft.loss).loss, 0);
    };
    const grads = zeroParams(dims, alloc);
    const analyticLoss = backward(dims, params, batch, forward(dims, params, scaling, batch, null, alloc), labels, grads, soft);
    assert.ok(Math.abs(analyticLoss - loss()) < 1e-12);
    for (const spec of paramSpecs(dims)) {
      const t = params[spec.name]!;
      let nonzero = 0;
      for (let i = 0; i < t.length; i++) {
        const saved = t[i]!;
        t[i] = saved + 1e-6;
        const up = loss();
        t[i] = saved - 1e-6;
        const down = loss();
        t[i] = saved;
        const numeric = (up - down) / 2e-6;
        const analytic = grads[spec.name]![i]!;
        assert.ok(Math.abs(numeric - analytic) <= 1e-6 + 1e-5 * Math.abs(numeric), `${spec.name}[${i}]: analytic ${analytic}, numeric ${numeric}`);
        if (analytic !== 0) nonzero++;
      }
      assert.ok(nonzero > 0, `${spec.name} has nonzero gradients`);
    }
  });
});

interface TrainerRun {
  code: number | null;
  events: Record<string, unknown>[];
  stderr: string;
}

/** The CPU trainer as the activity starts it: its own process, events on stdout. */
function runTrainer(spec: ReturnType<typeof trainSpec>, dir: string): Promise<TrainerRun> {
  const specFile = path.join(dir, `spec-${path.basename(path.dirname(spec.output_dir))}.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  const child = spawn(process.execPath, ['--import', 'tsx', 'trainers/cpu/main.ts', 'train', '--spec', specFile], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stderr, events: stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>) })),
  );
}

describe('cpu trainer process on soft labels', () => {
  let dir: string;
  /** The row whose soft label the bad splits replace. */
  let rogueId: string;
  /** The train split's rows with their soft label, for measuring how close a model is to the teacher. */
  let trainRows: { prompt: string; response_a: string; response_b: string; features: number[]; teacher_p: number | null }[];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-soft-'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    // 150 real pairs, both orders. The teacher is sure where the length gap is large (a function of
    // the features the model sees, unlike the noisy human label); every 7th pair has no soft label.
    // A swapped copy's soft label is 1 - p, as the soft_labels stage writes it.
    await c.run(`
      CREATE TABLE pairs AS
      WITH raw AS (SELECT * FROM (${SAMPLE_ROWS_SQL}) WHERE NOT tie ORDER BY id LIMIT 190)
      SELECT *, length(response_a)::DOUBLE AS len_a, length(response_b)::DOUBLE AS len_b,
             CASE WHEN k % 7 = 3 THEN NULL ELSE 1 / (1 + exp(-(length(response_a) - length(response_b)) / 300.0)) END AS p
      FROM raw`);
    await c.run(`
      CREATE TABLE soft AS
      SELECT id, id AS pair_id, false AS swapped, prompt, response_a, response_b, winner,
             len_a, len_b, len_a - len_b AS len_diff, p AS teacher_p
      FROM (SELECT * FROM pairs ORDER BY id LIMIT 150)
      UNION ALL
      SELECT id || '#swap', id, true, prompt, response_b, response_a,
             CASE WHEN winner = 'model_a' THEN 'model_b' ELSE 'model_a' END,
             len_b, len_a, len_b - len_a, 1 - p
      FROM (SELECT * FROM pairs ORDER BY id LIMIT 150)`);
    // A soft-labelled split carries its loss weights in its metadata, as the soft_labels stage writes it.
    const weights = (alpha: string, temperature = "'2'") => `, KV_METADATA { distill_alpha: ${alpha}, distill_temperature: ${temperature} }`;
    const copy = (select: string, file: string, metadata = weights("'0.5'")) => c.run(`COPY (${select}) TO '${path.join(dir, file)}' (FORMAT parquet${metadata})`);
    await copy('SELECT * FROM soft', 'train-soft-alpha-1.parquet', weights("'1'"));
    await copy('SELECT * FROM soft', 'train-soft-alpha-0.parquet', weights("'0'"));
    await copy('SELECT * FROM soft', 'train-no-weights.parquet', '');
    await copy('SELECT * FROM soft', 'train-bad-alpha.parquet', weights("'1.5'"));
    await copy('SELECT * EXCLUDE (teacher_p) FROM soft', 'train.parquet', '');
    await copy(`SELECT id, id AS pair_id, false AS swapped, prompt, response_a, response_b, winner, len_a, len_b, len_a - len_b AS len_diff FROM pairs ORDER BY id OFFSET 150`, 'valid.parquet', '');
    rogueId = (await c.runAndReadAll('SELECT max(id) AS id FROM soft WHERE teacher_p IS NOT NULL')).getRowObjectsJS()[0]!['id'] as string;
    const rogue = (file: string, value: string) => copy(`SELECT * REPLACE (CASE WHEN id = '${rogueId}' THEN ${value} ELSE teacher_p END AS teacher_p) FROM soft`, file);
    await rogue('train-above-one.parquet', '1.5::DOUBLE');
    await rogue('train-nan.parquet', "'NaN'::DOUBLE");
    await copy("SELECT * REPLACE (CAST(teacher_p AS VARCHAR) AS teacher_p) FROM soft", 'train-text.parquet');
    trainRows = (await c.runAndReadAll('SELECT * FROM soft ORDER BY id')).getRowObjectsJS().map((r) => ({
      prompt: r['prompt'] as string,
      response_a: r['response_a'] as string,
      response_b: r['response_b'] as string,
      features: FEATURES.map((f) => r[f] as number),
      teacher_p: r['teacher_p'] as number | null,
    }));
    fs.writeFileSync(
      path.join(dir, 'feature_columns.json'),
      JSON.stringify({ columns: [{ name: 'len_a', swap: { with: 'len_b' } }, { name: 'len_b', swap: { with: 'len_a' } }, { name: 'len_diff', swap: 'negate' }] }),
    );
    c.closeSync();
    db.closeSync();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const config = () =>
    runConfigSchema.parse({
      name: 'soft-label-test',
      seed: 5,
      augment: { mode: 'append' },
      model: { text_hash_dim: 256, text_dim: 8, feature_dim: 8, hidden_dim: 16, head_dropout: 0.1 },
      trainer: { epochs: 6, batch_size: 16, checkpoint_every_steps: 1000, early_stopping_patience: 0, lr: { backbone: 1e-3, features: 1e-2, head: 1e-2 } },
    });

  const train = async (name: string, file: string, cfg: ReturnType<typeof config>): Promise<Checkpoint> => {
    const run = await runTrainer(trainSpec(dir, name, cfg, { train_data: path.join(dir, file) }), dir);
    assert.equal(run.code, 0, run.stderr);
    const done = run.events.at(-1)!;
    assert.equal(done['event'], 'done');
    return readCheckpoint(done['checkpoint'] as string);
  };

  /** Mean KL(teacher_T ‖ student_T) at T = 2 over the training rows that have a soft label. */
  const klToTeacher = (c: Pick<Checkpoint, 'dims' | 'params' | 'scaling'>) => {
    const withTeacher = trainRows.filter((r) => r.teacher_p !== null);
    const text = withTeacher.map((r) => hashTextSparse(r.prompt, r.response_a, r.response_b, c.dims.textHashDim));
    const p = predictProbabilities(c.dims, c.params, c.scaling, { text, features: withTeacher.flatMap((r) => r.features) });
    return withTeacher.reduce((s, r, i) => s + klAtTemperature(r.teacher_p!, p[i]!, 2), 0) / withTeacher.length;
  };

  it('alpha = 1 with a teacher_p column trains bit-identical weights to no column', async () => {
    const hard = await train('hard', 'train.parquet', config());
    const alphaOne = await train('alpha-one', 'train-soft-alpha-1.parquet', config());
    assert.ok(hard.state.step > 0);
    for (const spec of paramSpecs(hard.dims)) assert.deepEqual(alphaOne.params[spec.name], hard.params[spec.name], spec.name);
  });

  it("alpha = 0 moves the model's predictions to the teacher's probabilities", async () => {
    const soft = await train('soft', 'train-soft-alpha-0.parquet', config());
    const hard = readCheckpoint(path.join(dir, 'hard', 'out', 'checkpoint'));
    // The model every run starts from: the seed's initial weights, the training split's feature scaling.
    const split = await readSplit(path.join(dir, 'train-soft-alpha-0.parquet'), FEATURES);
    assert.deepEqual(split.softLoss, { alpha: 0, temperature: 2 }, "the loss weights come from the file's metadata");
    const initial = { dims: soft.dims, params: initParams(soft.dims, new Mulberry32(deriveSeed(5, INIT_STREAM))), scaling: featureScaling(split) };
    const [before, hardOnly, after] = [klToTeacher(initial), klToTeacher(hard), klToTeacher(soft)];
    console.log(`# mean KL(teacher_T || student_T), T=2, over ${trainRows.filter((r) => r.teacher_p !== null).length} rows: initial ${before.toFixed(5)}, hard labels ${hardOnly.toFixed(5)}, soft labels (alpha 0) ${after.toFixed(5)}`);
    assert.ok(after < before / 4, `KL to the teacher falls: ${before} -> ${after}`);
    assert.ok(after < hardOnly / 2, `soft labels fit the teacher better than hard ones: ${after} vs ${hardOnly}`);
  });

  it('a teacher_p that is not a probability, or not a number, or without its loss weights, fails with the file, row id and column or key', async () => {
    const files = ['train-above-one.parquet', 'train-nan.parquet', 'train-text.parquet', 'train-no-weights.parquet', 'train-bad-alpha.parquet'];
    const runs = await Promise.all(files.map((file) => runTrainer(trainSpec(dir, `bad-${file}`, config(), { train_data: path.join(dir, file) }), dir)));
    const expected = [
      `${path.join(dir, 'train-above-one.parquet')}: row id ${rogueId}: column "teacher_p" is 1.5, expected a probability in [0, 1]`,
      `${path.join(dir, 'train-nan.parquet')}: row id ${rogueId}: column "teacher_p" is NaN, expected a probability in [0, 1]`,
      `${path.join(dir, 'train-text.parquet')}: column "teacher_p" has type VARCHAR, expected DOUBLE`,
      `${path.join(dir, 'train-no-weights.parquet')}: column "teacher_p" needs the file's key-value metadata distill_alpha (the soft_labels stage writes it)`,
      `${path.join(dir, 'train-bad-alpha.parquet')}: metadata distill_alpha is "1.5", expected a number in [0, 1]`,
    ];
    runs.forEach((run, i) => {
      assert.equal(run.code, 2, run.stderr);
      assert.deepEqual(run.events.at(-1), { event: 'error', kind: 'user', message: expected[i] });
      assert.ok(!run.events.some((e) => e['event'] === 'start'), 'rejected before training');
    });
  });
});
