import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { UserInputError } from '../errors';
import { hashTextVector, swapTextVector, TEXT_HASHING } from '../text-hashing';
import { MANIFEST_FILE, MODEL_FILE, readModelManifest } from './model-manifest';
import { openSession } from './onnx-session';
import type { PredictOptions, Predictions } from './predict';
import type { RowBatch } from './row-batches';
import { scoreTable } from './score-table';

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
  const modelFile = path.join(opts.modelDir, MODEL_FILE);
  const session = await openSession(modelFile, { text: textWidth, features: featureNames.length });
  const text = new Float32Array(opts.batchSize * textWidth);
  try {
    return await scoreTable(opts, featureNames, modelFile, {
      score: (batch) => {
        fillText(text, batch, hashDim);
        return runBatch(session, text, textWidth, batch.features, batch.size);
      },
      // Called right after score() on the same batch: the hashed texts are swapped in place.
      scoreSwapped: (batch, features) => {
        for (let r = 0; r < batch.size; r++) swapTextVector(text, hashDim, r * textWidth);
        return runBatch(session, text, textWidth, features, batch.size);
      },
    });
  } finally {
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
