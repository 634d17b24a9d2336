import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainer, TrainerFailed, type TrainerRun } from '../trainer-process';
import type { TrainerConfig } from '../config/schema';
import { UserInputError } from '../errors';
import type { TrainerSpec } from '../trainer-spec';
import type { Predictions } from './predict';
import { writeSwappedTable } from './swapped-table';
import { readTrainerPredictions } from './trainer-predictions';

/** What the `trainer` engine needs to run the trainer's own `predict` verb (docs/trainer-protocol.md). */
export interface TrainerEngineOptions {
  /** The trainer's resolved argv (lib/trainer-registry.ts). */
  command: string[];
  /** Worker environment variables passed through to it: the registry entry's `env`. */
  passEnv?: readonly string[];
  /** The trainer's sections of the resolved run config; they travel in the spec, the trainer reads its model settings there. */
  config: TrainerConfig;
  /** The final model's checkpoint folder (the merged checkpoint that `export` read). */
  checkpoint: string;
  /** The project folder: the trainer runs there, relative paths in the config start there. */
  repoRoot: string;
}

export interface TrainerPredictOptions extends TrainerEngineOptions {
  table: string;
  batchSize: number;
  tta: boolean;
  featureColumnsFile?: string;
  /** Specs, trainer logs and predictions go here; the swapped copy of the table is removed after use. */
  workDir: string;
  /** Called every few seconds while a trainer runs (rows done so far: 0), and with the row count at the end; a heartbeat. */
  onProgress?: (rowsDone: number) => void;
  signal?: AbortSignal;
}

const HEARTBEAT_MS = 5000;

/**
 * Scores a table with the trainer's forward pass: one `predict` run on the table and, with TTA, one
 * on a copy with A and B exchanged. Failures are classified as for training (user, OOM, pre-emption).
 */
export async function predictWithTrainer(opts: TrainerPredictOptions): Promise<Predictions> {
  if (opts.tta && opts.featureColumnsFile === undefined) throw new UserInputError('predict: swap TTA needs the features stage\'s feature_columns.json');
  const signal = opts.signal ?? new AbortController().signal;
  const original = await scoreTable(opts, opts.table, path.join(opts.workDir, 'original'), signal);
  if (!opts.tta) {
    opts.onProgress?.(original.ids.length);
    return original;
  }
  const swappedDir = path.join(opts.workDir, 'swapped');
  const swappedTable = path.join(swappedDir, 'swapped-rows.parquet');
  fs.mkdirSync(swappedDir, { recursive: true });
  try {
    await writeSwappedTable(opts.table, opts.featureColumnsFile!, swappedTable);
    const swapped = await scoreTable(opts, swappedTable, swappedDir, signal);
    opts.onProgress?.(original.ids.length);
    return { ...original, pASwapped: swapped.pA };
  } finally {
    fs.rmSync(swappedTable, { force: true });
  }
}

async function scoreTable(opts: TrainerPredictOptions, table: string, workDir: string, signal: AbortSignal): Promise<Predictions> {
  const outputDir = path.join(workDir, 'output');
  const run: TrainerRun = {
    command: opts.command,
    passEnv: opts.passEnv,
    verb: 'predict',
    spec: { config: opts.config, checkpoint: opts.checkpoint, data: table, output_dir: outputDir, batch_size: opts.batchSize } satisfies TrainerSpec<'predict'>,
    workDir,
    cwd: opts.repoRoot,
    signal,
    onEvent: () => opts.onProgress?.(0),
  };
  const heartbeat = setInterval(() => opts.onProgress?.(0), HEARTBEAT_MS);
  let done: Awaited<ReturnType<typeof runTrainer>>;
  try {
    done = await runTrainer(run);
  } finally {
    clearInterval(heartbeat);
  }
  const file = done.predictions;
  if (file === undefined) throw new TrainerFailed(`trainer predict (log: ${path.join(workDir, 'trainer.log')}): its done event names no predictions file`);
  return readTrainerPredictions(table, path.resolve(opts.repoRoot, file));
}
