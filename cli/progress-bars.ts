import type { RunProgress, StageProgress } from '../lib/run-types';

const WIDTH = 24;

function bar(stage: StageProgress): string {
  const finished = stage.state === 'done' || stage.state === 'cached';
  const fraction = finished ? 1 : Math.min(1, (stage.executed + stage.cacheHits) / Math.max(1, stage.total));
  const filled = Math.round(fraction * WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
}

/** One line a stage: a bar, its state, attempts, cache hits and what it is doing now. */
export function renderProgress(progress: RunProgress): string {
  const nameWidth = Math.max(8, ...Object.keys(progress.stages).map((n) => n.length));
  const lines = Object.entries(progress.stages).map(([name, s]) => {
    const cached = s.cacheHits > 0 ? ` cache ${s.cacheHits}/${s.cacheHits + s.executed}` : '';
    const retries = s.attempts > s.executed + s.cacheHits + (s.state === 'running' ? 1 : 0) ? ` attempts ${s.attempts}` : '';
    const note = s.state === 'failed' || s.state === 'retrying' ? s.lastError ?? '' : s.detail;
    return `${name.padEnd(nameWidth)} ${bar(s)} ${s.state.padEnd(9)}${cached}${retries}${note ? `  ${note}` : ''}`;
  });
  const metric = progress.metric ? `\n${progress.metric.name}: ${progress.metric.value.toFixed(4)}` : '';
  return `${progress.pipeline} / ${progress.config}: ${progress.status}\n${lines.join('\n')}${metric}`;
}
