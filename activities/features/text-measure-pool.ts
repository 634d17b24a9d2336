import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { pythonCharKinds, TextCounter } from './text-counts';
import { MeasuredBatch, measureBatch, TextBatch } from './text-measures';
import { TrigramCosine } from './trigram-similarity';
import { codeFile } from '../../lib/stage-contract/code-file';

/** Batches queued per worker: enough to keep it busy while the next batch is read. */
const QUEUED_PER_WORKER = 2;
const WORKER_FILE = codeFile(__dirname, 'text-measure-worker.ts');
// Run from TypeScript (tsx), a worker thread needs tsx's loader registered in it too: workers do
// not inherit loaders registered at run time.
const WORKER_SOURCE = [
  ...(path.extname(WORKER_FILE) === '.ts' ? [`require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();`] : []),
  `require(${JSON.stringify(WORKER_FILE)});`,
].join('\n');

interface PoolWorker {
  worker: Worker;
  /** Set by the worker's first message, once its code is loaded. */
  started: boolean;
  waiting: { resolve: (m: MeasuredBatch) => void; reject: (e: Error) => void }[];
}

/**
 * Measures batches on worker threads, and on the calling thread until the first worker has
 * started: a worker takes 0.05-0.2 s to load, as long as counting a few thousand rows, so small
 * tables need not wait for one (bench/features.ts). Workers are started at construction and kept
 * for every table of a run.
 */
export class TextMeasurePool {
  private readonly kinds: Uint8Array;
  private readonly workers: PoolWorker[];
  private local: { counter: TextCounter; cosine: TrigramCosine } | null = null;
  private failure: Error | null = null;
  /** Callers of ready() waiting for a worker to start or finish a batch. */
  private wakeups: (() => void)[] = [];

  /** threads: worker threads, default one per core; 0 measures everything on the calling thread. */
  constructor(threads = os.availableParallelism()) {
    // The class table is built once and shared, not parsed again by every worker.
    this.kinds = pythonCharKinds(new Uint8Array(new SharedArrayBuffer(0x110000)));
    this.workers = Array.from({ length: Math.max(0, threads) }, () => this.startWorker());
  }

  private startWorker(): PoolWorker {
    const entry: PoolWorker = {
      worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { kinds: this.kinds.buffer } }),
      started: false,
      waiting: [],
    };
    entry.worker.on('message', (measured: MeasuredBatch | 'started') => {
      if (measured === 'started') entry.started = true;
      else entry.waiting.shift()!.resolve(measured);
      this.wake();
    });
    entry.worker.on('error', (error) => this.fail(error));
    entry.worker.on('exit', (code) => {
      if (entry.waiting.length > 0) this.fail(new Error(`text measuring worker exited (code ${code}) with batches pending`));
    });
    return entry;
  }

  private get anyStarted(): boolean {
    return this.workers.some((w) => w.started);
  }

  private freeWorker(): PoolWorker | undefined {
    return this.workers
      .filter((w) => w.started && w.waiting.length < QUEUED_PER_WORKER)
      .reduce<PoolWorker | undefined>((best, w) => (best && best.waiting.length <= w.waiting.length ? best : w), undefined);
  }

  /** Resolves once measure() can take another batch without queueing it deeper. */
  async ready(): Promise<void> {
    while (!this.failure && this.anyStarted && !this.freeWorker()) {
      await new Promise<void>((resolve) => this.wakeups.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** Hands the batch to the least busy started worker, or, while none has started, measures it here. */
  measure(batch: TextBatch): Promise<MeasuredBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const entry = this.freeWorker() ?? this.workers.find((w) => w.started);
    if (!entry) {
      this.local ??= { counter: new TextCounter(this.kinds), cosine: new TrigramCosine() };
      return Promise.resolve(measureBatch(batch, this.local.counter, this.local.cosine));
    }
    return new Promise((resolve, reject) => {
      entry.waiting.push({ resolve, reject });
      entry.worker.postMessage(batch, [batch.bytes.buffer as ArrayBuffer, batch.offsets.buffer as ArrayBuffer]);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const entry of this.workers) for (const waiting of entry.waiting.splice(0)) waiting.reject(error);
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.wakeups.splice(0)) resolve();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
