import * as fs from 'node:fs';
import * as path from 'node:path';
import { predictWithEngine, TRAINER_PREDICT_DIR, type EngineOptions } from '../../lib/inference/engine';
import { combineSwapTta, predictedWinner } from '../../lib/inference/tta';
import { writeAtomically } from '../../lib/duckdb';
import { submissionCsv } from './submission-csv';
import { readTestIds } from './test-ids';
import { validateSubmission } from './validate-submission';

export interface SubmitOptions extends EngineOptions {
  /** The exported model folder (model.json, and model.onnx for the onnx engine). */
  modelDir: string;
  /** test_features.parquet: the test rows with the model's feature columns. */
  testTable: string;
  /** The features stage's feature_columns.json (swap rules for TTA). */
  featureColumnsFile: string;
  batchSize: number;
  tta: boolean;
  /** submission.csv. */
  outDir: string;
  /** The trainer engine's specs, logs and predictions go to its trainer-predict/ folder here; default: `outDir`. */
  logDir?: string;
  /** The ids the submission must cover; by default those of `testTable`. */
  expectedIds?: readonly string[];
  onProgress?: (rowsDone: number) => void;
  signal?: AbortSignal;
}

export interface SubmitSummary {
  rows: number;
  modelA: number;
  modelB: number;
}

export const SUBMISSION_FILE = 'submission.csv';

export async function submit(opts: SubmitOptions): Promise<SubmitSummary> {
  const testIds = opts.expectedIds ?? (await readTestIds(opts.testTable));
  const predictions = await predictWithEngine({
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.trainer ? { trainer: opts.trainer } : {}),
    workDir: path.join(opts.logDir ?? opts.outDir, TRAINER_PREDICT_DIR),
    modelDir: opts.modelDir,
    table: opts.testTable,
    batchSize: opts.batchSize,
    tta: opts.tta,
    featureColumnsFile: opts.featureColumnsFile,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const pA = predictions.pASwapped ? combineSwapTta(predictions.pA, predictions.pASwapped) : predictions.pA;
  const winners = Array.from(pA, predictedWinner);
  validateSubmission(predictions.ids, winners, testIds);
  fs.mkdirSync(opts.outDir, { recursive: true });
  await writeAtomically([path.join(opts.outDir, SUBMISSION_FILE)], async ([file]) => fs.writeFileSync(file!, submissionCsv(predictions.ids, winners)));
  const modelA = winners.filter((winner) => winner === 'model_a').length;
  return { rows: winners.length, modelA, modelB: winners.length - modelA };
}
