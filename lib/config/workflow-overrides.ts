import { YamlError } from '../yaml-source';

/**
 * Keys a workflow input may not set: they name filesystem roots of the worker, or (the old
 * `trainer.command`) a program. Whoever can start a workflow chooses values inside what the
 * worker's operator set up, never where the worker reads from or what it runs.
 */
const WORKER_ONLY_KEYS: ReadonlyArray<{ path: readonly string[]; why: string }> = [
  { path: ['data', 'dir'], why: "names a filesystem root of the worker; set it in a config file or with the worker's ARENA_DATA_DIR" },
  { path: ['model', 'basemodel_path'], why: 'names a filesystem root of the worker; set it in a config file on the worker' },
  { path: ['trainer', 'command'], why: "a workflow input cannot name a program; choose one of the worker's trainers with trainer.engine" },
];

/** Refuses overrides from a workflow input that set a worker-only key, naming the key. */
export function checkWorkflowOverrides(configName: string, overrides: Record<string, unknown>): void {
  const found = WORKER_ONLY_KEYS.filter(({ path }) => hasOwnPath(overrides, path));
  if (found.length === 0) return;
  const lines = found.map(({ path, why }) => `(overrides): ${path.join('.')}: ${why}`);
  throw new YamlError('ConfigError', `invalid config '${configName}':\n${lines.join('\n')}`);
}

function hasOwnPath(value: unknown, path: readonly string[]): boolean {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}
