import type { DuckDBConnection } from '@duckdb/node-api';
import { loadSql, queryRows } from '../../lib/duckdb';
import type { InputFile, SourceName } from './read-source';
import { codeFile } from '../../lib/stage-contract/code-file';

/** The summary `ingest_report.json` holds; plain JSON (type aliases, so it fits a stage summary). */

export const DROP_REASONS = [
  'tie',
  'missing_label',
  'empty_prompt',
  'empty_response',
  'duplicate_within_source',
  'duplicate_across_sources',
  'duplicate_swapped',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounts = { [reason in DropReason]: number };

export type LengthQuantiles = { p50: number; p90: number; p99: number };

/** Where rows' language labels came from: the file's `language` column, or language ID (lib/language-id.ts). */
export type LanguageLabels = { given: number; detected: number };

export type SourceReport = {
  path: string;
  format: InputFile['format'];
  source: SourceName;
  rows_in: number;
  rows_out: number;
  dropped: DropCounts;
  /** Rows with a text cut to `max_text_chars` (kept or dropped later). */
  truncated_rows: number;
  /** Kept rows per language, most frequent first. */
  languages: { [language: string]: number };
  /** Of the kept rows. */
  language_labels: LanguageLabels;
};

export type IngestReport = {
  /** True when a training source is the generated synthetic dataset. */
  synthetic: boolean;
  turn_separator: string;
  /** `data.max_text_chars`: longer texts were cut to it. */
  max_text_chars: number;
  rows_in: number;
  rows_out: number;
  dropped: DropCounts;
  /** Training rows with a text cut to `max_text_chars`, over all sources. */
  truncated_rows: number;
  /** Removed duplicates whose label disagrees with the kept row's (after undoing a swap). */
  duplicates_with_conflicting_label: number;
  sources: SourceReport[];
  label_balance: { model_a: number; model_b: number };
  languages: { [language: string]: number };
  /** Of the kept rows, over all sources. */
  language_labels: LanguageLabels;
  /** Characters (code points) of the kept rows; `response` pools response_a and response_b. */
  text_length_chars: { prompt: LengthQuantiles; response: LengthQuantiles };
  test: {
    path: string;
    format: InputFile['format'];
    source: SourceName;
    rows: number;
    truncated_rows: number;
    languages: { [language: string]: number };
    language_labels: LanguageLabels;
  } | null;
};


function noDrops(): DropCounts {
  return Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as DropCounts;
}

function quantiles(values: unknown): LengthQuantiles {
  const [p50, p90, p99] = ((values as unknown[] | null) ?? [0, 0, 0]).map((value) => Number(value ?? 0));
  return { p50: p50!, p90: p90!, p99: p99! };
}

/** Builds the report from the `classified` and `staged_test` tables. */
export async function buildReport(
  connection: DuckDBConnection,
  train: { input: InputFile; source: SourceName }[],
  test: { input: InputFile; source: SourceName } | null,
  turnSeparator: string,
  maxTextChars: number,
): Promise<IngestReport> {
  const sources: SourceReport[] = train.map(({ input, source }) => ({
    path: input.path,
    format: input.format,
    source,
    rows_in: 0,
    rows_out: 0,
    dropped: noDrops(),
    truncated_rows: 0,
    languages: {},
    language_labels: { given: 0, detected: 0 },
  }));
  const dropped = noDrops();
  for (const row of await queryRows(connection, loadSql(codeFile(__dirname, 'report-drops.sql')))) {
    const report = sources[Number(row.src_idx)]!;
    const n = Number(row.n);
    report.rows_in += n;
    if (row.outcome === 'kept') report.rows_out += n;
    else {
      report.dropped[row.outcome as DropReason] += n;
      dropped[row.outcome as DropReason] += n;
    }
  }

  const labelBalance = { model_a: 0, model_b: 0 };
  const languages: { [language: string]: number } = {};
  const testLanguages: { [language: string]: number } = {};
  let conflicts = 0;
  for (const row of await queryRows(connection, loadSql(codeFile(__dirname, 'report-kept.sql')))) {
    const n = Number(row.n);
    if (row.kind === 'label') labelBalance[row.key as 'model_a' | 'model_b'] = n;
    else if (row.kind === 'language') languages[String(row.key)] = n;
    else if (row.kind === 'test_language') testLanguages[String(row.key)] = n;
    else conflicts = n;
  }

  const testLabels: LanguageLabels = { given: 0, detected: 0 };
  for (const row of await queryRows(connection, loadSql(codeFile(__dirname, 'report-languages.sql')))) {
    const [n, detected] = [Number(row.n), Number(row.detected)];
    const labels = row.src_idx === null ? testLabels : sources[Number(row.src_idx)]!.language_labels;
    if (row.src_idx !== null) sources[Number(row.src_idx)]!.languages[String(row.language)] = n;
    labels.detected += detected;
    labels.given += n - detected;
  }

  let testTruncated = 0;
  for (const row of await queryRows(connection, loadSql(codeFile(__dirname, 'report-truncated.sql')))) {
    if (row.src_idx === null) testTruncated = Number(row.n);
    else sources[Number(row.src_idx)]!.truncated_rows = Number(row.n);
  }

  const [lengths] = await queryRows(connection, loadSql(codeFile(__dirname, 'report-lengths.sql')));
  return {
    synthetic: train.some(({ source }) => source === 'synthetic'),
    turn_separator: turnSeparator,
    max_text_chars: maxTextChars,
    rows_in: sources.reduce((sum, source) => sum + source.rows_in, 0),
    rows_out: sources.reduce((sum, source) => sum + source.rows_out, 0),
    dropped,
    truncated_rows: sources.reduce((sum, source) => sum + source.truncated_rows, 0),
    duplicates_with_conflicting_label: conflicts,
    sources,
    label_balance: labelBalance,
    languages,
    language_labels: {
      given: sources.reduce((sum, source) => sum + source.language_labels.given, 0),
      detected: sources.reduce((sum, source) => sum + source.language_labels.detected, 0),
    },
    text_length_chars: { prompt: quantiles(lengths?.prompt), response: quantiles(lengths?.response) },
    test: test && {
      path: test.input.path,
      format: test.input.format,
      source: test.source,
      rows: Object.values(testLanguages).reduce((sum, n) => sum + n, 0),
      truncated_rows: testTruncated,
      languages: testLanguages,
      language_labels: testLabels,
    },
  };
}
