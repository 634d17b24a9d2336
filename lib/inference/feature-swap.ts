import { UserInputError } from '../errors';
import type { SwapRule } from '../feature-columns';

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

/** Swaps the first `rows` rows of a batch's features (row-major, `width` a row) into `out`; returns that part of `out`. */
export function swapFeatureRows(swap: FeatureSwap, features: Float32Array, out: Float32Array, rows: number, width: number): Float32Array {
  for (let r = 0; r < rows; r++) swap(features.subarray(r * width, (r + 1) * width), out.subarray(r * width, (r + 1) * width));
  return out.subarray(0, rows * width);
}
