import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { writeAtomically } from '../../lib/duckdb';
import type { Predictions } from '../../lib/inference/predict';
import { ensembleProbabilities } from '../../lib/inference/ensemble';
import { METRICS_FILE, REPORT_FILE } from '../evaluate/evaluate';
import { wilsonInterval } from '../evaluate/metrics';
import { metricSet, type MetricSet } from '../evaluate/metric-set';
import { readValidRows } from '../evaluate/valid-rows';
import { renderEnsembleReport } from './report';

export interface EnsembleMember {
  /** The teacher's instance id, e.g. `teacher[fold=0]`. */
  name: string;
  fold: number;
  modelDir: string;
}

export interface EnsembleOptions {
  members: EnsembleMember[];
  /** Scores the validation table with one member (evaluate's engines; swap pass when `tta`). */
  predict(member: EnsembleMember): Promise<Predictions>;
  /** The split's valid.parquet. */
  validTable: string;
  tta: boolean;
  synthetic: boolean;
  outDir: string;
}

/** One model's (or the ensemble's) headline metrics, with the 95% Wilson interval of its accuracy. */
export interface MemberMetrics {
  name: string;
  accuracy: number;
  accuracy_ci95: [number, number];
  log_loss: number;
  roc_auc: number | null;
  ece: number;
}

export interface EnsembleMetrics {
  rows: number;
  synthetic: boolean;
  /** Whether every member's probability is swap-TTA'd (evaluate.tta) before the average. */
  tta: boolean;
  /** The ensemble's headline numbers, at the top level as in evaluate's metrics.json. */
  accuracy: number;
  log_loss: number;
  members: MemberMetrics[];
  ensemble: MemberMetrics & Pick<MetricSet, 'per_language' | 'per_source'>;
}

function headline(name: string, set: MetricSet, rows: number): MemberMetrics {
  return { name, accuracy: set.accuracy, accuracy_ci95: wilsonInterval(Math.round(set.accuracy * rows), rows), log_loss: set.log_loss, roc_auc: set.roc_auc, ece: set.ece };
}

/**
 * The fold ensemble: the mean of the members' probabilities p(model_a) on the validation rows
 * (each swap-TTA'd first when `tta`), scored beside every member; metrics.json and report.html.
 */
export async function evaluateEnsemble(opts: EnsembleOptions): Promise<EnsembleMetrics> {
  const { ids, members, mean } = await ensembleProbabilities(opts.members, opts.predict, opts.validTable);
  if (ids.length === 0) throw new UserInputError(`${opts.validTable}: no rows to evaluate`);
  const valid = await readValidRows(opts.validTable, ids);
  const ensembleSet = metricSet(valid, mean);
  const metrics: EnsembleMetrics = {
    rows: ids.length,
    synthetic: opts.synthetic,
    tta: opts.tta,
    accuracy: ensembleSet.accuracy,
    log_loss: ensembleSet.log_loss,
    members: members.map((p, k) => headline(opts.members[k]!.name, metricSet(valid, p), ids.length)),
    ensemble: { ...headline(`mean of ${members.length}`, ensembleSet, ids.length), per_language: ensembleSet.per_language, per_source: ensembleSet.per_source },
  };
  fs.mkdirSync(opts.outDir, { recursive: true });
  await writeAtomically([path.join(opts.outDir, METRICS_FILE), path.join(opts.outDir, REPORT_FILE)], async ([metricsFile, reportFile]) => {
    fs.writeFileSync(metricsFile!, `${JSON.stringify(metrics, null, 2)}\n`);
    fs.writeFileSync(reportFile!, renderEnsembleReport(metrics));
  });
  return metrics;
}
