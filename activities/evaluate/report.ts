import type { Metrics } from './evaluate';
import { escapeHtml } from './html-escape';
import { type GroupAccuracy, OTHER_GROUP } from './metrics';
import { MIN_GROUP_ROWS, type MetricSet } from './metric-set';
import { barChart, lineChart, reliabilityDiagram, type ReliabilityPoint } from './svg-charts';
import { trainingCurves } from './training-history';
import { roundSelectionSection } from './round-report';
import type { RoundSelection } from '../../lib/round-selection';

/** One self-contained HTML page: inline CSS and SVG only, so it opens anywhere, offline. */

const MAX_LANGUAGE_BARS = 20;
const COLORS = { model: '#2563eb', tta: '#ea580c', valid: '#16a34a' };

export const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1120px; color: #1f2937; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.banner { background: #b91c1c; color: #fff; font-weight: 700; font-size: 18px; padding: 12px 16px; border-radius: 6px; letter-spacing: 0.04em; }
.subtitle { color: #6b7280; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 5px 12px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f3f4f6; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { border: 1px solid #e5e7eb; border-radius: 6px; padding: 4px; flex: 1 1 340px; max-width: 540px; }
.chart svg { width: 100%; height: auto; }
.note { color: #6b7280; font-size: 13px; }
svg text { font-family: inherit; fill: #374151; }
svg .chart-title { font-size: 14px; font-weight: 600; }
svg .tick, svg .legend { font-size: 11px; } svg .axis-label { font-size: 12px; } svg .empty { font-size: 13px; fill: #9ca3af; }
svg .plot-area { fill: #fafafa; stroke: #d1d5db; } svg .grid { stroke: #e5e7eb; }
svg .bar { fill: ${COLORS.model}; } svg .reference { stroke: #111827; stroke-dasharray: 4 3; }
svg .diagonal { stroke: #9ca3af; stroke-dasharray: 5 4; }
tr.exported td { font-weight: 700; }
`;

export function formatNumber(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(1)}%`;
}

function headlineTable(metrics: Metrics): string {
  const sets: Array<[string, MetricSet | null]> = [['model', metrics], ['model + swap TTA', metrics.tta]];
  const columns = sets.filter(([, set]) => set !== null) as Array<[string, MetricSet]>;
  const row = (name: string, cell: (set: MetricSet) => string, baseline: string) =>
    `<tr><td>${escapeHtml(name)}</td>${columns.map(([, set]) => `<td>${cell(set)}</td>`).join('')}<td>${baseline}</td></tr>`;
  return (
    `<table><thead><tr><th>metric</th>${columns.map(([name]) => `<th>${escapeHtml(name)}</th>`).join('')}<th>longer response wins</th></tr></thead><tbody>` +
    row('accuracy', (s) => formatPercent(s.accuracy), formatPercent(metrics.baseline_longer.accuracy)) +
    row('log loss', (s) => formatNumber(s.log_loss), '–') +
    row('ROC AUC', (s) => formatNumber(s.roc_auc), '–') +
    row('expected calibration error (10 bins)', (s) => formatNumber(s.ece), '–') +
    `</tbody></table>`
  );
}

export function formatInterval(entry: GroupAccuracy | undefined): string {
  return entry ? `${formatPercent(entry.ci95[0])} – ${formatPercent(entry.ci95[1])}` : '–';
}

function groupTable(title: string, model: Record<string, GroupAccuracy>, tta: Record<string, GroupAccuracy> | undefined): string {
  const rows = Object.entries(model)
    .map(
      ([group, entry]) =>
        `<tr><td>${escapeHtml(group)}</td><td>${entry.rows}</td><td>${formatPercent(entry.accuracy)}</td><td>${formatInterval(entry)}</td>${tta ? `<td>${formatPercent(tta[group]?.accuracy)}</td>` : ''}</tr>`,
    )
    .join('');
  return `<table><thead><tr><th>${escapeHtml(title)}</th><th>rows</th><th>accuracy</th><th>95% interval</th>${tta ? '<th>with TTA</th>' : ''}</tr></thead><tbody>${rows}</tbody></table>
<p class="note">Groups with fewer than ${MIN_GROUP_ROWS} validation rows are pooled as "${OTHER_GROUP}"; intervals are Wilson score intervals.</p>`;
}

function reliabilityPoints(set: MetricSet): ReliabilityPoint[] {
  return set.calibration.filter((bin) => bin.rows > 0).map((bin) => ({ meanP: bin.mean_p!, observed: bin.observed!, rows: bin.rows }));
}

function trainingCharts(history: unknown): string {
  const curves = trainingCurves(history);
  if (curves.trainLoss.length + curves.validLoss.length + curves.validAccuracy.length === 0) {
    return '<p class="note">model.json has no training history to plot.</p>';
  }
  const lossSeries = [
    { name: 'validation loss', color: COLORS.valid, points: curves.validLoss },
    { name: 'training loss (epoch mean)', color: COLORS.model, points: curves.trainLossPerEpoch },
  ];
  return (
    `<div class="charts">` +
    `<div class="chart">${lineChart('Training loss per step', [{ name: 'training loss', color: COLORS.model, points: curves.trainLoss }], 'optimizer step', 'loss')}</div>` +
    `<div class="chart">${lineChart('Loss per epoch', lossSeries, 'epoch', 'loss')}</div>` +
    `<div class="chart">${lineChart('Validation accuracy per epoch', [{ name: 'validation accuracy', color: COLORS.valid, points: curves.validAccuracy }], 'epoch', 'accuracy')}</div>` +
    shardCharts(curves) +
    `</div>`
  );
}

const SHARD_COLORS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#ca8a04', '#4b5563'];

/** A sharded run's curves: each shard's training loss, and the loss per round over all shards. */
function shardCharts(curves: ReturnType<typeof trainingCurves>): string {
  if (curves.shardLoss.length === 0) return '';
  const series = curves.shardLoss.map(({ shard, points }, k) => ({ name: `shard ${shard}`, color: SHARD_COLORS[k % SHARD_COLORS.length]!, points }));
  const rounds = [{ name: 'all shards, per round', color: COLORS.model, points: curves.roundLoss }];
  return (
    `<div class="chart">${lineChart('Training loss per shard', series, 'optimizer step', 'loss')}</div>` +
    `<div class="chart">${lineChart('Merged training loss per round', rounds, 'last step of the round', 'loss')}</div>`
  );
}

export function syntheticBanner(synthetic: boolean): string {
  return synthetic ? '<div class="banner" role="alert">SYNTHETIC DATA — these rows were generated; the numbers say nothing about real arena judgements.</div>' : '';
}

export function renderReport(metrics: Metrics, history: unknown, selection?: RoundSelection): string {
  const languages = Object.entries(metrics.per_language);
  // Largest first (accuracyByGroup's order), "other" last.
  const languageBars = languages
    .slice(0, MAX_LANGUAGE_BARS)
    .map(([language, entry]) => ({ label: language, value: entry.accuracy, note: `(n=${entry.rows}, ±${((entry.ci95[1] - entry.ci95[0]) * 50).toFixed(0)} pts)` }));
  const calibrationSeries = [{ name: 'model', color: COLORS.model, points: reliabilityPoints(metrics) }];
  if (metrics.tta) calibrationSeries.push({ name: 'model + swap TTA', color: COLORS.tta, points: reliabilityPoints(metrics.tta) });
  const banner = syntheticBanner(metrics.synthetic);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`Evaluation report — ${metrics.model_kind}`)}</title>
<style>${STYLE}</style>
</head>
<body>
${banner}
<h1>Evaluation report</h1>
<p class="subtitle">model ${escapeHtml(metrics.model_kind)} · ${metrics.rows} validation rows</p>
<h2>Metrics</h2>
${headlineTable(metrics)}
<p class="note">A prediction is model_a when p(model_a) ≥ 0.5. Log loss clips probabilities to [1e-15, 1 − 1e-15]. ROC AUC gives tied scores their average rank.
Swap TTA averages p(A | A, B) and 1 − p(A | B, A). Baseline: ${escapeHtml(metrics.baseline_longer.rule)} (${metrics.baseline_longer.ties} tied rows).</p>
<h2>Training</h2>
${trainingCharts(history)}
<h2>Rounds and the exported checkpoint</h2>
${roundSelectionSection(selection)}
<h2>Accuracy per language and calibration</h2>
<div class="charts">
<div class="chart">${barChart(
    languages.length > MAX_LANGUAGE_BARS ? `Accuracy per language (${MAX_LANGUAGE_BARS} largest of ${languages.length})` : 'Accuracy per language',
    languageBars,
    { value: metrics.accuracy, name: 'overall' },
  )}</div>
<div class="chart">${reliabilityDiagram('Calibration (reliability diagram)', calibrationSeries)}</div>
</div>
<p class="note">Reliability diagram: each point is one of 10 equal-width bins of p(model_a), its size the share of rows in it; the dashed diagonal is perfect calibration.</p>
<h2>Accuracy per source</h2>
${groupTable('source', metrics.per_source, metrics.tta?.per_source)}
<h2>Accuracy per language</h2>
${groupTable('language', metrics.per_language, metrics.tta?.per_language)}
</body>
</html>
`;
}
