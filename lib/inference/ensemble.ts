import type { Predictions } from './predict';
import { combineSwapTta } from './tta';

export interface EnsembleProbabilities {
  /** The rows, in the order every member scored them. */
  ids: string[];
  /** Each member's p(model_a wins), swap-TTA'd when its predictions carry the swapped pass. */
  members: Float64Array[];
  /** The mean of the members' probabilities: the fold ensemble's. */
  mean: Float64Array;
}

/**
 * Scores one table with every member of a fold ensemble, one after the other, and averages their
 * probabilities. Each engine scores a table in its own row order; the members must agree on it.
 */
export async function ensembleProbabilities<M extends { name: string }>(members: readonly M[], predict: (member: M) => Promise<Predictions>, table: string): Promise<EnsembleProbabilities> {
  let ids: string[] = [];
  const probabilities: Float64Array[] = [];
  for (const member of members) {
    const predictions = await predict(member);
    if (probabilities.length === 0) ids = predictions.ids;
    else if (predictions.ids.length !== ids.length || predictions.ids.some((id, i) => id !== ids[i])) {
      throw new Error(`${member.name} scored ${table} in another row order than ${members[0]!.name}`);
    }
    probabilities.push(predictions.pASwapped ? combineSwapTta(predictions.pA, predictions.pASwapped) : Float64Array.from(predictions.pA));
  }
  const sum = new Float64Array(ids.length);
  for (const p of probabilities) p.forEach((value, i) => (sum[i]! += value));
  return { ids, members: probabilities, mean: sum.map((value) => value / probabilities.length) };
}
