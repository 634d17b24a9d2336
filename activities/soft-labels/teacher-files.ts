import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../lib/config/schema';
import { confinedPath, dataRoots } from '../../lib/data-roots';
import { UserInputError } from '../../lib/errors';

/** One teacher of `distill.teachers`: the key that names it, and its file's real path when imported. */
export interface Teacher {
  key: string;
  name: string;
  weight: number;
  /** The imported file, inside the worker's data roots; undefined for the pipeline's own (oof) teachers. */
  file?: string;
}

/**
 * The teachers with their files resolved as ingest resolves data files: relative to `data.dir`
 * (or ARENA_DATA_DIR), confined to the worker's data roots, literal names, symlinks resolved.
 */
export function resolveTeachers(config: Pick<RunConfig, 'data' | 'distill'>, repoRoot: string, env: NodeJS.ProcessEnv = process.env): Teacher[] {
  const roots = dataRoots(repoRoot, env);
  const dataDir = () => confinedPath('data.dir', path.resolve(repoRoot, env['ARENA_DATA_DIR'] || config.data.dir), roots);
  return config.distill.teachers.map((teacher, i) => {
    const key = `distill.teachers[${i}]`;
    if (teacher.file === undefined) return { key, name: teacher.name, weight: teacher.weight };
    const file = confinedPath(`${key}.file`, path.resolve(dataDir(), teacher.file), roots);
    if (!existsSync(file)) throw new UserInputError(`${key}.file: no file ${file}`);
    if (!/\.(csv|parquet)$/i.test(file)) throw new UserInputError(`${key}.file: '${teacher.file}' is neither a .csv nor a .parquet file`);
    return { key, name: teacher.name, weight: teacher.weight, file };
  });
}
