import { escapeHtml } from './html-escape';

/** Small inline-SVG charts for the report: no scripts, no external resources. */

export interface Series {
  name: string;
  color: string;
  points: ReadonlyArray<readonly [number, number]>;
}

const WIDTH = 520;
const HEIGHT = 300;
const MARGIN = { left: 56, right: 16, top: 46, bottom: 44 };

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const rough = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatTick(value: number): string {
  return Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(3)));
}

function frame(title: string, body: string, legend: ReadonlyArray<{ name: string; color: string }> = []): string {
  const legendSvg = legend
    .map((entry, i) => {
      const x = MARGIN.left + 8 + i * 150;
      return `<rect x="${x}" y="${MARGIN.top - 14}" width="12" height="3" fill="${entry.color}"/><text x="${x + 16}" y="${MARGIN.top - 9}" class="legend">${escapeHtml(entry.name)}</text>`;
    })
    .join('');
  return (
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">` +
    `<text x="${WIDTH / 2}" y="20" class="chart-title" text-anchor="middle">${escapeHtml(title)}</text>${body}${legendSvg}</svg>`
  );
}

interface Axes {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string;
}

function axes(xRange: [number, number], yRange: [number, number], xLabel: string, yLabel: string): Axes {
  const [x0, x1] = xRange[1] > xRange[0] ? xRange : [xRange[0] - 1, xRange[0] + 1];
  const [y0, y1] = yRange[1] > yRange[0] ? yRange : [yRange[0] - 1, yRange[0] + 1];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + ((v - x0) / (x1 - x0)) * plotW;
  const y = (v: number) => MARGIN.top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const bottom = MARGIN.top + plotH;
  let svg = `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" class="plot-area"/>`;
  for (const t of niceTicks(y0, y1)) {
    svg += `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/>`;
    svg += `<text x="${MARGIN.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" class="tick">${formatTick(t)}</text>`;
  }
  for (const t of niceTicks(x0, x1)) {
    svg += `<text x="${x(t).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" class="tick">${formatTick(t)}</text>`;
  }
  svg += `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" class="axis-label">${escapeHtml(xLabel)}</text>`;
  svg += `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeHtml(yLabel)}</text>`;
  return { x, y, svg };
}

function extent(values: number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

export function lineChart(title: string, series: readonly Series[], xLabel: string, yLabel: string): string {
  const drawn = series.filter((s) => s.points.length > 0);
  const all = drawn.flatMap((s) => s.points);
  if (all.length === 0) return frame(title, `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" class="empty">no data</text>`);
  const [ylo, yhi] = extent(all.map((p) => p[1]));
  const pad = (yhi - ylo) * 0.05;
  const ax = axes(extent(all.map((p) => p[0])), [ylo - pad, yhi + pad], xLabel, yLabel);
  const lines = drawn
    .map((s) => {
      const coords = s.points.map(([px, py]) => `${ax.x(px).toFixed(1)},${ax.y(py).toFixed(1)}`);
      const dots = s.points.length <= 40 ? coords.map((c) => `<circle cx="${c.split(',')[0]}" cy="${c.split(',')[1]}" r="3" fill="${s.color}"/>`).join('') : '';
      return `<polyline points="${coords.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.8"/>${dots}`;
    })
    .join('');
  return frame(title, ax.svg + lines, drawn.length > 1 ? drawn : []);
}

export interface Bar {
  label: string;
  value: number;
  /** Shown after the value, e.g. the row count. */
  note: string;
}

/** Horizontal bars on a 0..1 scale, one per row, with a reference line (e.g. the overall accuracy). */
export function barChart(title: string, bars: readonly Bar[], reference?: { value: number; name: string }): string {
  const rowH = 22;
  const left = 150;
  const right = 130;
  const height = MARGIN.top + 10 + bars.length * rowH + 24;
  const plotW = WIDTH - left - right;
  const x = (v: number) => left + Math.max(0, Math.min(1, v)) * plotW;
  let body = '';
  bars.forEach((bar, i) => {
    const top = MARGIN.top + 10 + i * rowH;
    body += `<text x="${left - 6}" y="${top + 14}" text-anchor="end" class="tick">${escapeHtml(bar.label)}</text>`;
    body += `<rect x="${left}" y="${top + 3}" width="${(x(bar.value) - left).toFixed(1)}" height="${rowH - 6}" class="bar"/>`;
    body += `<text x="${x(bar.value) + 4}" y="${top + 14}" class="tick">${(bar.value * 100).toFixed(1)}% ${escapeHtml(bar.note)}</text>`;
  });
  const bottom = MARGIN.top + 10 + bars.length * rowH;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) body += `<text x="${x(t)}" y="${bottom + 16}" text-anchor="middle" class="tick">${t * 100}%</text>`;
  if (reference !== undefined) {
    body += `<line x1="${x(reference.value)}" x2="${x(reference.value)}" y1="${MARGIN.top + 4}" y2="${bottom}" class="reference"/>`;
    body += `<text x="${x(reference.value)}" y="${MARGIN.top}" text-anchor="middle" class="tick">${escapeHtml(reference.name)}</text>`;
  }
  return (
    `<svg viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(title)}">` +
    `<text x="${WIDTH / 2}" y="20" class="chart-title" text-anchor="middle">${escapeHtml(title)}</text>${body}</svg>`
  );
}

export interface ReliabilityPoint {
  meanP: number;
  observed: number;
  rows: number;
}

/** Observed win rate against mean predicted probability per bin; the diagonal is perfect calibration. */
export function reliabilityDiagram(title: string, series: ReadonlyArray<{ name: string; color: string; points: readonly ReliabilityPoint[] }>): string {
  const ax = axes([0, 1], [0, 1], 'mean predicted p(model_a)', 'observed model_a win rate');
  let body = ax.svg + `<line x1="${ax.x(0)}" y1="${ax.y(0)}" x2="${ax.x(1)}" y2="${ax.y(1)}" class="diagonal"/>`;
  for (const s of series) {
    const total = s.points.reduce((sum, p) => sum + p.rows, 0) || 1;
    const coords = s.points.map((p) => `${ax.x(p.meanP).toFixed(1)},${ax.y(p.observed).toFixed(1)}`);
    body += `<polyline points="${coords.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`;
    body += s.points
      .map((p, i) => {
        const [cx, cy] = coords[i]!.split(',');
        const r = (2.5 + 7 * Math.sqrt(p.rows / total)).toFixed(1);
        return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${s.color}" fill-opacity="0.55"><title>${escapeHtml(`${s.name}: ${p.rows} rows, mean p ${p.meanP.toFixed(3)}, observed ${p.observed.toFixed(3)}`)}</title></circle>`;
      })
      .join('');
  }
  return frame(title, body, series);
}
