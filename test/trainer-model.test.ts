import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { runConfigSchema } from '../lib/config/schema';
import { hashTextSparse, hashTextVector, swapTextVector } from '../lib/text-hashing';
import { adamwStep, lrMultiplier } from '../trainers/cpu/adamw';
import { readCheckpoint } from '../trainers/cpu/checkpoint';
import { shardOfPair, trainingRowIndices, type SplitRows } from '../trainers/cpu/data';
import type { TrainerEvent } from '../trainers/cpu/events';
import { bceWithLogits } from '../trainers/cpu/loss';
import { buildOnnxModel } from '../trainers/cpu/onnx-graph';
import { predictRows, type PredictRow } from '../trainers/cpu/predict';
import {
  backward,
  forward,
  initParams,
  paramSpecs,
  sizeOf,
  zeroParams,
  type Batch,
  type FeatureScaling,
  type ModelDims,
  type Params,
} from '../trainers/cpu/model';
import { Mulberry32 } from '../trainers/cpu/rng';
import { trainCommand } from '../trainers/cpu/train';
import { SAMPLE_ROWS_SQL, trainSpec } from './fixtures/sample-splits';

const FEATURES = ['len_a', 'len_b', 'words_prompt'];

describe('cpu_mlp gradients', () => {
  const dims: ModelDims = { textHashDim: 8, textDim: 3, featureCount: 3, featureDim: 4, hiddenDim: 5 };
  const rng = new Mulberry32(11);
  const params: Params = zeroParams(dims, (n) => new Float64Array(n));
  for (const spec of paramSpecs(dims)) params[spec.name]!.forEach((_, i, t) => (t[i] = rng.next() * 2 - 1));
  const scaling: FeatureScaling = { mean: Float32Array.from([1, -2, 0.5]), std: Float32Array.from([2, 0.5, 1]) };
  const batch: Batch = {
    text: [
      { indices: Int32Array.from([0, 3, 9, 17, 23]), values: Float32Array.from([0.5, -0.25, 1, 0.75, -1]) },
      { indices: Int32Array.from([1, 8, 16]), values: Float32Array.from([1, 1, -0.5]) },
      { indices: Int32Array.from([]), values: Float32Array.from([]) },
    ],
    features: [3, -1, 2, 0, 0, 0, -4, 2.5, 1],
  };
  const labels = [1, 0, 1];
  // A fixed dropout mask: the gradient check covers the masked path too.
  const mask = Float64Array.from({ length: 3 * dims.hiddenDim }, (_, i) => (i % 4 === 1 ? 0 : 1.25));
  const alloc = (n: number) => new Float64Array(n);
  const loss = () => {
    const { logits } = forward(dims, params, scaling, batch, mask, alloc);
    return Array.from(logits).reduce((s, l, b) => s + bceWithLogits(l, labels[b]!), 0);
  };

  for (const spec of paramSpecs(dims)) {
    it(`analytic gradient of ${spec.name} (${spec.group}) matches central differences`, () => {
      const grads = zeroParams(dims, alloc);
      const cache = forward(dims, params, scaling, batch, mask, alloc);
      const analyticLoss = backward(dims, params, batch, cache, labels, grads);
      assert.ok(Math.abs(analyticLoss - loss()) < 1e-12);
      const t = params[spec.name]!;
      const h = 1e-6;
      let checked = 0;
      for (let i = 0; i < t.length; i++) {
        const saved = t[i]!;
        t[i] = saved + h;
        const up = loss();
        t[i] = saved - h;
        const down = loss();
        t[i] = saved;
        const numeric = (up - down) / (2 * h);
        const analytic = grads[spec.name]![i]!;
        assert.ok(Math.abs(numeric - analytic) <= 1e-6 + 1e-5 * Math.abs(numeric), `${spec.name}[${i}]: analytic ${analytic}, numeric ${numeric}`);
        if (analytic !== 0) checked++;
      }
      assert.ok(checked > 0, `${spec.name} has nonzero gradients`);
    });
  }
});

describe('AdamW and the learning-rate schedule', () => {
  it('one AdamW step matches a hand computation', () => {
    const dims: ModelDims = { textHashDim: 1, textDim: 1, featureCount: 1, featureDim: 1, hiddenDim: 1 };
    const params = zeroParams(dims, (n) => new Float64Array(n));
    const grads = zeroParams(dims, (n) => new Float64Array(n));
    const adam = { m: zeroParams(dims, (n) => new Float64Array(n)), v: zeroParams(dims, (n) => new Float64Array(n)) };
    params['text.weight']!.set([0.5, -0.3, 0.1]);
    grads['text.weight']!.set([0.4, -0.8, 0]);
    params['head.fc2.bias']![0] = 0.5;
    grads['head.fc2.bias']![0] = -0.8;
    adamwStep(dims, params, grads, adam, 1, { backbone: 0.01, features: 0.02, head: 0.03 }, 0.1, 0.5);
    // gradScale 0.5 halves the gradients; at t=1 mhat = g and vhat = g^2, so the step is lr*g/(|g|+eps).
    const expectedWeights = [0.5 * (1 - 0.001) - (0.01 * 0.2) / (0.2 + 1e-8), -0.3 * (1 - 0.001) + (0.01 * 0.4) / (0.4 + 1e-8), 0.1 * (1 - 0.001)];
    expectedWeights.forEach((e, i) => assert.ok(Math.abs(params['text.weight']![i]! - e) < 1e-15, `text.weight[${i}]`));
    // Biases take no weight decay; the head group has its own rate.
    assert.ok(Math.abs(params['head.fc2.bias']![0]! - (0.5 + (0.03 * 0.4) / (0.4 + 1e-8))) < 1e-15);
    assert.ok(Math.abs(adam.m['text.weight']![1]! - 0.1 * -0.4) < 1e-15);
    assert.ok(Math.abs(adam.v['text.weight']![1]! - 0.001 * 0.16) < 1e-15);
  });

  it('warms up linearly, then decays along a cosine to zero', () => {
    const s = { totalSteps: 100, warmupRatio: 0.1, numCycles: 0.5 };
    assert.equal(lrMultiplier(0, s), 0.1);
    assert.equal(lrMultiplier(4, s), 0.5);
    assert.equal(lrMultiplier(9, s), 1);
    assert.equal(lrMultiplier(10, s), 1);
    assert.ok(Math.abs(lrMultiplier(55, s) - 0.5) < 1e-12);
    assert.ok(Math.abs(lrMultiplier(100, s)) < 1e-12);
    assert.ok(lrMultiplier(99, s) > 0 && lrMultiplier(99, s) < 0.001);
    assert.equal(lrMultiplier(0, { totalSteps: 10, warmupRatio: 0, numCycles: 0.5 }), 1);
  });

  it("with the reference's num_cycles 0.27 floors at 0.437 of the peak instead of 0", () => {
    const s = { totalSteps: 100, warmupRatio: 0.1, numCycles: 0.27 };
    // 0.5 * (1 + cos(2 pi 0.27)) = 0.5 * (1 - 0.12533) = 0.43733 at the end; halfway through the decay
    // (step 55): 0.5 * (1 + cos(0.27 pi)) = 0.5 * (1 + 0.66131) = 0.83066.
    assert.ok(Math.abs(lrMultiplier(100, s) - 0.437333) < 1e-6);
    assert.ok(Math.abs(lrMultiplier(55, s) - 0.830656) < 1e-6);
    assert.equal(lrMultiplier(9, s), 1);
  });
});

describe('cpu trainer end to end in process', () => {
  let dir: string;
  let rows: PredictRow[];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`
      CREATE TABLE rows AS
      WITH raw AS (SELECT * FROM (${SAMPLE_ROWS_SQL}) WHERE NOT tie)
      SELECT id, id AS pair_id, false AS swapped, prompt, response_a, response_b, winner,
             length(response_a)::DOUBLE AS len_a, length(response_b)::DOUBLE AS len_b,
             len(string_split(prompt, ' '))::DOUBLE AS words_prompt
      FROM raw ORDER BY id LIMIT 240`);
    await c.run(`COPY (SELECT * FROM rows ORDER BY id LIMIT 200) TO '${path.join(dir, 'train.parquet')}' (FORMAT parquet)`);
    await c.run(`COPY (SELECT * FROM rows ORDER BY id OFFSET 200) TO '${path.join(dir, 'valid.parquet')}' (FORMAT parquet)`);
    const valid = (await c.runAndReadAll('SELECT * FROM rows ORDER BY id OFFSET 200')).getRowObjects();
    rows = valid.map((r) => ({
      prompt: r['prompt'] as string,
      response_a: r['response_a'] as string,
      response_b: r['response_b'] as string,
      features: FEATURES.map((f) => r[f] as number),
    }));
    fs.writeFileSync(path.join(dir, 'feature_columns.json'), JSON.stringify({ columns: FEATURES.map((name) => ({ name, swap: 'keep' })) }));
    c.closeSync();
    db.closeSync();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const train = async (name: string, seed: number) => {
    const events: TrainerEvent[] = [];
    const config = runConfigSchema.parse({
      name: 'model-test',
      seed,
      augment: { mode: 'none' },
      model: { text_hash_dim: 512, text_dim: 16, feature_dim: 8, hidden_dim: 16 },
      trainer: { epochs: 2, batch_size: 16, checkpoint_every_steps: 100, early_stopping_patience: 0 },
    });
    await trainCommand(
      trainSpec(dir, name, config),
      (event) => events.push(event),
    );
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    return readCheckpoint((done as { checkpoint: string }).checkpoint);
  };

  it('the same seed gives identical weights, another seed different ones', async () => {
    const a = await train('a', 3);
    const b = await train('b', 3);
    const c = await train('c', 4);
    for (const spec of paramSpecs(a.dims)) assert.deepEqual(b.params[spec.name], a.params[spec.name], spec.name);
    assert.notDeepEqual(c.params['head.fc1.weight'], a.params['head.fc1.weight']);
    assert.ok(a.state.step > 0);
  });

  it('the exported ONNX graph computes the trainer forward pass on real rows within 1e-5', async () => {
    const c = readCheckpoint(path.join(dir, 'a', 'out', 'checkpoint'));
    const file = path.join(dir, 'model.onnx');
    fs.writeFileSync(file, buildOnnxModel(c));
    const session = await InferenceSession.create(file);
    const n = rows.length;
    const H = c.dims.textHashDim;
    const text = new Float32Array(n * 3 * H);
    rows.forEach((r, i) => hashTextVector(r.prompt, r.response_a, r.response_b, H, text, i * 3 * H));
    const features = Float32Array.from(rows.flatMap((r) => r.features));
    const out = await session.run({ text: new Tensor('float32', text, [n, 3 * H]), features: new Tensor('float32', features, [n, FEATURES.length]) });
    const onnxP = out['p_a']!.data as Float32Array;
    const trainerP = predictRows(c, rows);
    assert.equal(onnxP.length, n);
    let spread = 0;
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(onnxP[i]! - trainerP[i]!) < 1e-5, `row ${i}: onnx ${onnxP[i]} vs trainer ${trainerP[i]}`);
      spread = Math.max(spread, Math.abs(trainerP[i]! - trainerP[0]!));
    }
    assert.ok(spread > 1e-3, 'predictions vary across rows');
  });

  it('the dense text vector equals the sparse one, and swapping blocks equals hashing (prompt, b, a)', () => {
    const r = rows[0]!;
    const H = 512;
    const sparse = hashTextSparse(r.prompt, r.response_a, r.response_b, H);
    const dense = hashTextVector(r.prompt, r.response_a, r.response_b, H);
    assert.equal(dense.filter((v) => v !== 0).length, sparse.indices.length);
    sparse.indices.forEach((index, k) => assert.equal(dense[index], sparse.values[k]));
    for (let block = 0; block < 3; block++) {
      const norm = Math.hypot(...dense.subarray(block * H, (block + 1) * H));
      assert.ok(Math.abs(norm - 1) < 1e-6, `block ${block} is L2-normalised`);
    }
    swapTextVector(dense, H);
    assert.deepEqual(dense, hashTextVector(r.prompt, r.response_b, r.response_a, H));
    assert.deepEqual(hashTextVector('', '', '', 4), new Float32Array(12));
  });
});

describe('checkpoint tensors', () => {
  it('initialisation is seeded and sized by the dims', () => {
    const dims: ModelDims = { textHashDim: 4, textDim: 2, featureCount: 2, featureDim: 3, hiddenDim: 2 };
    const a = initParams(dims, new Mulberry32(5));
    assert.deepEqual(initParams(dims, new Mulberry32(5)), a);
    for (const spec of paramSpecs(dims)) assert.equal(a[spec.name]!.length, sizeOf(spec.shape));
  });
});

describe('training row selection', () => {
  const pairs = Array.from({ length: 40 }, (_, i) => `pair-${i}`);
  const split = {
    ids: pairs.flatMap((p) => [p, `${p}#swap`]),
    pairIds: pairs.flatMap((p) => [p, p]),
    swapped: Uint8Array.from(pairs.flatMap(() => [0, 1])),
  } as unknown as SplitRows;
  const pick = (mode: 'none' | 'append' | 'alternate' | 'per_gpu', index: number, count: number, epoch: number) =>
    Array.from(trainingRowIndices(split, { index, count }, mode, epoch));

  it('shards split pairs, never a row from its swapped copy', () => {
    const shard0 = pick('append', 0, 2, 0);
    const shard1 = pick('append', 1, 2, 0);
    assert.equal(shard0.length + shard1.length, 80);
    assert.ok(shard0.length > 0 && shard1.length > 0);
    for (const i of shard0) assert.equal(shardOfPair(split.pairIds[i]!, 2), 0);
    assert.deepEqual(new Set(shard0.map((i) => split.pairIds[i])).size * 2, shard0.length);
  });

  it('applies the augmentation mode', () => {
    const swappedOf = (rows: number[]) => new Set(rows.map((i) => split.swapped[i]));
    assert.deepEqual(swappedOf(pick('none', 0, 1, 1)), new Set([0]));
    assert.equal(pick('append', 0, 1, 0).length, 80);
    assert.deepEqual(swappedOf(pick('alternate', 0, 1, 0)), new Set([0]));
    assert.deepEqual(swappedOf(pick('alternate', 0, 1, 1)), new Set([1]));
    assert.deepEqual(swappedOf(pick('per_gpu', 0, 2, 1)), new Set([0]));
    assert.deepEqual(swappedOf(pick('per_gpu', 1, 2, 0)), new Set([1]));
  });

  it('per_gpu shows every pair in both orientations every epoch, as the reference DDP did', () => {
    const seen = (count: number, epoch: number) =>
      Array.from({ length: count }, (_, k) => pick('per_gpu', k, count, epoch))
        .flat()
        .map((i) => `${split.pairIds[i]}/${split.swapped[i]}`)
        .sort();
    const bothWays = pairs.flatMap((p) => [`${p}/0`, `${p}/1`]).sort();
    for (const epoch of [0, 1]) {
      assert.deepEqual(seen(2, epoch), bothWays);
      assert.deepEqual(seen(4, epoch), [...bothWays, ...bothWays].sort());
      // One shard: the originals of every pair, as the reference on one GPU.
      assert.deepEqual(seen(1, epoch), pairs.map((p) => `${p}/0`).sort());
    }
  });
});
