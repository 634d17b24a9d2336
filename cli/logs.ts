import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LOG_DIR, type StageResult } from '../lib/stage';
import { listFiles } from '../lib/store/hash';

/** Text files are printed whole; anything else (a parquet table kept for a look) by name and size. */
const TEXT = /\.(log|json|txt|csv|md)$/;

/** The side-folder logs of a stage's entries (its sub-steps' for the train stage), as printable text. */
export function stageLogs(storeRoot: string, results: StageResult[]): string {
  const out: string[] = [];
  for (const result of results) {
    const dir = path.join(storeRoot, ...result.ref.split('/'), LOG_DIR);
    const files = existsSync(dir) ? listFiles(dir) : [];
    out.push(`== ${result.stage} (${result.cacheHit ? 'cache hit of ' : ''}${result.ref}): ${files.length === 0 ? 'no logs' : `${dir}`}`);
    for (const file of files) {
      const abs = path.join(dir, file);
      if (TEXT.test(file)) out.push(`--- ${file}`, readFileSync(abs, 'utf8').trimEnd());
      else out.push(`--- ${file} (${statSync(abs).size} bytes)`);
    }
  }
  return out.join('\n');
}
