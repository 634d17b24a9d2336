import {
  accuracy,
  accuracyByGroup,
  calibrationBins,
  expectedCalibrationError,
  logLoss,
  rocAuc,
  type CalibrationBin,
  type GroupAccuracy,
} from './metrics';
import type { ValidRows } from './valid-rows';

/** Validation rows a language or source needs for its own accuracy; smaller ones are pooled as "other". */
export const MIN_GROUP_ROWS = 20;

/** Every metric of one set of predictions on the validation rows. */
export interface MetricSet {
  accuracy: number;
  log_loss: number;
  roc_auc: number | null;
  /** Expected calibration error of p(model_a), 10 equal-width bins. */
  ece: number;
  per_language: Record<string, GroupAccuracy>;
  per_source: Record<string, GroupAccuracy>;
  calibration: CalibrationBin[];
}

export function metricSet(valid: ValidRows, p: ArrayLike<number>): MetricSet {
  const calibration = calibrationBins(valid.labels, p, 10);
  return {
    accuracy: accuracy(valid.labels, p),
    log_loss: logLoss(valid.labels, p),
    roc_auc: rocAuc(valid.labels, p),
    ece: expectedCalibrationError(calibration),
    per_language: accuracyByGroup(valid.labels, p, valid.languages, MIN_GROUP_ROWS),
    per_source: accuracyByGroup(valid.labels, p, valid.sources, MIN_GROUP_ROWS),
    calibration,
  };
}
