import path from 'node:path';
import { fromSyntheticData } from '../synthetic';
import { defineStage } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { buildFeatures } from './build-features';

/** The engineered features of every text and pair, for the training table and the test table. */
export const featuresStage = defineStage({
  activity: 'features',
  source: sourceOf(__filename),
  config: ['features'],
  outputs: ['features.parquet', 'test_features.parquet', 'feature_columns.json'],
  async run(ctx) {
    const result = await buildFeatures({
      inputs: [
        { table: ctx.input('ingested.parquet'), output: path.join(ctx.outDir, 'features.parquet') },
        { table: ctx.input('test.parquet'), output: path.join(ctx.outDir, 'test_features.parquet') },
      ],
      similarity: ctx.config.features.similarity,
      sentiment: ctx.config.features.sentiment,
      featureColumnsFile: path.join(ctx.outDir, 'feature_columns.json'),
    });
    return {
      rows: result.rows,
      feature_columns: result.featureColumns.length,
      // Per table (train, test): rows with a sentiment score, i.e. a response in the lexicon's language.
      sentiment_scored_rows: result.sentimentScoredRows,
      synthetic: fromSyntheticData(ctx),
    };
  },
});
