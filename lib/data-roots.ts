import fs from 'node:fs';
import path from 'node:path';
import { UserInputError } from './errors';

/**
 * The folders a worker reads run data from. A run's config comes from a workflow input, which
 * anyone who can start a workflow writes; so which files it may name is the worker's setting,
 * never the run's: `ARENA_DATA_DIR`, `data/raw` in the project, and the operator's
 * `ARENA_DATA_ROOTS` (folders separated by the platform's path delimiter, `:` on Linux).
 */
export function dataRoots(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [path.join(repoRoot, 'data', 'raw')];
  if (env['ARENA_DATA_DIR']) roots.push(path.resolve(repoRoot, env['ARENA_DATA_DIR']));
  for (const root of (env['ARENA_DATA_ROOTS'] ?? '').split(path.delimiter)) {
    if (root.trim() !== '') roots.push(path.resolve(repoRoot, root.trim()));
  }
  return roots.map(realPath);
}

/** The path with every symlink resolved; for a path that does not exist yet, its deepest existing folder is resolved. */
export function realPath(file: string): string {
  const absolute = path.resolve(file);
  try {
    return fs.realpathSync(absolute);
  } catch {
    const parent = path.dirname(absolute);
    return parent === absolute ? absolute : path.join(realPath(parent), path.basename(absolute));
  }
}

function isInside(file: string, root: string): boolean {
  const relative = path.relative(root, file);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
}

/** DuckDB's readers expand these in a path (`*`, `**`, `?`, `[…]`, `{…}`); a data path is always literal. */
const GLOB_CHARACTER = /[*?[\]{}]/;

/**
 * The real path of `file`, which must lie inside one of `roots` (symlinks resolved, so a link
 * inside a root cannot lead out of it) and hold no glob character. `key` names the config key
 * that gave the path. Errors name the key and the path as given, never what the file holds.
 */
export function confinedPath(key: string, file: string, roots: readonly string[]): string {
  const glob = GLOB_CHARACTER.exec(file);
  if (glob) throw new UserInputError(`${key}: '${file}' holds the glob character '${glob[0]}'; data paths are literal file names`);
  const real = realPath(file);
  if (!roots.some((root) => isInside(real, root))) {
    throw new UserInputError(
      `${key}: '${file}' is outside the worker's data roots (${roots.join(', ')}); an operator can add a folder with ARENA_DATA_ROOTS on the worker`,
    );
  }
  const realGlob = GLOB_CHARACTER.exec(real);
  if (realGlob) throw new UserInputError(`${key}: '${file}' resolves to a path with the glob character '${realGlob[0]}'; data paths are literal file names`);
  return real;
}
