/**
 * Swap test-time augmentation: the model also judges the pair with A and B exchanged, and
 * p(A wins) = (p(A | A, B) + 1 − p(first wins | B, A)) / 2 cancels part of its position bias.
 */
export function combineSwapTta(pA: ArrayLike<number>, pASwapped: ArrayLike<number>): Float64Array {
  if (pA.length !== pASwapped.length) throw new Error(`combineSwapTta: ${pA.length} predictions but ${pASwapped.length} swapped ones`);
  const combined = new Float64Array(pA.length);
  for (let i = 0; i < pA.length; i++) combined[i] = (pA[i]! + 1 - pASwapped[i]!) / 2;
  return combined;
}

/** The decision rule shared by evaluation and submission: exactly 0.5 goes to model_a. */
export function predictedWinner(pA: number): 'model_a' | 'model_b' {
  return pA >= 0.5 ? 'model_a' : 'model_b';
}
