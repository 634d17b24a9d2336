import type { RunProgress, StageProgress } from '../lib/run-types';

export function initialStageProgress(): StageProgress {
  return { state: 'pending', attempts: 0, systemFailures: 0, cacheHits: 0, executed: 0, total: 1, detail: '' };
}

/** The run's progress as Markdown, for the Temporal UI's "current details". */
export function progressMarkdown(progress: RunProgress): string {
  const rows = Object.entries(progress.stages).map(
    ([name, s]) => `| ${name} | ${s.state} | ${s.attempts} | ${s.cacheHits}/${s.cacheHits + s.executed} | ${s.detail || s.lastError || ''} |`,
  );
  const metric = progress.metric ? `\n\n**${progress.metric.name}**: ${progress.metric.value.toFixed(4)}` : '';
  return [
    `**${progress.pipeline}** on config **${progress.config}**: ${progress.status}`,
    '',
    '| stage | state | attempts | cached | detail |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n') + metric;
}
