import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DataConfig, DataSource } from './config/schema';
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
  train: DataSource[];
  test: DataSource | null;
  dataDir: string;
}

/** Where the run's data comes from, with paths made absolute. `ARENA_DATA_DIR` overrides `data.dir`. */
export function resolveDataFiles(data: DataConfig, repoRoot: string, env: NodeJS.ProcessEnv = process.env): DataFiles {
  const dataDir = path.resolve(repoRoot, env['ARENA_DATA_DIR'] || data.dir);
  const absolute = (source: DataSource): DataSource => ({ ...source, path: path.resolve(dataDir, source.path) });

  let train: DataSource[];
  if (data.train === 'auto') {
    train = CONVENTIONAL_TRAIN.map(absolute).filter((s) => existsSync(s.path));
  } else {
    train = data.train.map(absolute);
    train.forEach((s, i) => {
      if (!existsSync(s.path)) throw new UserInputError(`data.train[${i}].path: no file ${s.path}`);
    });
  }
  const synthetic = train.length === 0;

  let test: DataSource | null;
  if (data.test === 'auto') {
    test = CONVENTIONAL_TEST.map(absolute).find((s) => existsSync(s.path)) ?? null;
    if (!test && !synthetic) {
      throw new UserInputError(
        `data.test: no test file found under ${dataDir} (looked for ${CONVENTIONAL_TEST.map((s) => s.path).join(', ')}); put one there or set data.test`,
      );
    }
  } else {
    test = absolute(data.test);
    if (!existsSync(test.path)) throw new UserInputError(`data.test.path: no file ${test.path}`);
  }
  return { synthetic, train, test, dataDir };
}
