import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { findTemporalCli } from '../../lib/temporal-cli';
import type { PipelineInput, PipelineResult } from '../../lib/run-types';
import { ARENA_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { createWorkers, REPO_ROOT, type ArenaWorkerOptions } from '../../worker';
import { SAMPLE_DIR } from '../fixtures/sample-splits';


let runtimeQuieted = false;

/** A real Temporal dev server from the `temporal` CLI, with the project's search attributes. */
export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  if (!runtimeQuieted) {
    // Failures the tests cause on purpose would otherwise be logged as warnings.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeQuieted = true;
  }
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: findTemporalCli() }, searchAttributes: ARENA_SEARCH_ATTRIBUTES, ui: false },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `arena-${prefix}-`));
}

/**
 * The worker setting that lets workers read the shared sample: `ARENA_DATA_ROOTS` with the sample's
 * folder added, as an operator would add a data folder (the sample lies outside the project).
 */
export function sampleDataRoots(env: NodeJS.ProcessEnv = process.env): string {
  const roots = (env['ARENA_DATA_ROOTS'] ?? '').split(path.delimiter).filter((root) => root !== '');
  return [...new Set([...roots, SAMPLE_DIR])].join(path.delimiter);
}

/** Overrides that point a config at the real LMSYS sample rows (workers started here may read them). */
export function sampleData(): Record<string, unknown> {
  return {
    data: {
      train: [{ format: 'lmsys', path: path.join(SAMPLE_DIR, 'train_sample.csv') }],
      test: { format: 'lmsys', path: path.join(SAMPLE_DIR, 'test.csv') },
    },
  };
}

export interface RunningWorkers {
  stop(): Promise<void>;
}

/** Workers in this process, on the test server; they may read the shared sample (their environment is this process's). */
export async function startWorkers(env: TestWorkflowEnvironment, options: Omit<ArenaWorkerOptions, 'connection' | 'namespace' | 'workflowBundle'>): Promise<RunningWorkers> {
  process.env['ARENA_DATA_ROOTS'] = sampleDataRoots();
  const workers = await createWorkers({ connection: env.nativeConnection, namespace: 'default', workflowBundle: await workflowBundle(), ...options });
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    stop: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    },
  };
}

/** A worker in a child process of its own, so that a test can kill it like a crashed pod. */
export function spawnWorkerProcess(env: TestWorkflowEnvironment, settings: { taskQueue: string; store: string; role: 'all' | 'main' | 'gpu'; devices: number; logFile: string; env?: NodeJS.ProcessEnv }): ChildProcess {
  mkdirSync(path.dirname(settings.logFile), { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      ARENA_TASK_QUEUE: settings.taskQueue,
      ARENA_STORE: settings.store,
      ARENA_WORKER_ROLE: settings.role,
      ARENA_DEVICES: String(settings.devices),
      ARENA_DATA_ROOTS: sampleDataRoots(),
      ...settings.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  child.on('exit', () => {
    if (existsSync(path.dirname(settings.logFile))) writeFileSync(settings.logFile, log.join(''));
  });
  return child;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Checkpoint folders `step-<n>` the trainer has written for a stage id, newest last. */
export function checkpointSteps(store: string, stageId: string): number[] {
  const root = path.join(store, 'checkpoints', stageId);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .flatMap((key) => readdirSync(path.join(root, key)))
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export async function startRun(env: TestWorkflowEnvironment, taskQueue: string, workflowId: string, input: PipelineInput, pipeline = 'train-pipeline'): Promise<WorkflowHandle> {
  return env.client.workflow.start(pipeline, { taskQueue, workflowId, args: [input] });
}

export type { PipelineResult };

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
