import * as fs from 'node:fs';
import { z } from 'zod';
import { UserInputError } from '../errors';

/** How a feature changes when responses A and B trade places (`feature_columns.json`). */
const swapRuleSchema = z.union([
  z.strictObject({ with: z.string().min(1) }),
  z.enum(['negate', 'reciprocal', 'keep']),
]);

const featureColumnsSchema = z.looseObject({
  columns: z.array(z.looseObject({ name: z.string().min(1), swap: swapRuleSchema })),
});

export type SwapRule = z.infer<typeof swapRuleSchema>;

export function readSwapRules(file: string): Map<string, SwapRule> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserInputError(`${file}: cannot read feature columns (${(err as Error).message})`);
  }
  const parsed = featureColumnsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserInputError(`${file}: key ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const rules = new Map<string, SwapRule>();
  for (const column of parsed.data.columns) {
    if (rules.has(column.name)) throw new UserInputError(`${file}: column "${column.name}" is listed twice`);
    rules.set(column.name, column.swap);
  }
  return rules;
}

/**
 * Writes the A/B-swapped version of one row of features (in model input order) into `out`, exactly
 * as the augment stage swaps training rows (a reciprocal is 1 / x there too).
 */
export type FeatureSwap = (row: Float32Array, out: Float32Array) => void;

export function buildFeatureSwap(featureNames: readonly string[], rules: Map<string, SwapRule>, rulesFile: string): FeatureSwap {
  const position = new Map(featureNames.map((name, i) => [name, i]));
  const source = new Int32Array(featureNames.length);
  const op = new Uint8Array(featureNames.length); // 0 copy, 1 negate, 2 reciprocal
  featureNames.forEach((name, i) => {
    const rule = rules.get(name);
    if (rule === undefined) throw new UserInputError(`${rulesFile}: model feature column "${name}" has no swap rule`);
    if (typeof rule === 'object') {
      const twin = position.get(rule.with);
      if (twin === undefined) throw new UserInputError(`${rulesFile}: column "${name}" swaps with "${rule.with}", which is not a model feature column`);
      const twinRule = rules.get(rule.with);
      if (typeof twinRule !== 'object' || twinRule.with !== name) {
        throw new UserInputError(`${rulesFile}: column "${name}" swaps with "${rule.with}", but "${rule.with}" does not swap back with "${name}"`);
      }
      source[i] = twin;
    } else {
      source[i] = i;
      op[i] = rule === 'negate' ? 1 : rule === 'reciprocal' ? 2 : 0;
    }
  });
  return (row, out) => {
    for (let i = 0; i < source.length; i++) {
      const value = row[source[i]!]!;
      out[i] = op[i] === 0 ? value : op[i] === 1 ? -value : 1 / value;
    }
  };
}
