import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { UserInputError } from '../errors';
import { hashTextVector, swapTextVector, TEXT_HASHING } from '../text-hashing';
import { buildFeatureSwap, readSwapRules, type FeatureSwap } from './feature-swap';
import { MANIFEST_FILE, MODEL_FILE, readModelManifest } from './model-manifest';
import { readRowBatches, type RowBatch } from './row-batches';

export interface PredictOptions {
  modelDir: string;
  /** Parquet with id, prompt, response_a, response_b and the model's feature columns. */
  table: string;
  batchSize: number;
  /** Also score every row with A and B exchanged (needs `featureColumnsFile`). */
  tta: boolean;
  /** The features stage's `feature_columns.json`: how each feature changes under the swap. */
  featureColumnsFile?: string;
  /** Called after each batch, e.g. to heartbeat. */
  onProgress?: (rowsDone: number) => void;
  signal?: AbortSignal;
}

export interface Predictions {
  ids: string[];
  /** p(model_a wins) for each row, in table order. */
  pA: Float64Array;
  /** The model's p(first response wins) with the responses exchanged; present when `tta`. */
  pASwapped?: Float64Array;
}

/** Scores a table with an exported model, one reused ONNX session, batch by batch. */
export async function predict(opts: PredictOptions): Promise<Predictions> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserInputError(`predict: batch size must be a positive integer, got ${opts.batchSize}`);
  const manifest = readModelManifest(opts.modelDir);
  if (manifest.text_hashing.scheme !== TEXT_HASHING.scheme) {
    throw new UserInputError(
      `${path.join(opts.modelDir, MANIFEST_FILE)}: key text_hashing.scheme is ${JSON.stringify(manifest.text_hashing.scheme)}, ` +
        `but this code builds "${TEXT_HASHING.scheme}" text vectors`,
    );
  }
  const featureNames = manifest.feature_columns;
  const hashDim = manifest.text_hashing.text_hash_dim;
  const textWidth = 3 * hashDim;
  let swapFeatures: FeatureSwap | undefined;
  if (opts.tta) {
    if (opts.featureColumnsFile === undefined) throw new UserInputError('predict: swap TTA needs the features stage\'s feature_columns.json');
    swapFeatures = buildFeatureSwap(featureNames, readSwapRules(opts.featureColumnsFile), opts.featureColumnsFile);
  }

  const modelFile = path.join(opts.modelDir, MODEL_FILE);
  const session = await openSession(modelFile, textWidth, featureNames.length);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const ids: string[] = [];
    const pA: number[] = [];
    const pASwapped: number[] = [];
    const text = new Float32Array(opts.batchSize * textWidth);
    const swappedFeatures = new Float32Array(opts.batchSize * featureNames.length);
    for await (const batch of readRowBatches(connection, opts.table, featureNames, opts.batchSize)) {
      opts.signal?.throwIfAborted();
      fillText(text, batch, hashDim);
      appendProbabilities(pA, await runBatch(session, text, textWidth, batch.features, batch, modelFile), batch, modelFile);
      if (swapFeatures !== undefined) {
        for (let r = 0; r < batch.size; r++) swapTextVector(text, hashDim, r * textWidth);
        const width = featureNames.length;
        for (let r = 0; r < batch.size; r++) {
          swapFeatures(batch.features.subarray(r * width, (r + 1) * width), swappedFeatures.subarray(r * width, (r + 1) * width));
        }
        const swapped = await runBatch(session, text, textWidth, swappedFeatures.subarray(0, batch.size * width), batch, modelFile);
        appendProbabilities(pASwapped, swapped, batch, modelFile);
      }
      for (const id of batch.ids) ids.push(id);
      opts.onProgress?.(ids.length);
    }
    return { ids, pA: Float64Array.from(pA), ...(opts.tta ? { pASwapped: Float64Array.from(pASwapped) } : {}) };
  } finally {
    connection.closeSync();
    instance.closeSync();
    await session.release();
  }
}

/**
 * ORT's worker threads busy-wait after each run by default; between runs the main thread is hashing
 * the next batch, and on a small machine the spinning steals its core (2-4x slower at batch 64).
 */
const SESSION_OPTIONS: InferenceSession.SessionOptions = { extra: { session: { intra_op: { allow_spinning: '0' } } } };

async function openSession(modelFile: string, textWidth: number, featureCount: number): Promise<InferenceSession> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(modelFile, SESSION_OPTIONS);
  } catch (err) {
    throw new UserInputError(`${modelFile}: cannot load as an ONNX model (${(err as Error).message})`);
  }
  const expected: Record<string, number> = { text: textWidth, features: featureCount };
  for (const [name, width] of Object.entries(expected)) {
    const input = session.inputMetadata.find((meta) => meta.name === name);
    if (input === undefined) throw new UserInputError(`${modelFile}: no input named "${name}" (inputs: ${session.inputNames.join(', ')})`);
    const declared = input.isTensor ? input.shape[1] : undefined;
    if (typeof declared === 'number' && declared !== width) {
      throw new UserInputError(`${modelFile}: input "${name}" has width ${declared}, but model.json implies ${width}`);
    }
  }
  if (!session.outputNames.includes('p_a')) throw new UserInputError(`${modelFile}: no output named "p_a" (outputs: ${session.outputNames.join(', ')})`);
  return session;
}

function fillText(text: Float32Array, batch: RowBatch, hashDim: number): void {
  for (let r = 0; r < batch.size; r++) {
    hashTextVector(batch.prompts[r]!, batch.responsesA[r]!, batch.responsesB[r]!, hashDim, text, r * 3 * hashDim);
  }
}

async function runBatch(
  session: InferenceSession,
  text: Float32Array,
  textWidth: number,
  features: Float32Array,
  batch: RowBatch,
  modelFile: string,
): Promise<Float32Array> {
  const n = batch.size;
  const outputs = await session.run({
    text: new Tensor('float32', text.subarray(0, n * textWidth), [n, textWidth]),
    features: new Tensor('float32', features, [n, features.length / n]),
  });
  const p = outputs['p_a']!.data as Float32Array;
  if (p.length !== n) throw new UserInputError(`${modelFile}: output "p_a" has ${p.length} values for a batch of ${n} rows`);
  return p;
}

function appendProbabilities(into: number[], p: Float32Array, batch: RowBatch, modelFile: string): void {
  for (let r = 0; r < batch.size; r++) {
    const value = p[r]!;
    if (!(value >= 0 && value <= 1)) throw new UserInputError(`${modelFile}: output p_a is ${value} for row id "${batch.ids[r]}", not a probability`);
    into.push(value);
  }
}
