import { withDuckDB } from '../duckdb';
import { UserInputError } from '../errors';
import { readSwapRules } from '../feature-columns';
import { buildFeatureSwap, swapFeatureRows, type FeatureSwap } from './feature-swap';
import { appendProbabilities } from './onnx-session';
import type { PredictOptions, Predictions } from './predict';
import { readRowBatches, type RowBatch } from './row-batches';

/** How one kind of model scores a batch of rows: as given, and with responses A and B exchanged. */
export interface BatchScorer {
  score(batch: RowBatch): Promise<Float32Array>;
  /** `features` are the batch's features already swapped by the features stage's rules. */
  scoreSwapped(batch: RowBatch, features: Float32Array): Promise<Float32Array>;
}

/**
 * Streams a table from DuckDB in batches through a model's scorer; with swap TTA every batch is
 * scored a second time with A and B exchanged. Probabilities come back in table order.
 */
export async function scoreTable(opts: PredictOptions, featureNames: readonly string[], modelFile: string, scorer: BatchScorer): Promise<Predictions> {
  let swapFeatures: FeatureSwap | undefined;
  if (opts.tta) {
    if (opts.featureColumnsFile === undefined) throw new UserInputError('predict: swap TTA needs the features stage\'s feature_columns.json');
    swapFeatures = buildFeatureSwap(featureNames, readSwapRules(opts.featureColumnsFile), opts.featureColumnsFile);
  }
  return withDuckDB(async (connection) => {
    const ids: string[] = [];
    const pA: number[] = [];
    const pASwapped: number[] = [];
    const swappedFeatures = new Float32Array(opts.batchSize * featureNames.length);
    for await (const batch of readRowBatches(connection, opts.table, featureNames, opts.batchSize)) {
      opts.signal?.throwIfAborted();
      appendProbabilities(pA, await scorer.score(batch), batch.ids, modelFile);
      if (swapFeatures !== undefined) {
        const features = swapFeatureRows(swapFeatures, batch.features, swappedFeatures, batch.size, featureNames.length);
        appendProbabilities(pASwapped, await scorer.scoreSwapped(batch, features), batch.ids, modelFile);
      }
      for (const id of batch.ids) ids.push(id);
      opts.onProgress?.(ids.length);
    }
    return { ids, pA: Float64Array.from(pA), ...(opts.tta ? { pASwapped: Float64Array.from(pASwapped) } : {}) };
  });
}
