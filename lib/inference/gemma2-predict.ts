import { DuckDBInstance } from '@duckdb/node-api';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { UserInputError } from '../errors';
import { readSwapRules } from '../feature-columns';
import { buildFeatureSwap, swapFeatureRows, type FeatureSwap } from './feature-swap';
import { createTextEncoder, padBatch, type TextEncoder } from './gemma2-inputs';
import { readGemma2Model } from './gemma2-manifest';
import { loadTokenizer } from './gemma2-tokenizer';
import { appendProbabilities, openSession } from './onnx-session';
import type { PredictOptions, Predictions } from './predict';
import { readRowBatches } from './row-batches';

/**
 * Scores a table with the GPU trainer's ONNX export: token ids built in JS as the trainer builds them,
 * raw features (the graph standardises them), batch by batch from DuckDB. Swap TTA exchanges the
 * responses before tokenizing and the features by the swap rules.
 */
export async function predictGemma2(opts: PredictOptions): Promise<Predictions> {
  const model = readGemma2Model(opts.modelDir);
  const featureNames = model.manifest.feature_columns;
  let swapFeatures: FeatureSwap | undefined;
  if (opts.tta) {
    if (opts.featureColumnsFile === undefined) throw new UserInputError('predict: swap TTA needs the features stage\'s feature_columns.json');
    swapFeatures = buildFeatureSwap(featureNames, readSwapRules(opts.featureColumnsFile), opts.featureColumnsFile);
  }
  const encoder = createTextEncoder(model.manifest.text, loadTokenizer(model.tokenizerDir), model.manifestFile);

  const session = await openSession(model.modelFile, { input_ids: null, attention_mask: null, features: featureNames.length });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const ids: string[] = [];
    const pA: number[] = [];
    const pASwapped: number[] = [];
    const width = featureNames.length;
    const swappedFeatures = new Float32Array(opts.batchSize * width);
    for await (const batch of readRowBatches(connection, opts.table, featureNames, opts.batchSize)) {
      opts.signal?.throwIfAborted();
      const rows = batch.prompts.map((prompt, r) => encoder.encode(prompt, batch.responsesA[r]!, batch.responsesB[r]!));
      appendProbabilities(pA, await runBatch(session, encoder, rows, batch.features), batch.ids, model.modelFile);
      if (swapFeatures !== undefined) {
        opts.signal?.throwIfAborted();
        const swappedRows = batch.prompts.map((prompt, r) => encoder.encode(prompt, batch.responsesB[r]!, batch.responsesA[r]!));
        const swapped = await runBatch(session, encoder, swappedRows, swapFeatureRows(swapFeatures, batch.features, swappedFeatures, batch.size, width));
        appendProbabilities(pASwapped, swapped, batch.ids, model.modelFile);
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

async function runBatch(session: InferenceSession, encoder: TextEncoder, rows: number[][], features: Float32Array): Promise<Float32Array> {
  const padded = padBatch(rows, encoder.padTokenId, encoder.paddingSide);
  const shape = [padded.rows, padded.width];
  const outputs = await session.run({
    input_ids: new Tensor('int64', padded.inputIds, shape),
    attention_mask: new Tensor('int64', padded.attentionMask, shape),
    features: new Tensor('float32', features, [padded.rows, features.length / padded.rows]),
  });
  return outputs['p_a']!.data as Float32Array;
}
