import type { DuckDBConnection } from '@duckdb/node-api';
import { detectLanguage } from '../../lib/language-id';
import { TEXT_FIELDS } from './measure-texts';

/**
 * The head of a text that decides its label. CLD2 runs at about 1 MB/s on these machines; a
 * thousand characters settle a text's language and keep this step to seconds at 57,000 rows,
 * where whole responses (about 1.5 KB each, some 200 KB) would take minutes.
 */
export const LABEL_CHARS = 1000;

/** Texts labelled between two yields to the event loop, so that the stage's heartbeat keeps firing. */
const BATCH_TEXTS = 2048;

/**
 * `text_languages (row_idx, field, language)`: the WSDM-convention label (lib/language-id.ts) of
 * the first LABEL_CHARS characters of every text of `relation`, for language.sql and sentiment.sql.
 * The Kaggle package fills it with pycld2 under the same rules (arena_infer/language_id.py) and runs the same SQL.
 */
export async function labelTextLanguages(connection: DuckDBConnection, relation: string, rowNumber: string): Promise<void> {
  const reader = await connection.runAndReadAll(
    `SELECT ${rowNumber}::INTEGER, ${TEXT_FIELDS.map((field) => `left(${field}, ${LABEL_CHARS})`).join(', ')} FROM ${relation}`,
  );
  await connection.run('CREATE OR REPLACE TABLE text_languages (row_idx INTEGER, field VARCHAR, language VARCHAR)');
  const appender = await connection.createAppender('text_languages');
  try {
    let labelled = 0;
    for (const [rowIdx, ...texts] of reader.getRows()) {
      TEXT_FIELDS.forEach((field, i) => {
        appender.appendInteger(Number(rowIdx));
        appender.appendVarchar(field);
        appender.appendVarchar(detectLanguage(String(texts[i] ?? '')));
        appender.endRow();
      });
      labelled += TEXT_FIELDS.length;
      if (labelled % BATCH_TEXTS < TEXT_FIELDS.length) await new Promise((resolve) => setImmediate(resolve));
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
