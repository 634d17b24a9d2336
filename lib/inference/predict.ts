import { UserInputError } from '../errors';
import { predictGemma2 } from './gemma2-predict';
import { predictHashedText } from './hashed-text-predict';
import { GEMMA2_KIND, readModelHeader } from './model-manifest';

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

/** Scores a table with an exported ONNX model, choosing the input builder by model.json `kind`. */
export async function predict(opts: PredictOptions): Promise<Predictions> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserInputError(`predict: batch size must be a positive integer, got ${opts.batchSize}`);
  return readModelHeader(opts.modelDir).kind === GEMMA2_KIND ? predictGemma2(opts) : predictHashedText(opts);
}
