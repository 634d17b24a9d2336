import type { Winner } from './validate-submission';

/** RFC 4180: a field holding a comma, quote or line break is quoted, its quotes doubled. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The competition's format: header `id,winner`, one line per test row. */
export function submissionCsv(ids: readonly string[], winners: readonly Winner[]): string {
  const lines = ['id,winner'];
  ids.forEach((id, i) => lines.push(`${csvField(id)},${winners[i]}`));
  return `${lines.join('\n')}\n`;
}
