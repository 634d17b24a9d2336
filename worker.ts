import os from 'node:os';
import path from 'node:path';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, GPU_ACTIVITIES, type Activities } from './activities';
import { DevicePool } from './activities/train/device-pool';
import { connectWorker } from './lib/temporal-connection';
import { objectStoreFromEnv, type ObjectStore } from './lib/store/object-store';
import { orphans, removeItems } from './lib/store/gc';
import { RunStore } from './lib/store/run-store';
import { loadTrainerRegistry, type TrainerRegistry } from './lib/trainer-registry';
import { Preemption, shutdownGraceMs } from './lib/preemption';

export const REPO_ROOT = __dirname;

/** Options of the worker process. */
export interface ArenaWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The workflows' task queue; the train shards are served on `<taskQueue>-gpu`. */
  taskQueue: string;
  /** Run store folder. Default: env ARENA_STORE, else `.arena/store` in the project. */
  storeDir?: string;
  /** Mirror of the run store that workers on other machines share. Default: from env ARENA_STORE_URL (s3://bucket/prefix); null for none. */
  remoteStore?: ObjectStore | null;
  /** Devices this process owns, one concurrent train shard each. Default: env ARENA_DEVICES, else 2. */
  devices?: number;
  /** Which queues to serve: `all` (default), `main` (workflows and CPU stages) or `gpu` (train shards only, for GPU pods). */
  role?: 'all' | 'main' | 'gpu';
  /** A prebuilt workflow bundle (tests build it once); default: bundle `workflows/` at start. */
  workflowBundle?: WorkflowBundleOption;
  /** Pre-emption of this worker process (SIGTERM handling, see `main`). Default: none, never pre-empted. */
  preemption?: Preemption;
  /** Replaces activities, e.g. a test's failing stage. Default: none. */
  activityOverrides?: Partial<Activities>;
  configDir?: string;
  pipelineDir?: string;
  /** The trainers this worker runs. Default: the built-in ones plus the file named by env ARENA_TRAINERS. */
  trainers?: TrainerRegistry;
}

export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env['ARENA_STORE'] || path.join(REPO_ROOT, '.arena', 'store'));
}

export function validateWorkerOptions(options: Pick<ArenaWorkerOptions, 'devices' | 'role' | 'taskQueue'>): void {
  if (options.devices !== undefined && (!Number.isInteger(options.devices) || options.devices < 1)) {
    throw new TypeError(`devices: expected a positive integer, got ${options.devices}`);
  }
  if (options.role !== undefined && !['all', 'main', 'gpu'].includes(options.role)) {
    throw new TypeError(`role: expected 'all', 'main' or 'gpu', got '${options.role}'`);
  }
  if (!options.taskQueue) throw new TypeError('taskQueue: expected a non-empty name');
}

/** Creates the Temporal workers of one process: the main queue and the GPU queue, as `role` says. */
export async function createWorkers(options: ArenaWorkerOptions): Promise<Worker[]> {
  validateWorkerOptions(options);
  const devices = options.devices ?? Number(process.env['ARENA_DEVICES'] || 2);
  const role = options.role ?? 'all';
  const store = new RunStore(options.storeDir ?? defaultStoreDir(), options.remoteStore === undefined ? objectStoreFromEnv() : (options.remoteStore ?? undefined));
  // What a killed worker of this host left behind; other hosts' scratch and live owners are left alone.
  const orphaned = orphans(store.root);
  removeItems(store.root, orphaned);
  if (orphaned.length > 0) console.log(`removed ${orphaned.length} orphans of dead processes from ${store.root}: ${orphaned.map((o) => o.ref).join(', ')}`);
  const activities = {
    ...createActivities({
      store,
      repoRoot: REPO_ROOT,
      trainers: options.trainers ?? loadTrainerRegistry(),
      devices: new DevicePool(devices),
      configDir: options.configDir,
      pipelineDir: options.pipelineDir,
      preemption: options.preemption,
    }),
    ...options.activityOverrides,
  };
  const gpuNames: readonly string[] = GPU_ACTIVITIES;
  const pick = (gpu: boolean) => Object.fromEntries(Object.entries(activities).filter(([name]) => gpuNames.includes(name) === gpu));
  // A pre-empted worker's stages end themselves within the grace period (trainers checkpoint first);
  // until then the SDK must not cancel them, which would kill the trainers without a checkpoint.
  const shutdown = options.preemption ? { shutdownGraceTime: options.preemption.graceMs } : {};
  const workers: Worker[] = [];
  if (role !== 'gpu') {
    workers.push(
      await Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: options.taskQueue,
        ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
        activities: pick(false),
        ...shutdown,
        // A run's next workflow task waits this long for a pre-empted or dead worker's sticky queue
        // before any worker takes it (the SDK's default is 10 s; the fault campaign saw each of them).
        stickyQueueScheduleToStartTimeout: '3s',
      }),
    );
  }
  if (role !== 'main') {
    workers.push(
      await Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: `${options.taskQueue}-gpu`,
        activities: pick(true),
        maxConcurrentActivityTaskExecutions: devices,
        ...shutdown,
      }),
    );
  }
  return workers;
}

/** Runs the workers until SIGINT/SIGTERM. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}

/**
 * Graceful pre-emption: on SIGTERM (or SIGINT) the workers stop taking tasks, running trainers
 * checkpoint and stop, every running stage fails as `Preempted` (charged to the system budget, the
 * checkpoint in its details), and the process exits within the grace period whatever is left.
 */
export function exitGracefullyOnSignals(workers: Worker[], preemption: Preemption): void {
  const onSignal = (signal: NodeJS.Signals) => {
    console.log(`arena worker: ${signal}: pre-empted, stopping within ${preemption.graceMs} ms`);
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    preemption.begin(signal);
    setTimeout(() => {
      console.error('arena worker: the grace period is over; exiting with stages still running');
      process.exit(1);
    }, preemption.graceMs).unref();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

async function main(): Promise<void> {
  const preemption = new Preemption(shutdownGraceMs());
  const { connection, namespace, taskQueue } = await connectWorker();
  const role = (process.env['ARENA_WORKER_ROLE'] as ArenaWorkerOptions['role']) || 'all';
  const workers = await createWorkers({ connection, namespace, taskQueue, role, preemption });
  exitGracefullyOnSignals(workers, preemption);
  const remote = objectStoreFromEnv();
  console.log(
    `arena worker on ${os.hostname()}: role ${role}, queue '${taskQueue}'${role === 'main' ? '' : ` and '${taskQueue}-gpu'`}, store ${defaultStoreDir()}${remote ? ` mirrored to ${remote.description}` : ''}`,
  );
  try {
    await runWorkers(workers);
  } finally {
    await connection.close();
  }
  // A stage failed at the end of the grace period may still be working (a DuckDB query): leave it.
  if (preemption.signal.aborted) process.exit(0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
