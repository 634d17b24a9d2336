import type { SparseTextRow } from '../../lib/text-hashing';
import { hardRowLoss, rowLoss, sigmoid, type SoftTargets } from './loss';
import type { Mulberry32 } from './rng';

/**
 * The cpu_mlp model, a CPU stand-in for Gemma-2 + LoRA with an engineered-feature branch:
 *   text  = L2norm(Linear(3*text_hash_dim -> text_dim)(hashed n-grams))
 *   feats = L2norm(Linear(F -> feature_dim)((x - mean) / std))
 *   logit = Linear(hidden_dim -> 1)(Dropout(ReLU(Linear(text_dim + feature_dim -> hidden_dim)([text, feats]))))
 * Weights are stored [in, out] row-major (ONNX Gemm without transB), so a sparse text input reads
 * only the weight rows of its nonzero buckets.
 */

export interface ModelDims {
  textHashDim: number;
  textDim: number;
  featureCount: number;
  featureDim: number;
  hiddenDim: number;
}

export type Floats = Float32Array | Float64Array;
export type ParamGroup = 'backbone' | 'features' | 'head';

export interface ParamSpec {
  name: string;
  shape: number[];
  group: ParamGroup;
  /** AdamW weight decay applies to weight matrices, not biases (the usual transformers convention). */
  decay: boolean;
  fanIn: number;
}

/** Added under the square root of every L2 norm, so an all-zero vector (an empty text) stays finite. */
export const NORM_EPSILON = 1e-12;
/** Floor of a feature's standard deviation, so a constant column standardises to 0 instead of NaN. */
export const STD_FLOOR = 1e-6;

export function paramSpecs(d: ModelDims): ParamSpec[] {
  const textIn = 3 * d.textHashDim;
  const headIn = d.textDim + d.featureDim;
  return [
    { name: 'text.weight', shape: [textIn, d.textDim], group: 'backbone', decay: true, fanIn: textIn },
    { name: 'text.bias', shape: [d.textDim], group: 'backbone', decay: false, fanIn: textIn },
    { name: 'features.weight', shape: [d.featureCount, d.featureDim], group: 'features', decay: true, fanIn: d.featureCount },
    { name: 'features.bias', shape: [d.featureDim], group: 'features', decay: false, fanIn: d.featureCount },
    { name: 'head.fc1.weight', shape: [headIn, d.hiddenDim], group: 'head', decay: true, fanIn: headIn },
    { name: 'head.fc1.bias', shape: [d.hiddenDim], group: 'head', decay: false, fanIn: headIn },
    { name: 'head.fc2.weight', shape: [d.hiddenDim, 1], group: 'head', decay: true, fanIn: d.hiddenDim },
    { name: 'head.fc2.bias', shape: [1], group: 'head', decay: false, fanIn: d.hiddenDim },
  ];
}

/** Trainable tensors by name (see `paramSpecs`). */
export type Params = Record<string, Floats>;

/** Non-trainable tensors: the feature standardisation of the training split. */
export interface FeatureScaling {
  mean: Float32Array;
  std: Float32Array;
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function zeroParams(d: ModelDims, alloc: (n: number) => Floats = (n) => new Float32Array(n)): Params {
  const params: Params = {};
  for (const spec of paramSpecs(d)) params[spec.name] = alloc(sizeOf(spec.shape));
  return params;
}

/** PyTorch's nn.Linear default: weights and biases uniform in ±1/sqrt(fan_in). */
export function initParams(d: ModelDims, rng: Mulberry32): Params {
  const params = zeroParams(d);
  for (const spec of paramSpecs(d)) {
    const bound = 1 / Math.sqrt(spec.fanIn);
    const t = params[spec.name]!;
    for (let i = 0; i < t.length; i++) t[i] = (rng.next() * 2 - 1) * bound;
  }
  return params;
}

/** Rows to run through the model: sparse text rows and raw (unstandardised) features, row-major. */
export interface Batch {
  text: SparseTextRow[];
  features: ArrayLike<number>;
}

/** Everything the backward pass needs from a forward pass. */
export interface ForwardCache {
  rows: number;
  textNorm: Float64Array;
  textOut: Floats;
  featIn: Floats;
  featNorm: Float64Array;
  featOut: Floats;
  hidden: Floats;
  /** ReLU output times the dropout mask (the input of fc2). */
  headAct: Floats;
  mask: Floats | null;
  logits: Float64Array;
}

/**
 * Inverted dropout mask for `rows` x hidden_dim: 0 with probability p, else 1/(1-p).
 * Drawn row by row from `rng`, so the training stream is reproducible from the RNG state.
 */
export function dropoutMask(rows: number, hiddenDim: number, p: number, rng: Mulberry32): Float32Array {
  const mask = new Float32Array(rows * hiddenDim);
  const keep = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < p ? 0 : keep;
  return mask;
}

function l2Normalise(z: Floats, offset: number, n: number, out: Floats): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += z[offset + j]! * z[offset + j]!;
  const norm = Math.sqrt(s + NORM_EPSILON);
  for (let j = 0; j < n; j++) out[offset + j] = z[offset + j]! / norm;
  return norm;
}

export function forward(
  d: ModelDims,
  p: Params,
  scaling: FeatureScaling,
  batch: Batch,
  mask: Floats | null,
  alloc: (n: number) => Floats = (n) => new Float32Array(n),
): ForwardCache {
  const B = batch.text.length;
  const { textDim: T, featureCount: F, featureDim: D, hiddenDim: H } = d;
  const wt = p['text.weight']!, bt = p['text.bias']!;
  const wf = p['features.weight']!, bf = p['features.bias']!;
  const w1 = p['head.fc1.weight']!, b1 = p['head.fc1.bias']!;
  const w2 = p['head.fc2.weight']!, b2 = p['head.fc2.bias']!;

  const textPre = alloc(B * T), textOut = alloc(B * T), textNorm = new Float64Array(B);
  const featIn = alloc(B * F), featPre = alloc(B * D), featOut = alloc(B * D), featNorm = new Float64Array(B);
  const hidden = alloc(B * H), headAct = alloc(B * H), logits = new Float64Array(B);
  const acc = new Float64Array(Math.max(T, D, H));

  for (let b = 0; b < B; b++) {
    const { indices, values } = batch.text[b]!;
    for (let j = 0; j < T; j++) acc[j] = bt[j]!;
    for (let k = 0; k < indices.length; k++) {
      const v = values[k]!;
      const row = indices[k]! * T;
      for (let j = 0; j < T; j++) acc[j]! += v * wt[row + j]!;
    }
    for (let j = 0; j < T; j++) textPre[b * T + j] = acc[j]!;
    textNorm[b] = l2Normalise(textPre, b * T, T, textOut);

    for (let f = 0; f < F; f++) {
      featIn[b * F + f] = (batch.features[b * F + f]! - scaling.mean[f]!) / scaling.std[f]!;
    }
    for (let j = 0; j < D; j++) acc[j] = bf[j]!;
    for (let f = 0; f < F; f++) {
      const x = featIn[b * F + f]!;
      const row = f * D;
      for (let j = 0; j < D; j++) acc[j]! += x * wf[row + j]!;
    }
    for (let j = 0; j < D; j++) featPre[b * D + j] = acc[j]!;
    featNorm[b] = l2Normalise(featPre, b * D, D, featOut);

    for (let j = 0; j < H; j++) acc[j] = b1[j]!;
    for (let i = 0; i < T; i++) {
      const x = textOut[b * T + i]!;
      const row = i * H;
      for (let j = 0; j < H; j++) acc[j]! += x * w1[row + j]!;
    }
    for (let i = 0; i < D; i++) {
      const x = featOut[b * D + i]!;
      const row = (T + i) * H;
      for (let j = 0; j < H; j++) acc[j]! += x * w1[row + j]!;
    }
    let logit = b2[0]!;
    for (let j = 0; j < H; j++) {
      hidden[b * H + j] = acc[j]!;
      const h = hidden[b * H + j]!;
      const a = h > 0 ? h * (mask ? mask[b * H + j]! : 1) : 0;
      headAct[b * H + j] = a;
      logit += headAct[b * H + j]! * w2[j]!;
    }
    logits[b] = logit;
  }
  return { rows: B, textNorm, textOut, featIn, featNorm, featOut, hidden, headAct, mask, logits };
}

/**
 * Adds the gradient of the batch's summed row losses into `grads` and returns that sum: BCE(logit_b,
 * label_b), or with `soft` the soft-label loss of loss.ts `rowLoss` on the rows that have a soft label.
 * Summed, not averaged: the optimizer divides by the rows of the whole accumulated step.
 */
export function backward(
  d: ModelDims,
  p: Params,
  batch: Batch,
  cache: ForwardCache,
  labels: ArrayLike<number>,
  grads: Params,
  soft: SoftTargets | null = null,
): number {
  const { textDim: T, featureCount: F, featureDim: D, hiddenDim: H } = d;
  const w1 = p['head.fc1.weight']!, w2 = p['head.fc2.weight']!;
  const gwt = grads['text.weight']!, gbt = grads['text.bias']!;
  const gwf = grads['features.weight']!, gbf = grads['features.bias']!;
  const gw1 = grads['head.fc1.weight']!, gb1 = grads['head.fc1.bias']!;
  const gw2 = grads['head.fc2.weight']!, gb2 = grads['head.fc2.bias']!;
  const dh = new Float64Array(H);
  const dc = new Float64Array(T + D);
  let loss = 0;

  for (let b = 0; b < cache.rows; b++) {
    const logit = cache.logits[b]!;
    const label = labels[b]!;
    const out = soft ? rowLoss(logit, label, soft.teacherP[b]!, soft.loss) : hardRowLoss(logit, label);
    loss += out.loss;
    const dl = out.grad;

    gb2[0]! += dl;
    for (let j = 0; j < H; j++) {
      gw2[j]! += cache.headAct[b * H + j]! * dl;
      const h = cache.hidden[b * H + j]!;
      dh[j] = h > 0 ? w2[j]! * dl * (cache.mask ? cache.mask[b * H + j]! : 1) : 0;
      gb1[j]! += dh[j]!;
    }
    for (let i = 0; i < T + D; i++) {
      const x = i < T ? cache.textOut[b * T + i]! : cache.featOut[b * D + i - T]!;
      const row = i * H;
      let s = 0;
      for (let j = 0; j < H; j++) {
        gw1[row + j]! += x * dh[j]!;
        s += w1[row + j]! * dh[j]!;
      }
      dc[i] = s;
    }

    // d(z/|z|)/dz applied to dy: (dy - y (y.dy)) / |z|
    let dot = 0;
    for (let j = 0; j < T; j++) dot += cache.textOut[b * T + j]! * dc[j]!;
    const tn = cache.textNorm[b]!;
    for (let j = 0; j < T; j++) dc[j] = (dc[j]! - cache.textOut[b * T + j]! * dot) / tn;
    const { indices, values } = batch.text[b]!;
    for (let k = 0; k < indices.length; k++) {
      const v = values[k]!;
      const row = indices[k]! * T;
      for (let j = 0; j < T; j++) gwt[row + j]! += v * dc[j]!;
    }
    for (let j = 0; j < T; j++) gbt[j]! += dc[j]!;

    dot = 0;
    for (let j = 0; j < D; j++) dot += cache.featOut[b * D + j]! * dc[T + j]!;
    const fn = cache.featNorm[b]!;
    for (let j = 0; j < D; j++) dc[T + j] = (dc[T + j]! - cache.featOut[b * D + j]! * dot) / fn;
    for (let f = 0; f < F; f++) {
      const x = cache.featIn[b * F + f]!;
      const row = f * D;
      for (let j = 0; j < D; j++) gwf[row + j]! += x * dc[T + j]!;
    }
    for (let j = 0; j < D; j++) gbf[j]! += dc[T + j]!;
  }
  return loss;
}

/** p(model_a wins) per row, dropout off: the function the exported ONNX graph computes. */
export function predictProbabilities(d: ModelDims, p: Params, scaling: FeatureScaling, batch: Batch): Float64Array {
  const cache = forward(d, p, scaling, batch, null);
  return cache.logits.map(sigmoid);
}

export function modelDims(model: { text_hash_dim: number; text_dim: number; feature_dim: number; hidden_dim: number }, featureCount: number): ModelDims {
  return {
    textHashDim: model.text_hash_dim,
    textDim: model.text_dim,
    featureCount,
    featureDim: model.feature_dim,
    hiddenDim: model.hidden_dim,
  };
}
