import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { UserInputError } from '../errors';
import { hashTextVector, swapTextVector, TEXT_HASHING } from '../text-hashing';
import { readSwapRules } from '../feature-columns';
import { buildFeatureSwap, swapFeatureRows, type FeatureSwap } from './feature-swap';
import { MANIFEST_FILE, MODEL_FILE, readModelManifest } from './model-manifest';
import { appendProbabilities, openSession } from './onnx-session';
import type { PredictOptions, Predictions } from './predict';
import { readRowBatches, type RowBatch } from './row-batches';

/** Scores a table with a hashed-text model (the cpu trainer's export), one reused ONNX session, batch by batch. */
export async function predictHashedText(opts: PredictOptions): Promise<Predictions> {
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
  const session = await openSession(modelFile, { text: textWidth, features: featureNames.length });
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
      appendProbabilities(pA, await runBatch(session, text, textWidth, batch.features, batch.size), batch.ids, modelFile);
      if (swapFeatures !== undefined) {
        for (let r = 0; r < batch.size; r++) swapTextVector(text, hashDim, r * textWidth);
        const features = swapFeatureRows(swapFeatures, batch.features, swappedFeatures, batch.size, featureNames.length);
        const swapped = await runBatch(session, text, textWidth, features, batch.size);
        appendProbabilities(pASwapped, swapped, batch.ids, modelFile);
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

function fillText(text: Float32Array, batch: RowBatch, hashDim: number): void {
  for (let r = 0; r < batch.size; r++) {
    hashTextVector(batch.prompts[r]!, batch.responsesA[r]!, batch.responsesB[r]!, hashDim, text, r * 3 * hashDim);
  }
}

async function runBatch(session: InferenceSession, text: Float32Array, textWidth: number, features: Float32Array, n: number): Promise<Float32Array> {
  const outputs = await session.run({
    text: new Tensor('float32', text.subarray(0, n * textWidth), [n, textWidth]),
    features: new Tensor('float32', features, [n, features.length / n]),
  });
  return outputs['p_a']!.data as Float32Array;
}
