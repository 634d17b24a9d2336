import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { ensureDevServer, portIsOpen, stopDevServer } from '../../lib/dev-server';
import type { PipelineInput, PipelineResult } from '../../lib/run-types';
import { REPO_ROOT } from '../../worker';
import { startS3Server, type S3TestServer } from './s3-server';
import { removeDir, sampleDataRoots, tempDir } from './temporal';

/**
 * The fault campaign of issue 10, shared by test/faults.test.ts (small) and bench/faults.ts (large):
 * runs of train-pipeline against a Temporal dev server and worker processes of their own, each run
 * disturbed at chosen stages, and what every disturbance cost.
 */

export const FAULT_MODES = ['sigkill-worker', 'sigterm-worker', 'sigkill-server', 'gpu-takeover'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];
export const PIPELINE_STAGES = ['ingest', 'features', 'augment', 'split', 'train', 'evaluate', 'submit'] as const;

export interface Fault {
  mode: FaultMode;
  /** The stage to strike: once it has started, after `at` times its undisturbed duration. */
  stage: string;
  at: number;
  /** Strike only once a train shard has written a checkpoint (then the trainer is surely stepping). */
  afterCheckpoint?: boolean;
}

export interface FaultOutcome extends Fault {
  run: string;
  /** The stages with an activity in flight when the fault struck; empty when the stage had already ended. */
  hit: string[];
  /** Seconds into the run. */
  struckAt: number;
}

export interface RunOutcome {
  name: string;
  faults: FaultOutcome[];
  completed: boolean;
  error?: string;
  /** Validation metrics equal to the undisturbed run's. */
  identical: boolean;
  seconds: number;
  /** This run's time minus the undisturbed run's. */
  lostSeconds: number;
  /**
   * Per stage: the time from the previous stage's end (the run's start for the first) to its own
   * end, minus the same in the undisturbed run: the stage's work and the scheduling around it.
   */
  stageLost: Record<string, number>;
  /** Train steps the resumed attempts trained again after a `Preempted` failure (a SIGTERM). */
  stepsRedoneAfterSigterm: number[];
  /** Per stage: the failures of its activities, by type (`Preempted`, `timeout HEARTBEAT`, ...). */
  failures: Record<string, string[]>;
  /** `*.tmp-*` folders left under the run's stores once it ended. */
  tmpLeft: string[];
}

export interface Baseline {
  seconds: number;
  stageSeconds: Record<string, number>;
  /** Per stage: seconds from the run's start to the stage's end. */
  stageEnds: Record<string, number>;
  metrics: unknown;
}

interface WorkerSettings {
  name: string;
  role: 'main' | 'gpu';
  store: string;
  devices: number;
  remote: boolean;
}

const POLL_MS = 200;
const TIMEOUT_NAMES = ['UNSPECIFIED', 'START_TO_CLOSE', 'SCHEDULE_TO_START', 'SCHEDULE_TO_CLOSE', 'HEARTBEAT'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stageOf = (stageId: string) => stageId.split('/')[0]!;
const eventMs = (e: temporal.api.history.v1.IHistoryEvent) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
const payloadJson = (p: temporal.api.common.v1.IPayload | undefined | null): any => (p?.data ? JSON.parse(Buffer.from(p.data).toString()) : undefined);

/** What a run's history says about its stages: when each ran, which are in flight, what each retry resumed from. */
export function readHistory(events: temporal.api.history.v1.IHistoryEvent[]) {
  const scheduled = new Map<number, { stageId: string; at: number; resumeStep?: number }>();
  const open = new Set<number>();
  const spans: Record<string, { start: number; end: number }> = {};
  const preemptedSteps = new Map<string, number[]>();
  const resumedFrom = new Map<string, number>();
  const failures: Record<string, string[]> = {};
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s && s.activityType?.name !== 'resolveRun') {
      const request = payloadJson(s.input?.payloads?.[0]);
      scheduled.set(Number(e.eventId), { stageId: request.stageId, at: eventMs(e) });
      open.add(Number(e.eventId));
      const span = (spans[stageOf(request.stageId)] ??= { start: eventMs(e), end: eventMs(e) });
      span.start = Math.min(span.start, eventMs(e));
    }
    const closed =
      e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed && scheduled.has(Number(closed.scheduledEventId))) {
      const from = scheduled.get(Number(closed.scheduledEventId))!;
      open.delete(Number(closed.scheduledEventId));
      spans[stageOf(from.stageId)]!.end = Math.max(spans[stageOf(from.stageId)]!.end, eventMs(e));
      const failure = e.activityTaskFailedEventAttributes?.failure;
      const timeout = e.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType;
      if (failure || timeout !== undefined) {
        const kind = failure ? (failure.applicationFailureInfo?.type ?? 'Error') : `timeout ${TIMEOUT_NAMES[Number(timeout)] ?? timeout}`;
        (failures[stageOf(from.stageId)] ??= []).push(kind);
      }
      if (failure?.applicationFailureInfo?.type === 'Preempted') {
        const details = payloadJson(failure.applicationFailureInfo.details?.payloads?.[0]);
        if (typeof details?.step === 'number') preemptedSteps.set(from.stageId, [...(preemptedSteps.get(from.stageId) ?? []), details.step]);
      }
      const result = payloadJson(e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]);
      if (typeof result?.summary?.resumed_from_step === 'number') resumedFrom.set(from.stageId, result.summary.resumed_from_step);
    }
  }
  const inFlight = [...new Set([...open].map((id) => stageOf(scheduled.get(id)!.stageId)))];
  const stageSeconds = Object.fromEntries(Object.entries(spans).map(([name, s]) => [name, (s.end - s.start) / 1000]));
  const stageStart = Object.fromEntries(Object.entries(spans).map(([name, s]) => [name, s.start]));
  const runStart = events.length > 0 ? eventMs(events[0]!) : 0;
  const stageEnds = Object.fromEntries(Object.entries(spans).map(([name, s]) => [name, (s.end - runStart) / 1000]));
  // A pre-empted shard stopped at the step of its last checkpoint; the attempt that completed it resumed from resumedFrom.
  const stepsRedone = [...preemptedSteps].map(([stageId, steps]) => Math.max(...steps) - (resumedFrom.get(stageId) ?? 0));
  return { inFlight, stageSeconds, stageStart, stageEnds, stepsRedone, failures };
}

/**
 * `*.tmp-*` entries under `dir` (scratch folders of stages, half-written checkpoints), except under
 * `failed/`, where failed attempts are kept on purpose under their scratch names.
 */
export function tmpEntries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.name.includes('.tmp-')) found.push(path.relative(dir, full));
      else if (entry.isDirectory() && full !== path.join(dir, 'failed')) walk(full);
    }
  };
  walk(dir);
  return found;
}

/** A Temporal dev server (own process group, database on disk: it survives a SIGKILL), S3 on demand, and runs against them. */
export class FaultCampaign {
  private client!: Client;
  private connection!: Connection;
  private s3: S3TestServer | undefined;
  private readonly children = new Set<ChildProcess>();
  private runs = 0;
  private failedRuns = 0;

  private constructor(
    private readonly dir: string,
    private readonly port: number,
    private readonly uiPort: number,
    private readonly input: PipelineInput,
    private readonly log: (line: string) => void,
  ) {}

  static async start(input: PipelineInput, log: (line: string) => void = () => undefined): Promise<FaultCampaign> {
    const campaign = new FaultCampaign(tempDir('faults'), await freePort(), await freePort(), input, log);
    await campaign.startServer();
    campaign.connection = await Connection.connect({ address: `127.0.0.1:${campaign.port}` });
    campaign.client = new Client({ connection: campaign.connection, namespace: 'default' });
    return campaign;
  }

  private get stateDir(): string {
    return path.join(this.dir, 'temporal');
  }

  private async startServer(): Promise<void> {
    // After a SIGKILL the old server's socket closes as the kernel reaps it: wait for that first.
    while (await portIsOpen(this.port)) await sleep(50);
    const { started } = await ensureDevServer({ stateDir: this.stateDir, port: this.port, uiPort: this.uiPort });
    if (!started) throw new Error(`port ${this.port} was taken before the campaign's server started`);
  }

  private spawnWorker(run: string, s: WorkerSettings): ChildProcess {
    const logFile = path.join(this.dir, run, `${s.name}.log`);
    mkdirSync(path.dirname(logFile), { recursive: true });
    const out = openSync(logFile, 'a');
    // Its own process group, as a pod: a SIGKILL of the group takes the worker; trainers have groups of their own.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker.ts')], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: `127.0.0.1:${this.port}`,
        TEMPORAL_NAMESPACE: 'default',
        ARENA_TASK_QUEUE: run,
        ARENA_STORE: s.store,
        ARENA_WORKER_ROLE: s.role,
        ARENA_DEVICES: String(s.devices),
        ARENA_DATA_ROOTS: sampleDataRoots(),
        ...(s.remote ? this.s3!.env(run) : {}),
      },
    });
    closeSync(out);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  private async history(workflowId: string) {
    try {
      return readHistory((await this.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []);
    } catch {
      return undefined; // The server is down for a moment (a fault of this campaign).
    }
  }

  /** One run of the pipeline with `faults` struck in order; `undefined` for the undisturbed run. */
  async run(name: string, faults: Fault[], baseline?: Baseline): Promise<RunOutcome> {
    const run = `${name}-${++this.runs}`;
    const remote = faults.some((f) => f.mode === 'gpu-takeover');
    if (remote) this.s3 ??= await startS3Server();
    const store = path.join(this.dir, run, 'store');
    const stores = [store];
    const workers = {
      main: this.spawnWorker(run, { name: 'main', role: 'main', store, devices: 1, remote }),
      gpu: this.spawnWorker(run, { name: 'gpu', role: 'gpu', store, devices: 2, remote }),
    };
    const started = Date.now();
    const handle = await this.client.workflow.start('train-pipeline', { taskQueue: run, workflowId: run, args: [this.input] });
    const outcomes: FaultOutcome[] = [];
    const result = handle.result() as Promise<PipelineResult>;
    let settled = false;
    // Awaited below; a failed run must not count as an unhandled rejection meanwhile.
    result.then(
      () => (settled = true),
      () => (settled = true),
    );

    for (const fault of faults) {
      const stageStart = await this.waitForStage(run, fault.stage, () => settled);
      if (stageStart === undefined) break;
      const delay = fault.at * (baseline?.stageSeconds[fault.stage] ?? 1) * 1000 - (Date.now() - stageStart);
      if (delay > 0) await sleep(delay);
      if (fault.afterCheckpoint) await this.waitForCheckpoint(store, () => settled);
      if (settled) break;
      const hit = (await this.history(run))?.inFlight ?? [];
      const struckAt = (Date.now() - started) / 1000;
      const target = fault.stage === 'train' ? 'gpu' : 'main';
      if (fault.mode === 'sigkill-worker') {
        killGroup(workers[target], 'SIGKILL');
        workers[target] = this.spawnWorker(run, { name: `${target}-after-${outcomes.length}`, role: target, store, devices: target === 'gpu' ? 2 : 1, remote });
      } else if (fault.mode === 'sigterm-worker') {
        // As a platform stops a pod: SIGTERM to the worker process alone; a new pod starts at once.
        workers[target].kill('SIGTERM');
        workers[target] = this.spawnWorker(run, { name: `${target}-after-${outcomes.length}`, role: target, store, devices: target === 'gpu' ? 2 : 1, remote });
      } else if (fault.mode === 'sigkill-server') {
        stopDevServer(this.stateDir, 'SIGKILL');
        await this.startServer();
      } else {
        killGroup(workers.gpu, 'SIGKILL');
        const empty = path.join(this.dir, run, `store-takeover-${outcomes.length}`);
        stores.push(empty);
        workers.gpu = this.spawnWorker(run, { name: `gpu-takeover-${outcomes.length}`, role: 'gpu', store: empty, devices: 2, remote });
      }
      this.log(`${run}: ${fault.mode} at ${struckAt.toFixed(1)} s (aimed at ${fault.stage}, in flight: ${hit.join(', ') || 'nothing'})`);
      outcomes.push({ ...fault, run, hit, struckAt });
    }

    let completed = false;
    let error: string | undefined;
    let metrics: unknown;
    try {
      metrics = withoutTiming((await result).metrics);
      completed = true;
    } catch (err) {
      error = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
    }
    const seconds = (Date.now() - started) / 1000;
    const history = await this.history(run);
    for (const child of [...this.children]) killGroup(child, 'SIGTERM');
    await this.allWorkersGone();
    const stageSeconds = history?.stageSeconds ?? {};
    const stageEnds = history?.stageEnds ?? {};
    const sinceLastStage = (ends: Record<string, number>, stage: string) => {
      const i = PIPELINE_STAGES.indexOf(stage as never);
      return ends[stage]! - (i > 0 ? (ends[PIPELINE_STAGES[i - 1]!] ?? 0) : 0);
    };
    const outcome: RunOutcome = {
      name: run,
      faults: outcomes,
      completed,
      ...(error === undefined ? {} : { error }),
      identical: completed && baseline !== undefined && isDeepStrictEqual(metrics, baseline.metrics),
      seconds,
      lostSeconds: baseline ? seconds - baseline.seconds : 0,
      stageLost: baseline
        ? Object.fromEntries(Object.keys(stageEnds).map((s) => [s, sinceLastStage(stageEnds, s) - sinceLastStage(baseline.stageEnds, s)]))
        : {},
      stepsRedoneAfterSigterm: history?.stepsRedone ?? [],
      failures: history?.failures ?? {},
      tmpLeft: stores.flatMap((s) => tmpEntries(s).map((t) => path.join(path.basename(s), t))),
    };
    if (!baseline) Object.assign(outcome, { metrics, stageSeconds, stageEnds });
    if (completed) for (const s of stores) removeDir(s);
    else this.failedRuns++;
    return outcome;
  }

  /** The undisturbed run every disturbed one is compared with. */
  async baseline(): Promise<Baseline & RunOutcome> {
    const outcome = (await this.run('undisturbed', [])) as RunOutcome & Baseline;
    if (!outcome.completed) throw new Error(`the undisturbed run failed: ${outcome.error}`);
    return outcome;
  }

  /** Resolves with the time the stage's first activity was scheduled; undefined if the run ends first. */
  private async waitForStage(workflowId: string, stage: string, over: () => boolean): Promise<number | undefined> {
    for (;;) {
      const start = (await this.history(workflowId))?.stageStart[stage];
      if (start !== undefined) return start;
      if (over()) return undefined;
      await sleep(POLL_MS);
    }
  }

  private async waitForCheckpoint(store: string, over: () => boolean): Promise<void> {
    const root = path.join(store, 'checkpoints', 'train');
    const any = (dir: string): boolean =>
      existsSync(dir) && readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && (/^step-\d+$/.test(e.name) || any(path.join(dir, e.name))));
    while (!any(root) && !over()) await sleep(POLL_MS);
  }

  private async allWorkersGone(): Promise<void> {
    const deadline = Date.now() + 40_000;
    while (this.children.size > 0 && Date.now() < deadline) await sleep(POLL_MS);
    for (const child of [...this.children]) killGroup(child, 'SIGKILL');
  }

  async stop(): Promise<void> {
    for (const child of [...this.children]) killGroup(child, 'SIGKILL');
    await this.connection?.close();
    stopDevServer(this.stateDir, 'SIGKILL');
    await this.s3?.stop();
    // A failed run's stores and worker logs are what explains it: kept.
    if (this.failedRuns === 0) removeDir(this.dir);
    else this.log(`kept the logs and stores of ${this.failedRuns} failed run(s) in ${this.dir}`);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}

/** The evaluation's metrics without its wall-clock timing (kept for the Kaggle run-time estimate), which no two runs share. */
function withoutTiming(metrics: unknown): unknown {
  if (metrics === null || typeof metrics !== 'object') return metrics;
  const { timing: _timing, ...rest } = metrics as Record<string, unknown>;
  return rest;
}
