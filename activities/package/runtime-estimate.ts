import type { RunConfig } from '../../lib/config/schema';

/** What the run's evaluation measured: rows scored, passes over them (2 with swap-TTA) and the seconds it took. */
export interface EvaluationThroughput {
  rows: number;
  passes: number;
  seconds: number;
}

export interface RuntimeEstimate {
  /** Row passes per second of the run's own evaluation. */
  evaluation_rows_per_s: number;
  /** The same scaled to the notebook's T4s: one T4 is `t4_speed_factor` of the evaluation's device, and `devices` run side by side. */
  kaggle_rows_per_s: number;
  t4_speed_factor: number;
  devices: number;
  test_rows: number;
  passes: number;
  hours: number;
  limit_hours: number;
  /** Set when the estimate passes WARN_AT of the limit. */
  warning: string | null;
}

/** A run that needs more than this share of the limit leaves no margin for a slower T4 or longer texts. */
export const WARN_AT = 0.8;

/**
 * The notebook's run time on the competition's test set: the test rows, scored in the same number of
 * passes as the evaluation, at the evaluation's throughput scaled to Kaggle's T4s. It assumes test
 * texts as long as validation texts (both are arena rows); the notebook's own loading time (a 4-bit
 * 9B backbone: minutes) is not in it.
 */
export function estimateRuntime(measured: EvaluationThroughput, kaggle: RunConfig['kaggle']): RuntimeEstimate {
  const evaluationRate = (measured.rows * measured.passes) / Math.max(measured.seconds, 1e-9);
  const kaggleRate = evaluationRate * kaggle.t4_speed_factor * kaggle.devices;
  const hours = (kaggle.test_rows * measured.passes) / kaggleRate / 3600;
  const warning =
    hours > kaggle.time_limit_hours * WARN_AT
      ? `estimated ${hours.toFixed(1)} h is over ${Math.round(WARN_AT * 100)}% of the ${kaggle.time_limit_hours} h limit: shorten model.max_length, turn submit.tta off or use a faster setup`
      : null;
  return {
    evaluation_rows_per_s: evaluationRate,
    kaggle_rows_per_s: kaggleRate,
    t4_speed_factor: kaggle.t4_speed_factor,
    devices: kaggle.devices,
    test_rows: kaggle.test_rows,
    passes: measured.passes,
    hours,
    limit_hours: kaggle.time_limit_hours,
    warning,
  };
}

export function describeEstimate(e: RuntimeEstimate): string {
  return `estimated Kaggle run time: ${e.hours.toFixed(2)} h for ${e.test_rows} test rows x ${e.passes} pass(es) at ${e.kaggle_rows_per_s.toFixed(1)} rows/s (evaluation ${e.evaluation_rows_per_s.toFixed(1)} rows/s x T4 factor ${e.t4_speed_factor} x ${e.devices} device(s)); limit ${e.limit_hours} h${e.warning ? `\nWARNING: ${e.warning}` : ''}`;
}
