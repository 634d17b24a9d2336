import path from 'node:path';

/** The repo root this module sits in: stage definitions name their own file relative to it. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * A stage definition's own file (`__filename`) as the repo-relative entry of its code closure.
 * Kept apart from the closure machinery so that it does not join every stage's closure.
 */
export function sourceOf(file: string): string {
  return path.relative(REPO_ROOT, file).split(path.sep).join('/');
}
