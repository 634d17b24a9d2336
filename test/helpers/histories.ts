import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORY_DIR = path.resolve(__dirname, '..', 'histories');

/** With ARENA_SAVE_HISTORIES=1, keeps a finished run's history (the CLI's JSON form) for the replay tests. */
export async function saveHistoryIfAsked(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env['ARENA_SAVE_HISTORIES'] !== '1') return;
  mkdirSync(HISTORY_DIR, { recursive: true });
  writeFileSync(path.join(HISTORY_DIR, `${name}.json`), historyToJSON(await handle.fetchHistory()));
}
