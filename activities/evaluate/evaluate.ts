import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { predictWithEngine, TRAINER_PREDICT_DIR, type EngineOptions } from '../../lib/inference/engine';
import { readModelHeader } from '../../lib/inference/model-manifest';
import { combineSwapTta } from '../../lib/inference/tta';
import { writeAtomically } from '../../lib/duckdb';
import { longerResponseBaseline } from './metrics';
import { metricSet, type MetricSet } from './metric-set';
import { renderReport } from './report';
import { readValidRows } from './valid-rows';

export interface EvaluateOptions extends EngineOptions {
  /** The exported model folder: model.json (kind, history) and, for the onnx engine, the model itself. */
  modelDir: string;
  /** The split stage's valid.parquet. */
  validTable: string;
  /** The features stage's feature_columns.json (swap rules for TTA). */
  featureColumnsFile: string;
  batchSize: number;
  tta: boolean;
  /** metrics.json and report.html. */
  outDir: string;
  /** The trainer engine's specs, logs and predictions go to its trainer-predict/ folder here; default: `outDir`. */
  logDir?: string;
  /** The rows were generated, not real: the report says so loudly. */
  synthetic: boolean;
  onProgress?: (rowsDone: number) => void;
  signal?: AbortSignal;
}

/** What metrics.json holds; the headline numbers sit at the top level. */
export interface Metrics extends MetricSet {
  rows: number;
  synthetic: boolean;
  model_kind: string;
  /** The same metrics with swap test-time augmentation; null when TTA is off. */
  tta: MetricSet | null;
  baseline_longer: {
    accuracy: number;
    ties: number;
    rule: string;
  };
}

export const METRICS_FILE = 'metrics.json';
export const REPORT_FILE = 'report.html';

export async function evaluate(opts: EvaluateOptions): Promise<Metrics> {
  const manifest = readModelHeader(opts.modelDir);
  const predictions = await predictWithEngine({
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.trainer ? { trainer: opts.trainer } : {}),
    workDir: path.join(opts.logDir ?? opts.outDir, TRAINER_PREDICT_DIR),
    modelDir: opts.modelDir,
    table: opts.validTable,
    batchSize: opts.batchSize,
    tta: opts.tta,
    featureColumnsFile: opts.featureColumnsFile,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (predictions.ids.length === 0) throw new UserInputError(`${opts.validTable}: no rows to evaluate`);
  const valid = await readValidRows(opts.validTable, predictions.ids);
  const baseline = longerResponseBaseline(valid.labels, valid.lengthA, valid.lengthB);
  const metrics: Metrics = {
    rows: predictions.ids.length,
    synthetic: opts.synthetic,
    model_kind: manifest.kind,
    ...metricSet(valid, predictions.pA),
    tta: predictions.pASwapped ? metricSet(valid, combineSwapTta(predictions.pA, predictions.pASwapped)) : null,
    baseline_longer: {
      ...baseline,
      rule: 'predict the response with more characters (Unicode code points); equal lengths go to model_a',
    },
  };
  const report = renderReport(metrics, manifest.history, manifest.selection);
  fs.mkdirSync(opts.outDir, { recursive: true });
  await writeAtomically([path.join(opts.outDir, METRICS_FILE), path.join(opts.outDir, REPORT_FILE)], async ([metricsFile, reportFile]) => {
    fs.writeFileSync(metricsFile!, `${JSON.stringify(metrics, null, 2)}\n`);
    fs.writeFileSync(reportFile!, report);
  });
  return metrics;
}
