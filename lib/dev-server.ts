import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ARENA_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { findTemporalCli } from './temporal-cli';

/** Options of the embedded Temporal dev server. */
export interface DevServerOptions {
  /** Folder of the server's database, log and pid file; runs survive restarts. Default: `.arena/temporal`. */
  stateDir?: string;
  /** gRPC port. Default: 7233. */
  port?: number;
  /** Web UI port. Default: 8233. */
  uiPort?: number;
}

export const DEFAULT_STATE_DIR = path.resolve(__dirname, '..', '.arena', 'temporal');

export function searchAttributeFlags(): string[] {
  return ARENA_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${key.type === 'DOUBLE' ? 'Double' : 'Keyword'}`]);
}

export function portIsOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts `temporal server start-dev` in the background with its database under `stateDir`, unless
 * a server already answers on the port. Returns whether it started one.
 */
export async function ensureDevServer(options: DevServerOptions = {}): Promise<{ started: boolean; uiUrl: string; logFile: string }> {
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const logFile = path.join(stateDir, 'server.log');
  const uiUrl = `http://localhost:${uiPort}`;
  if (await portIsOpen(port)) return { started: false, uiUrl, logFile };
  mkdirSync(stateDir, { recursive: true });
  const out = openSync(logFile, 'a');
  const args = ['server', 'start-dev', '--db-filename', path.join(stateDir, 'temporal.db'), '--port', String(port), '--ui-port', String(uiPort), '--ui-disable-news-fetch', ...searchAttributeFlags()];
  const child = spawn(findTemporalCli(), args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  writeFileSync(path.join(stateDir, 'server.pid'), String(child.pid));
  for (let waited = 0; waited < 60_000; waited += 250) {
    if (await portIsOpen(port)) return { started: true, uiUrl, logFile };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the Temporal dev server did not start on port ${port}; see ${logFile}`);
}

/** Stops a dev server that ensureDevServer started (SIGKILL: as a crash, for the fault campaign). */
export function stopDevServer(stateDir: string = DEFAULT_STATE_DIR, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  const pidFile = path.join(stateDir, 'server.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile);
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
