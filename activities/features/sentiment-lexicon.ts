import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Loads the `sentiment` npm package's English lexicon (AFINN-165, 3,382 words scored -5..5) and
 * its negators into `sentiment_lexicon(word, score)` and `sentiment_negators(word)`, which
 * sentiment.sql scores with. AFINN because it is the maintained, installed lexicon scorer with a
 * documented algorithm that ports to SQL line for line; it is English-only, so most non-English
 * responses score 0.
 */
export async function loadSentimentLexicon(connection: DuckDBConnection): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const labels = require('sentiment/languages/en/labels.json') as Record<string, number>;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const negators = require('sentiment/languages/en/negators.json') as Record<string, number>;
  await connection.run('CREATE OR REPLACE TABLE sentiment_lexicon (word VARCHAR PRIMARY KEY, score INTEGER NOT NULL)');
  await connection.run('CREATE OR REPLACE TABLE sentiment_negators (word VARCHAR PRIMARY KEY)');
  const lexicon = await connection.createAppender('sentiment_lexicon');
  for (const [word, score] of Object.entries(labels)) {
    lexicon.appendVarchar(word);
    lexicon.appendInteger(score);
    lexicon.endRow();
  }
  lexicon.closeSync();
  const negatorTable = await connection.createAppender('sentiment_negators');
  for (const word of Object.keys(negators)) {
    negatorTable.appendVarchar(word);
    negatorTable.endRow();
  }
  negatorTable.closeSync();
}
