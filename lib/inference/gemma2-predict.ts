import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { createTextEncoder, padBatch, type TextEncoder } from './gemma2-inputs';
import { readGemma2Model } from './gemma2-manifest';
import { loadTokenizer } from './gemma2-tokenizer';
import { openSession } from './onnx-session';
import type { PredictOptions, Predictions } from './predict';
import { scoreTable } from './score-table';

/**
 * Scores a table with the GPU trainer's ONNX export: token ids built in JS as the trainer builds them,
 * raw features (the graph standardises them), batch by batch from DuckDB. Swap TTA exchanges the
 * responses before tokenizing and the features by the swap rules.
 */
export async function predictGemma2(opts: PredictOptions): Promise<Predictions> {
  const model = readGemma2Model(opts.modelDir);
  const featureNames = model.manifest.feature_columns;
  const encoder = createTextEncoder(model.manifest.text, loadTokenizer(model.tokenizerDir), model.manifestFile);
  const session = await openSession(model.modelFile, { input_ids: null, attention_mask: null, features: featureNames.length });
  try {
    return await scoreTable(opts, featureNames, model.modelFile, {
      score: (batch) =>
        runBatch(session, encoder, batch.prompts.map((prompt, r) => encoder.encode(prompt, batch.responsesA[r]!, batch.responsesB[r]!)), batch.features),
      scoreSwapped: (batch, features) =>
        runBatch(session, encoder, batch.prompts.map((prompt, r) => encoder.encode(prompt, batch.responsesB[r]!, batch.responsesA[r]!)), features),
    });
  } finally {
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
