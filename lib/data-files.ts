import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DataConfig, DataSource } from './config/schema';
import { confinedPath, dataRoots } from './data-roots';
import { UserInputError } from './errors';

/** The competitions' files under the data dir when `data.train` / `data.test` are `auto`. */
const CONVENTIONAL_TRAIN: DataSource[] = [
  { format: 'wsdm', path: 'wsdm/train.parquet' },
  { format: 'lmsys', path: 'lmsys/train.csv' },
];
const CONVENTIONAL_TEST: DataSource[] = [
  { format: 'wsdm', path: 'wsdm/test.parquet' },
  { format: 'lmsys', path: 'lmsys/test.csv' },
];

export interface DataFiles {
  /** No real training file was found: the run generates its own, marked synthetic everywhere. */
  synthetic: boolean;
  /** Real paths (symlinks resolved), each inside the worker's data roots. */
  train: DataSource[];
  test: DataSource | null;
  dataDir: string;
}

/**
 * Where the run's data comes from. Relative paths start at `data.dir` (env `ARENA_DATA_DIR`
 * overrides it); every path, and the data dir, must lie inside the worker's data roots
 * (lib/data-roots.ts), checked before any file is opened or hashed.
 */
export function resolveDataFiles(data: DataConfig, repoRoot: string, env: NodeJS.ProcessEnv = process.env): DataFiles {
  const roots = dataRoots(repoRoot, env);
  const dataDir = confinedPath('data.dir', path.resolve(repoRoot, env['ARENA_DATA_DIR'] || data.dir), roots);
  const confined = (key: string, source: DataSource): DataSource => ({ ...source, path: confinedPath(key, path.resolve(dataDir, source.path), roots) });

  let train: DataSource[];
  if (data.train === 'auto') {
    train = CONVENTIONAL_TRAIN.map((s) => confined('data.dir', s)).filter((s) => existsSync(s.path));
  } else {
    train = data.train.map((s, i) => confined(`data.train[${i}].path`, s));
    train.forEach((s, i) => {
      if (!existsSync(s.path)) throw new UserInputError(`data.train[${i}].path: no file ${s.path}`);
    });
  }
  const synthetic = train.length === 0;

  let test: DataSource | null;
  if (data.test === 'auto') {
    test = CONVENTIONAL_TEST.map((s) => confined('data.dir', s)).find((s) => existsSync(s.path)) ?? null;
    if (!test && !synthetic) {
      throw new UserInputError(
        `data.test: no test file found under ${dataDir} (looked for ${CONVENTIONAL_TEST.map((s) => s.path).join(', ')}); put one there or set data.test`,
      );
    }
  } else {
    test = confined('data.test.path', data.test);
    if (!existsSync(test.path)) throw new UserInputError(`data.test.path: no file ${test.path}`);
  }
  return { synthetic, train, test, dataDir };
}
