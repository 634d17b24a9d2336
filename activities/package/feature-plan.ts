import fs from 'node:fs';
import path from 'node:path';
import { featureColumns } from '../features/feature-definitions';
import { enabledFeatureDefinitions, featureQueries, featureTableSql, fieldFeaturesSql } from '../features/build-features';
import { TEXT_FIELDS } from '../features/measure-texts';
import { TEXT_COUNT_NAMES } from '../features/text-counts';
import { LABEL_CHARS } from '../features/text-languages';
import { languageNameTable } from '../../lib/language-id';
import type { RunConfig } from '../../lib/config/schema';

/** Stands for the scanned test rows (`read_parquet(…, file_row_number = true)`) in the plan's SQL. */
export const SCAN_PLACEHOLDER = '{{scan}}';

/**
 * `features/plan.json`: the very statements the features stage runs (activities/features), so that
 * the package's Python computes the features from the same SQL, never from a copy of it. Python only
 * fills `text_measure_values` (the counts named here and the similarities), as measure-texts.ts does,
 * and `text_languages` (each text's first `label_chars` characters), as text-languages.ts does.
 */
export function featurePlan(features: RunConfig['features'], maxTextChars: number) {
  const queries = featureQueries(features);
  const columns = featureColumns(enabledFeatureDefinitions(features));
  return {
    format: 'arena-feature-plan/1',
    count_names: [...TEXT_COUNT_NAMES],
    similarity: features.similarity,
    sentiment: features.sentiment,
    max_text_chars: maxTextChars,
    label_chars: LABEL_CHARS,
    field_sql: Object.fromEntries(TEXT_FIELDS.map((field) => [field, fieldFeaturesSql(field, SCAN_PLACEHOLDER, queries)])),
    table_sql: featureTableSql(SCAN_PLACEHOLDER, columns),
    columns: columns.map((c) => c.name),
  };
}

/**
 * Writes plan.json, language_names.json (CLD2's codes named as lib/language-id.ts names them: Python
 * has no ICU) and, when sentiment is on, the lexicon sentiment.sql scores with (the npm package's own files).
 */
export function writeFeaturePlan(dir: string, features: RunConfig['features'], maxTextChars: number): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'plan.json'), `${JSON.stringify(featurePlan(features, maxTextChars), null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'language_names.json'), `${JSON.stringify(languageNameTable(), null, 2)}\n`);
  if (!features.sentiment) return;
  // The same files sentiment-lexicon.ts loads into DuckDB.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const labels = require('sentiment/languages/en/labels.json') as Record<string, number>;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const negators = require('sentiment/languages/en/negators.json') as Record<string, number>;
  fs.writeFileSync(path.join(dir, 'sentiment_lexicon.json'), `${JSON.stringify({ labels, negators })}\n`);
}
