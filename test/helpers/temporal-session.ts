import type { ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { removeDir, spawnWorkerProcess, startTemporal, startWorkers, tempDir, type RunningWorkers } from './temporal';

type WorkerOptions = Parameters<typeof startWorkers>[1];
type WorkerProcessSettings = Parameters<typeof spawnWorkerProcess>[1];

/**
 * A Temporal dev server and everything started on it (workers, worker processes, temporary folders),
 * ended together by `stop` however far a test got: worker processes killed, workers stopped, the
 * server torn down, the folders removed.
 */
export class TemporalSession {
  #env: TestWorkflowEnvironment | undefined;
  readonly #children: ChildProcess[] = [];
  readonly #workers: RunningWorkers[] = [];
  readonly #dirs: string[] = [];

  get env(): TestWorkflowEnvironment {
    if (this.#env === undefined) throw new Error('the Temporal session has not started');
    return this.#env;
  }

  async start(): Promise<void> {
    this.#env = await startTemporal();
  }

  /** A temporary folder, removed when the session stops; it may be made before the server starts. */
  tempDir(prefix: string): string {
    const dir = tempDir(prefix);
    this.#dirs.push(dir);
    return dir;
  }

  /** Workers in this process (see startWorkers); a test may stop them earlier itself. */
  async startWorkers(options: WorkerOptions): Promise<RunningWorkers> {
    const workers = await startWorkers(this.env, options);
    this.#workers.push(workers);
    return workers;
  }

  /** A worker in a child process of its own (see spawnWorkerProcess); a test may kill it earlier itself. */
  spawnWorker(settings: WorkerProcessSettings): ChildProcess {
    const child = spawnWorkerProcess(this.env, settings);
    this.#children.push(child);
    return child;
  }

  async stop(): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL');
    for (const workers of this.#workers) await workers.stop();
    await this.#env?.teardown();
    for (const dir of this.#dirs) removeDir(dir);
  }
}

/** The session of the enclosing `describe`: started by a `before` hook, stopped by an `after` hook (both registered here). */
export function temporalSuite(): TemporalSession {
  const session = new TemporalSession();
  before(() => session.start());
  after(() => session.stop());
  return session;
}

export interface WorkersSuite extends TemporalSession {
  readonly store: string;
  readonly taskQueue: string;
}

/**
 * A suite whose tests share one store and the in-process workers on `taskQueue` (started in a `before`
 * hook after the server's). Hooks registered before this call (building a model the workers' configs
 * name, say) run before the server starts.
 */
export function workersSuite(options: Omit<WorkerOptions, 'storeDir'>): WorkersSuite {
  const session = temporalSuite();
  const store = session.tempDir(`${options.taskQueue}-store`);
  before(() => session.startWorkers({ ...options, storeDir: store }));
  return Object.assign(session, { store, taskQueue: options.taskQueue });
}
