import type { RoundMetrics, RoundSelection } from '../lib/round-selection';
import type { RunConfig } from '../lib/config/schema';
import type { Json } from '../lib/stage';

type SelectMetric = RunConfig['trainer']['select_metric'];

/** A round's merged-model validation from its merge's (or lone shard's) summary; absent in histories from before it. */
export function roundMetrics(summary: { [key: string]: Json }, round: number): RoundMetrics | undefined {
  const m = summary['valid_metrics'] as Partial<Record<keyof RoundMetrics, unknown>> | null | undefined;
  if (typeof m?.step !== 'number' || typeof m.epoch !== 'number' || typeof m.valid_loss !== 'number' || typeof m.valid_accuracy !== 'number') return undefined;
  return { round, step: m.step, epoch: m.epoch, valid_loss: m.valid_loss, valid_accuracy: m.valid_accuracy };
}

/** The round to export: the best `metric` (lowest loss, highest accuracy); on a tie the earlier round. */
export function selectRound(rounds: RoundMetrics[], metric: SelectMetric): RoundSelection | undefined {
  if (rounds.length === 0) return undefined;
  const better = (a: RoundMetrics, b: RoundMetrics) => (metric === 'valid_loss' ? a[metric] < b[metric] : a[metric] > b[metric]);
  const best = rounds.reduce((kept, r) => (better(r, kept) ? r : kept));
  return { metric, exported_round: best.round, rounds: rounds.map((r) => ({ ...r })) };
}

/** "exported round 2 of 3: valid_loss 0.6812 (last round 0.7034)". */
export function selectionText(s: RoundSelection): string {
  const exported = s.rounds.find((r) => r.round === s.exported_round)!;
  const last = s.rounds.at(-1)!;
  return `exported round ${s.exported_round} of ${last.round}: ${s.metric} ${exported[s.metric].toFixed(4)} (last round ${last[s.metric].toFixed(4)})`;
}
