import type { DuckDBConnection } from '@duckdb/node-api';
import { detectLanguage } from '../../lib/language-id';
import { TEXT_FIELDS } from './measure-texts';

/** Texts labelled between two yields to the event loop, so that the stage's heartbeat keeps firing. */
const BATCH_TEXTS = 2048;

/**
 * `text_languages (row_idx, field, language)`: the WSDM-convention label (lib/language-id.ts, the
 * one per-text step that is not SQL) of every text of `relation`, for language.sql and
 * sentiment.sql. A port runs the same SQL after filling this table with pycld2 under the same rules.
 */
export async function labelTextLanguages(connection: DuckDBConnection, relation: string, rowNumber: string): Promise<void> {
  const reader = await connection.runAndReadAll(`SELECT ${rowNumber}::INTEGER, ${TEXT_FIELDS.join(', ')} FROM ${relation}`);
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
