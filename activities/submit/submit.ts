import * as fs from 'node:fs';
import * as path from 'node:path';
import { predictWithEngine, TRAINER_PREDICT_DIR, type EngineOptions } from '../../lib/inference/engine';
import { ensembleProbabilities } from '../../lib/inference/ensemble';
import { predictedWinner } from '../../lib/inference/tta';
import { writeAtomically } from '../../lib/duckdb';
import { submissionCsv } from './submission-csv';
import { readTestIds } from './test-ids';
import { validateSubmission } from './validate-submission';

export interface SubmitOptions extends EngineOptions {
  /** The exported model folder (model.json, and model.onnx for the onnx engine). */
  modelDir: string;
  /**
   * The other members of a fold ensemble, each with its engine options: the submission averages the
   * members' probabilities (each swap-TTA'd first when `tta`), as the ensemble stage scores them.
   */
  ensemble?: (EngineOptions & { modelDir: string })[];
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
  /** 1, or the members of the fold ensemble it averaged. */
  models: number;
}

export const SUBMISSION_FILE = 'submission.csv';

export async function submit(opts: SubmitOptions): Promise<SubmitSummary> {
  const testIds = opts.expectedIds ?? (await readTestIds(opts.testTable));
  const members = [opts, ...(opts.ensemble ?? [])].map(({ modelDir, engine, trainer }, k) => ({ name: modelDir, k, modelDir, engine, trainer }));
  const { ids, mean: pA } = await ensembleProbabilities(
    members,
    (member) =>
      predictWithEngine({
        ...(member.engine ? { engine: member.engine } : {}),
        ...(member.trainer ? { trainer: member.trainer } : {}),
        // Each member's trainer-engine files in a folder of its own.
        workDir: path.join(opts.logDir ?? opts.outDir, TRAINER_PREDICT_DIR, ...(members.length > 1 ? [`member-${member.k}`] : [])),
        modelDir: member.modelDir,
        table: opts.testTable,
        batchSize: opts.batchSize,
        tta: opts.tta,
        featureColumnsFile: opts.featureColumnsFile,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
    opts.testTable,
  );
  const winners = Array.from(pA, predictedWinner);
  validateSubmission(ids, winners, testIds);
  fs.mkdirSync(opts.outDir, { recursive: true });
  await writeAtomically([path.join(opts.outDir, SUBMISSION_FILE)], async ([file]) => fs.writeFileSync(file!, submissionCsv(ids, winners)));
  const modelA = winners.filter((winner) => winner === 'model_a').length;
  return { rows: winners.length, modelA, modelB: winners.length - modelA, models: members.length };
}
