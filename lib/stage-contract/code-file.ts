import path from 'node:path';

/**
 * The one way code reaches a non-code file it ships with (a `.sql` template, a `.json` table, a
 * worker thread's module): `codeFile(__dirname, 'name.sql')`. The code version step finds these
 * calls in every module of a stage's closure and hashes the files they name, so both arguments
 * must be written literally as `__dirname` and a string; anything else fails the code version.
 */
export function codeFile(dir: string, name: string): string {
  return path.join(dir, name);
}

/** The helper's name as the closure step looks for it in source text. */
export const CODE_FILE_HELPER = 'codeFile';
