import { escapeHtml } from '../evaluate/html-escape';
import { formatInterval, formatNumber, formatPercent, STYLE, syntheticBanner } from '../evaluate/report';
import type { EnsembleMetrics, MemberMetrics } from './ensemble';

/** The fold ensemble's report: every member and the ensemble side by side, then the ensemble per language. */
export function renderEnsembleReport(metrics: EnsembleMetrics): string {
  const row = (m: MemberMetrics, className = '') =>
    `<tr${className ? ` class="${className}"` : ''}><td>${escapeHtml(m.name)}</td><td>${formatPercent(m.accuracy)}</td><td>${formatPercent(m.accuracy_ci95[0])} – ${formatPercent(m.accuracy_ci95[1])}</td>` +
    `<td>${formatNumber(m.log_loss)}</td><td>${formatNumber(m.roc_auc)}</td><td>${formatNumber(m.ece)}</td></tr>`;
  const languages = Object.entries(metrics.ensemble.per_language)
    .map(([language, entry]) => `<tr><td>${escapeHtml(language)}</td><td>${entry.rows}</td><td>${formatPercent(entry.accuracy)}</td><td>${formatInterval(entry)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fold ensemble report</title>
<style>${STYLE}</style>
</head>
<body>
${syntheticBanner(metrics.synthetic)}
<h1>Fold ensemble report</h1>
<p class="subtitle">${metrics.members.length} fold models · ${metrics.rows} validation rows · ${metrics.tta ? 'each with swap TTA' : 'no TTA'}</p>
<h2>Members and ensemble</h2>
<table><thead><tr><th>model</th><th>accuracy</th><th>95% interval</th><th>log loss</th><th>ROC AUC</th><th>ECE (10 bins)</th></tr></thead><tbody>
${metrics.members.map((m) => row(m)).join('\n')}
${row(metrics.ensemble, 'exported')}
</tbody></table>
<p class="note">The ensemble averages the members' p(model_a)${metrics.tta ? ', each first averaged with 1 − p(A | B, A) (swap TTA)' : ''}. A prediction is model_a when p ≥ 0.5; log loss clips to [1e-15, 1 − 1e-15]; intervals are Wilson score intervals.</p>
<h2>Ensemble accuracy per language</h2>
<table><thead><tr><th>language</th><th>rows</th><th>accuracy</th><th>95% interval</th></tr></thead><tbody>${languages}</tbody></table>
</body>
</html>
`;
}
