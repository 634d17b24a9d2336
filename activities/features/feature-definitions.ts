import type { FeatureColumn } from '../../lib/feature-columns';

/**
 * Feature definitions live in the SQL that computes them: every select-list line tagged
 * `-- feature` (or `-- feature: signed`) is one feature. The model's column list and the A/B swap
 * rules are derived from those lines here, so adding a feature is adding one SQL line.
 */

/** `text`: computed for the prompt and both responses; `response`: for the two responses only. */
export type FeatureScope = 'text' | 'response';

export interface FeatureDefinition {
  name: string;
  scope: FeatureScope;
  /** Can be negative: gets an A-B difference but no (a+1)/(b+1) ratio, which would divide by zero. */
  signed: boolean;
}

/** A `feature_columns.json` entry plus how the features stage computes it. */
export interface ComputedFeatureColumn extends FeatureColumn {
  /** The column's value over the per-text feature tables aliased p (prompt), a and b (responses). */
  expression: string;
}

const FEATURE_LINE = /\bAS\s+([a-z_][a-z0-9_]*)\s*,\s*--\s*feature\b(?:\s*:\s*(\w+))?\s*$/i;

/** The features a SQL file defines, in file order. */
export function parseFeatureDefinitions(sql: string, scope: FeatureScope, source = 'feature SQL'): FeatureDefinition[] {
  const definitions: FeatureDefinition[] = [];
  sql.split('\n').forEach((line, index) => {
    const match = FEATURE_LINE.exec(line);
    if (!match) return;
    const [, name, flag] = match;
    if (flag !== undefined && flag !== 'signed') {
      throw new Error(`${source} line ${index + 1}: unknown feature flag '${flag}' (only 'signed')`);
    }
    definitions.push({ name, scope, signed: flag === 'signed' });
  });
  return definitions;
}

/**
 * The model's feature columns in input order: prompt features (keep), response A and B features
 * (each swaps with its twin), A-B differences (negate), (A+1)/(B+1) ratios of non-negative
 * features (reciprocal).
 */
export function featureColumns(definitions: readonly FeatureDefinition[]): ComputedFeatureColumn[] {
  const seen = new Set<string>();
  for (const { name } of definitions) {
    if (seen.has(name)) throw new Error(`feature '${name}' is defined twice`);
    seen.add(name);
  }
  const value = (alias: string, name: string) => `${alias}.${name}::DOUBLE`;
  return [
    ...definitions
      .filter((d) => d.scope === 'text')
      .map((d): ComputedFeatureColumn => ({ name: `prompt_${d.name}`, swap: 'keep', expression: value('p', d.name) })),
    ...definitions.map((d): ComputedFeatureColumn => ({
      name: `response_a_${d.name}`,
      swap: { with: `response_b_${d.name}` },
      expression: value('a', d.name),
    })),
    ...definitions.map((d): ComputedFeatureColumn => ({
      name: `response_b_${d.name}`,
      swap: { with: `response_a_${d.name}` },
      expression: value('b', d.name),
    })),
    ...definitions.map((d): ComputedFeatureColumn => ({
      name: `diff_${d.name}`,
      swap: 'negate',
      expression: `${value('a', d.name)} - ${value('b', d.name)}`,
    })),
    ...definitions
      .filter((d) => !d.signed)
      .map((d): ComputedFeatureColumn => ({
        name: `ratio_${d.name}`,
        swap: 'reciprocal',
        expression: `(${value('a', d.name)} + 1) / (${value('b', d.name)} + 1)`,
      })),
  ];
}
