import fs from 'node:fs';
import { z } from 'zod';
import { ident } from './duckdb';
import { UserInputError } from './errors';
import { formatPath, issueKeyPath } from './yaml-source';

/**
 * `feature_columns.json`: the model's feature inputs in order, each with how an A/B swap changes
 * it. This module is its only reader: the pipeline's stages, inference and the CPU trainer all
 * get the same checks and the same messages.
 */

const SWAP_RULES = 'must be {"with": <column>}, "negate", "reciprocal" or "keep"';

const swapRuleSchema = z.union([z.strictObject({ with: z.string().min(1) }), z.enum(['negate', 'reciprocal', 'keep'])], {
  error: (issue) => `${SWAP_RULES}, not ${JSON.stringify(issue.input)}`,
});

const featureColumnSchema = z.strictObject({
  name: z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string'),
  swap: swapRuleSchema,
});

/** Names are unique, and every `with` pair names each other: swapping twice gives the row back. */
export const featureColumnsFileSchema = z
  .strictObject({ columns: z.array(featureColumnSchema, { error: 'must be a non-empty list' }).min(1, 'must be a non-empty list') })
  .superRefine(({ columns }, ctx) => {
    const byName = new Map<string, FeatureColumn>();
    columns.forEach((column, i) => {
      if (byName.has(column.name)) ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `'${column.name}' is listed twice` });
      byName.set(column.name, column);
    });
    columns.forEach((column, i) => {
      if (typeof column.swap !== 'object') return;
      const twinRule = byName.get(column.swap.with)?.swap;
      if (column.swap.with === column.name || typeof twinRule !== 'object' || twinRule.with !== column.name) {
        const message = `'${column.name}' swaps with '${column.swap.with}', which must be another listed column that swaps back with it`;
        ctx.addIssue({ code: 'custom', path: ['columns', i, 'swap'], message });
      }
    });
  });

export type SwapRule = z.infer<typeof swapRuleSchema>;
export type FeatureColumn = z.infer<typeof featureColumnSchema>;

/** Reads and checks the file; the first problem is a UserInputError naming the file and the key. */
export function readFeatureColumns(file: string): FeatureColumn[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserInputError(`${file}: cannot read feature columns: ${(error as Error).message}`);
  }
  const parsed = featureColumnsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserInputError(`${file}: key '${formatPath(issueKeyPath(issue)) || '(root)'}': ${issue.message}`);
  }
  return parsed.data.columns;
}

/** The file's text for `columns` (extra fields dropped); checked by the same schema, so a bad rule never reaches a reader. */
export function featureColumnsJson(columns: readonly FeatureColumn[]): string {
  const file = featureColumnsFileSchema.parse({ columns: columns.map(({ name, swap }) => ({ name, swap })) });
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** The feature names in model input order, for code that only lays out feature vectors. */
export function readFeatureNames(file: string): string[] {
  return readFeatureColumns(file).map((column) => column.name);
}

/** The rules by column name, for code that swaps feature vectors in memory. */
export function readSwapRules(file: string): Map<string, SwapRule> {
  return new Map(readFeatureColumns(file).map((column) => [column.name, column.swap]));
}

/**
 * The SQL expression of a feature in the A/B-swapped copy of its row. A reciprocal uses IEEE
 * division: 1/0 is +inf and 1/inf is 0, so swapping twice gives the row back.
 */
export function swappedFeatureSql(column: FeatureColumn): string {
  const name = ident(column.name).text;
  const swap = column.swap;
  if (typeof swap === 'object') return ident(swap.with).text;
  if (swap === 'negate') return `-${name}`;
  if (swap === 'reciprocal') return `1.0::DOUBLE / ${name}`;
  return name;
}
