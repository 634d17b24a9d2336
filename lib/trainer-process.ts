import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { SystemError, UserInputError } from './errors';

/** Relative Frobenius residual of a rank-r LoRA merge over the adapted modules (0 = exact), and how
 * many modules' AdamW moments were averaged (factors aligned to the shards' mean A) or reset. */
export interface MergeResidual {
  max: number;
  mean: number;
  modules: number;
  moments_averaged?: number;
  moments_reset?: number;
}

/** The validation of the checkpoint a `train` or `merge` wrote: the round's merged model. */
export interface ValidMetrics {
  step: number;
  epoch: number;
  valid_loss: number;
  valid_accuracy: number;
}

/** One line of a trainer's stdout, per docs/trainer-protocol.md. */
export type TrainerEvent =
  | { event: 'start'; step: number; total_steps?: number }
  | { event: 'progress'; step: number; epoch: number; loss: number; rows_per_s?: number; lr?: number }
  | { event: 'checkpoint'; step: number; path: string }
  | { event: 'metrics'; step: number; epoch: number; train_loss?: number; valid_loss?: number; valid_accuracy?: number }
  | {
      event: 'done';
      checkpoint?: string;
      model?: string;
      predictions?: string;
      step?: number;
      stopped_early?: boolean;
      finished?: boolean;
      merge_residual?: MergeResidual;
      valid_metrics?: ValidMetrics;
    }
  | { event: 'error'; kind: 'user' | 'oom' | 'preempted' | 'internal'; message: string };

const EVENT_NAMES = new Set(['start', 'progress', 'checkpoint', 'metrics', 'done', 'error']);

export class TrainerFailed extends Error {
  override readonly name = 'TrainerFailed';
}

export interface TrainerRun {
  /** The resolved argv (lib/trainer-registry.ts), never one from a config or workflow input. */
  command: string[];
  /** Worker environment variables passed through beyond the allowlist: the registry entry's `env`. */
  passEnv?: readonly string[];
  verb: 'train' | 'merge' | 'export' | 'predict';
  spec: Record<string, unknown>;
  /** Where the spec and the trainer's log (stderr and malformed lines) are written. */
  workDir: string;
  cwd: string;
  /** The device(s) this trainer owns: one per shard, all of a DDP launch's. */
  deviceIndex?: number | readonly number[];
  signal: AbortSignal;
  onEvent(event: TrainerEvent): void;
  /** Grace between SIGTERM and SIGKILL when the trainer is stopped. Default: 5000 ms. */
  killGraceMs?: number;
  /** Aborted when the worker is pre-empted: the trainer is asked to checkpoint now and stop. */
  preempt?: AbortSignal;
}

/**
 * What a trainer needs to run: the system's basics, the GPU runtime's settings, and the trainer
 * knobs of the project. Not the worker's credentials (AWS_*, TEMPORAL_*), nor the store's
 * location (ARENA_STORE, ARENA_STORE_URL): the worker mirrors checkpoints, so a trainer needs
 * only the folders its spec names.
 */
const ALLOWED_NAMES = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'ARENA_TRAINER_PYTHON', 'ARENA_TRAINER_BASE_PYTHON', 'ARENA_CACHE_DIR']);
const ALLOWED_PREFIXES = ['LC_', 'CUDA_', 'NVIDIA_'];

/** The trainer's environment: the allowlist and `passEnv` from `workerEnv`, and the device it owns. */
export function trainerEnvironment(workerEnv: NodeJS.ProcessEnv, passEnv: readonly string[], deviceIndex?: number | readonly number[]): NodeJS.ProcessEnv {
  const passed = new Set(passEnv);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(workerEnv)) {
    if (ALLOWED_NAMES.has(name) || passed.has(name) || ALLOWED_PREFIXES.some((prefix) => name.startsWith(prefix))) env[name] = value;
  }
  if (deviceIndex !== undefined) env['CUDA_VISIBLE_DEVICES'] = typeof deviceIndex === 'number' ? String(deviceIndex) : deviceIndex.join(',');
  return env;
}

/** The stdin line that asks a trainer to checkpoint at its current step and exit (docs/trainer-protocol.md). */
export const PREEMPT_MESSAGE = `${JSON.stringify({ command: 'preempt' })}\n`;
/** Exit status of a trainer that stopped on PREEMPT_MESSAGE. */
export const EXIT_PREEMPTED = 4;

/** Parses one stdout line; returns a reason instead when it is not a protocol event. */
export function parseTrainerEvent(line: string): TrainerEvent | { malformed: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { malformed: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { malformed: 'not a JSON object' };
  const name = (value as { event?: unknown }).event;
  if (typeof name !== 'string' || !EVENT_NAMES.has(name)) return { malformed: `unknown event ${JSON.stringify(name)}` };
  return value as TrainerEvent;
}

/**
 * Runs a trainer process to completion in its own process group, streaming its events. The group
 * is killed when `signal` aborts. Failures are classified: user errors are not retried, pre-emption
 * and OOM are system errors with their own retry budget.
 */
export async function runTrainer(run: TrainerRun): Promise<TrainerEvent & { event: 'done' }> {
  mkdirSync(run.workDir, { recursive: true });
  const specFile = path.join(run.workDir, `${run.verb}-spec.json`);
  writeFileSync(specFile, JSON.stringify(run.spec, null, 2));
  const log = createWriteStream(path.join(run.workDir, 'trainer.log'), { flags: 'a' });
  const [program, ...args] = run.command;
  const env = trainerEnvironment(process.env, run.passEnv ?? [], run.deviceIndex);
  const child = spawn(program!, [...args, run.verb, '--spec', specFile], { cwd: run.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });

  let done: (TrainerEvent & { event: 'done' }) | undefined;
  let reported: (TrainerEvent & { event: 'error' }) | undefined;
  let stoppedByUs = false;
  const stop = () => {
    stoppedByUs = true;
    killGroup(child.pid, 'SIGTERM');
    setTimeout(() => killGroup(child.pid, 'SIGKILL'), run.killGraceMs ?? 5000).unref();
  };
  if (run.signal.aborted) stop();
  run.signal.addEventListener('abort', stop, { once: true });
  // A trainer that already exited has closed its stdin: nothing to ask, and the write error is moot.
  child.stdin!.on('error', () => undefined);
  const requestCheckpoint = () => child.stdin!.write(PREEMPT_MESSAGE);
  if (run.preempt?.aborted) requestCheckpoint();
  run.preempt?.addEventListener('abort', requestCheckpoint, { once: true });

  child.stderr!.pipe(log, { end: false });
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    const parsed = parseTrainerEvent(line);
    if ('malformed' in parsed) {
      log.write(`[arena] ignored a malformed event line (${parsed.malformed}): ${line.slice(0, 500)}\n`);
      return;
    }
    if (parsed.event === 'done') done = parsed;
    if (parsed.event === 'error') reported = parsed;
    run.onEvent(parsed);
  });

  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const { code, signal } = await Promise.race([exit, spawnError]).finally(async () => {
    run.signal.removeEventListener('abort', stop);
    run.preempt?.removeEventListener('abort', requestCheckpoint);
    // The caller moves workDir (into the cache or failed/) as soon as this returns: the log must be
    // on disk by then, or a trainer that fails in its first second leaves an empty log.
    log.end();
    await finished(log);
  });

  if (code === 0 && done) return done;
  const why = reported ? reported.message : `exit ${code ?? signal}`;
  const where = `trainer ${run.verb} (log: ${path.join(run.workDir, 'trainer.log')})`;
  if (stoppedByUs && run.signal.aborted) throw run.signal.reason instanceof Error ? run.signal.reason : new Error(`${where}: cancelled`);
  if (code === 2 || reported?.kind === 'user') throw new UserInputError(`${where} rejected its input: ${why}`);
  if (code === 3 || reported?.kind === 'oom') throw new SystemError('OutOfMemory', `${where} ran out of memory: ${why}`);
  if (code === EXIT_PREEMPTED || reported?.kind === 'preempted') throw new SystemError('Preempted', `${where} checkpointed and stopped: ${why}`);
  if (signal === 'SIGTERM' || signal === 'SIGKILL') throw new SystemError('Preempted', `${where} was killed (${signal ?? why})`);
  throw new TrainerFailed(`${where} failed: ${why}`);
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
