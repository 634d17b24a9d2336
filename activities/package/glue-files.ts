import { readdirSync } from 'node:fs';
import path from 'node:path';
import { codeFile } from '../../lib/stage-contract/code-file';

/**
 * The package's own Python (arena_infer): only glue around the trainer's modules and the feature
 * SQL, which are copied from their sources at package time. Listed one by one through `codeFile`
 * so that they enter the package stage's code version.
 */
export const GLUE_FILES = [
  codeFile(__dirname, 'arena_infer/__init__.py'),
  codeFile(__dirname, 'arena_infer/__main__.py'),
  codeFile(__dirname, 'arena_infer/errors.py'),
  codeFile(__dirname, 'arena_infer/features.py'),
  codeFile(__dirname, 'arena_infer/integrity.py'),
  codeFile(__dirname, 'arena_infer/language_id.py'),
  codeFile(__dirname, 'arena_infer/predict.py'),
  codeFile(__dirname, 'arena_infer/scoring.py'),
  codeFile(__dirname, 'arena_infer/submission.py'),
  codeFile(__dirname, 'arena_infer/text_counts.py'),
];

/** The notebook's pinned Python requirements (what scripts/setup-notebook-env.sh installs). */
export const NOTEBOOK_REQUIREMENTS = codeFile(__dirname, 'notebook-requirements.txt');

/** Fails when arena_infer/ holds a module that is not listed above: it would ship outside the code version. */
export function checkGlueListed(): void {
  const dir = path.dirname(GLUE_FILES[0]!);
  const unlisted = readdirSync(dir).filter((name) => name.endsWith('.py') && !GLUE_FILES.includes(path.join(dir, name)));
  if (unlisted.length > 0) throw new Error(`activities/package/glue-files.ts: list ${unlisted.join(', ')} in GLUE_FILES`);
}
