import { UserInputError } from '../../lib/errors';

export const WINNERS = ['model_a', 'model_b'] as const;
export type Winner = (typeof WINNERS)[number];

/**
 * The competition rejects a submission that misses a test id, repeats one, adds one or holds any
 * winner other than model_a/model_b; this finds the first such fault before anything is written.
 */
export function validateSubmission(ids: readonly string[], predictions: readonly string[], testIds: readonly string[]): void {
  if (ids.length !== predictions.length) {
    throw new UserInputError(`submission.csv: ${ids.length} ids but ${predictions.length} predictions`);
  }
  predictions.forEach((winner, i) => {
    if (!(WINNERS as readonly string[]).includes(winner)) {
      throw new UserInputError(`submission.csv: id "${ids[i]}": winner ${JSON.stringify(winner)} is not "model_a" or "model_b"`);
    }
  });
  const expected = new Set(testIds);
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new UserInputError(`submission.csv: id "${id}" appears more than once`);
    seen.add(id);
    if (!expected.has(id)) throw new UserInputError(`submission.csv: id "${id}" is not a test id`);
  }
  const missing = testIds.filter((id) => !seen.has(id));
  if (missing.length > 0) {
    throw new UserInputError(`submission.csv: test id "${missing[0]}" has no prediction (${missing.length} of ${testIds.length} test ids missing)`);
  }
}
