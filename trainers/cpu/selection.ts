import type { TrainerConfig } from '../../lib/config/schema';
import type { EpochMetricsEntry, TrainingState } from './checkpoint';

type SelectMetric = TrainerConfig['trainer']['select_metric'];

/** The validation of a checkpoint as the `done` event reports it (docs/trainer-protocol.md). */
export type ValidMetrics = Pick<EpochMetricsEntry, 'step' | 'epoch' | 'valid_loss' | 'valid_accuracy'>;

/** Whether `value` beats `best`: a lower loss, a higher accuracy; anything beats no value yet. */
export function improves(metric: SelectMetric, value: number, best: number | null): boolean {
  if (best === null) return true;
  return metric === 'valid_loss' ? value < best : value > best;
}

/**
 * Early stopping after one evaluation of the merged model (the round's merge, or the single shard's
 * epoch): `patience` evaluations without a gain in `metric` stop training. Returns the log line of a stop.
 */
export function recordEvaluation(es: TrainingState['earlyStopping'], metric: SelectMetric, metrics: ValidMetrics, patience: number): string | undefined {
  const value = metrics[metric];
  if (improves(metric, value, es.best)) {
    es.best = value;
    es.badEpochs = 0;
    return undefined;
  }
  es.badEpochs += 1;
  if (patience === 0 || es.badEpochs < patience) return undefined;
  es.stopped = true;
  return `early stopping: no ${metric} gain for ${es.badEpochs} evaluations`;
}
