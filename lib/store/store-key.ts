import { UserInputError } from '../errors';

/**
 * One rule for every reference into a store, local folder or bucket: a relative '/'-separated
 * path whose segments are plain names. References come from workflow history and heartbeat
 * details, which whoever can start or signal a run can shape; a reference that could climb out
 * of the store (`..`, an absolute path, a Windows separator) or hide a different name (NUL, empty
 * or `.` segments) is refused, never resolved.
 */
export function checkStoreKey(key: string, what: string): string {
  if (typeof key !== 'string' || key === '' || key.startsWith('/') || key.includes('\\') || key.includes('\0') || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new UserInputError(`${what} ${JSON.stringify(key)} must be a relative '/'-separated path without empty, '.' or '..' segments, backslashes or NUL`);
  }
  return key;
}

/**
 * The folder of a stage id in the store: the id with the '=' of an instance id (`teacher[fold=2]`)
 * written `%3D`. DuckDB reads a `name=value` folder on a parquet file's path as a hive partition
 * and would add a column for it to every table read from an instance's output.
 */
export function stageFolder(stageId: string): string {
  return checkStoreKey(stageId, 'stage id').replaceAll('=', '%3D');
}

/** The stage id of a store folder (see `stageFolder`). */
export function stageIdOfFolder(folder: string): string {
  return folder.replaceAll('%3D', '=');
}
