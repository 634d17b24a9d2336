/**
 * Error kinds that decide how a failed stage is retried (the Metaflow split):
 * a user error is never retried, a system error draws on its own retry budget.
 */

/** Bad input or config: retrying cannot help. The message names the file and the row, column or key. */
export class UserInputError extends Error {
  override readonly name = 'UserInputError';
}

/** The machine, not the code, failed: pre-emption, out of memory, a lost worker. */
export class SystemError extends Error {
  override readonly name: 'Preempted' | 'OutOfMemory' | 'WorkerLost';
  constructor(kind: 'Preempted' | 'OutOfMemory' | 'WorkerLost', message: string) {
    super(message);
    this.name = kind;
  }
}

/** Ids for an error message, each quoted: `"p10", "p20"` (a query's list of the first few). */
export function quotedIds(ids: unknown): string {
  return (ids as string[]).map((id) => JSON.stringify(id)).join(', ');
}

export const USER_ERROR_TYPES = ['UserInputError', 'ConfigError', 'PipelineError'] as const;
export const SYSTEM_ERROR_TYPES = ['Preempted', 'OutOfMemory', 'WorkerLost'] as const;
