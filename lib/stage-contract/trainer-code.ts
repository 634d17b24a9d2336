import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TrainerEntry } from '../trainer-registry';
import { listFiles } from '../store/hash';

/** What a trainer runs: TS entry modules (their closure joins) and plain files hashed as they are. */
export interface TrainerCode {
  entries: string[];
  files: string[];
}

/**
 * The code of a registry entry's trainer process, from its `code` list: a `.ts` file joins by its
 * module closure (the CPU trainer), a folder by every file in it but Python bytecode, a file as it
 * is (the GPU trainer's package, launcher and pinned requirements). Paths are repo-relative, or
 * absolute for an operator's trainer outside the project.
 */
export function trainerCode(entry: TrainerEntry, repoRoot: string): TrainerCode {
  const code: TrainerCode = { entries: [], files: [] };
  for (const item of entry.code) {
    const abs = path.resolve(repoRoot, item);
    // A code path that is gone would silently drop out of every key: a worker misconfiguration.
    if (!existsSync(abs)) throw new Error(`trainer code path ${item} does not exist (trainer registry entry code)`);
    if (statSync(abs).isDirectory()) {
      for (const file of listFiles(abs)) if (!file.includes('__pycache__/') && !file.endsWith('.pyc')) code.files.push(`${item}/${file}`);
    } else if (item.endsWith('.ts')) code.entries.push(item);
    else code.files.push(item);
  }
  return code;
}
