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
