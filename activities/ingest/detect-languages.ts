import type { DuckDBConnection } from '@duckdb/node-api';
import { ident, loadSql } from '../../lib/duckdb';
import { detectLanguage } from '../../lib/language-id';
import { codeFile } from '../../lib/stage-contract/code-file';

/** Rows detected between two yields to the event loop, so that a stage's heartbeat keeps firing. */
const BATCH_ROWS = 2048;

/**
 * Labels the rows of `staged` or `staged_test` whose source gave no language (LMSYS, a test file
 * without the column) the way WSDM's were labelled: lib/language-id.ts on the first user turn.
 * Returns how many rows it labelled.
 */
export async function detectMissingLanguages(connection: DuckDBConnection, target: 'staged' | 'staged_test'): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT src_idx, row_no, first_turn FROM ${ident(target).text} WHERE language IS NULL`);
  const rows = reader.getRows();
  await connection.run('CREATE OR REPLACE TEMP TABLE detected_language (src_idx INTEGER, row_no BIGINT, language VARCHAR)');
  const appender = await connection.createAppender('detected_language');
  try {
    for (let i = 0; i < rows.length; i++) {
      const [srcIdx, rowNo, firstTurn] = rows[i]!;
      appender.appendInteger(Number(srcIdx));
      appender.appendBigInt(BigInt(rowNo as bigint));
      appender.appendVarchar(detectLanguage(String(firstTurn ?? '')));
      appender.endRow();
      if ((i + 1) % BATCH_ROWS === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await connection.run(loadSql(codeFile(__dirname, 'detect-languages.sql'), { target: ident(target) }));
  return rows.length;
}
