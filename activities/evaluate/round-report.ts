import type { RoundSelection } from '../../lib/round-selection';
import { lineChart } from './svg-charts';

const COLORS = { merged: '#16a34a', exported: '#dc2626' };

/**
 * The report's view of round selection: the merged model's validation per round, the exported round
 * marked in the chart and the table. The metric's curve is what selection read; the other is shown too.
 */
export function roundSelectionSection(selection: RoundSelection | undefined): string {
  if (!selection) return '<p class="note">model.json has no per-round validation of the merged model (exported: the last round).</p>';
  const { metric, exported_round: exported, rounds } = selection;
  const chosen = rounds.find((r) => r.round === exported)!;
  const last = rounds.at(-1)!;
  const series = [
    { name: `${metric} of the merged model`, color: COLORS.merged, points: rounds.map((r): [number, number] => [r.round, r[metric]]) },
    { name: `exported: round ${exported}`, color: COLORS.exported, points: [[exported, chosen[metric]] as [number, number]] },
  ];
  const rows = rounds
    .map(
      (r) =>
        `<tr${r.round === exported ? ' class="exported"' : ''}><td>${r.round}</td><td>${r.step}</td><td>${r.valid_loss.toFixed(4)}</td><td>${(r.valid_accuracy * 100).toFixed(1)}%</td><td>${r.round === exported ? 'exported' : ''}</td></tr>`,
    )
    .join('');
  return (
    `<div class="charts"><div class="chart">${lineChart(`Merged model per round: ${metric}`, series, 'round', metric)}</div></div>` +
    `<table><thead><tr><th>round</th><th>step</th><th>validation loss</th><th>validation accuracy</th><th></th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">Exported: round ${exported} of ${last.round}, chosen by ${metric} (${chosen[metric].toFixed(4)}; last round ${last[metric].toFixed(4)}). ` +
    `Each round's merged model (with one shard, the round's checkpoint) is validated on the whole validation split.</p>`
  );
}
