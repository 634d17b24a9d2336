import { InferenceSession } from 'onnxruntime-node';
import { UserInputError } from '../errors';

/**
 * ORT's worker threads busy-wait after each run by default; between runs the main thread is preparing
 * the next batch (hashing or tokenizing), and on a small machine the spinning steals its core
 * (2-4x slower at batch 64).
 */
const SESSION_OPTIONS: InferenceSession.SessionOptions = { extra: { session: { intra_op: { allow_spinning: '0' } } } };

/**
 * Opens an exported model and checks it has the named inputs (with the given width on axis 1, where
 * one is given) and the `p_a` output. External weights are read from beside the model file.
 */
export async function openSession(modelFile: string, inputs: Record<string, number | null>): Promise<InferenceSession> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(modelFile, SESSION_OPTIONS);
  } catch (err) {
    throw new UserInputError(`${modelFile}: cannot load as an ONNX model (${(err as Error).message})`);
  }
  try {
    for (const [name, width] of Object.entries(inputs)) {
      const input = session.inputMetadata.find((meta) => meta.name === name);
      if (input === undefined) throw new UserInputError(`${modelFile}: no input named "${name}" (inputs: ${session.inputNames.join(', ')})`);
      const declared = input.isTensor ? input.shape[1] : undefined;
      if (width !== null && typeof declared === 'number' && declared !== width) {
        throw new UserInputError(`${modelFile}: input "${name}" has width ${declared}, but model.json implies ${width}`);
      }
    }
    if (!session.outputNames.includes('p_a')) throw new UserInputError(`${modelFile}: no output named "p_a" (outputs: ${session.outputNames.join(', ')})`);
  } catch (err) {
    await session.release();
    throw err;
  }
  return session;
}

/** Appends one batch's `p_a` to `into`, refusing a wrong count or a value that is not a probability. */
export function appendProbabilities(into: number[], p: Float32Array, ids: readonly string[], modelFile: string): void {
  if (p.length !== ids.length) throw new UserInputError(`${modelFile}: output "p_a" has ${p.length} values for a batch of ${ids.length} rows`);
  for (let r = 0; r < ids.length; r++) {
    const value = p[r]!;
    if (!(value >= 0 && value <= 1)) throw new UserInputError(`${modelFile}: output p_a is ${value} for row id "${ids[r]}", not a probability`);
    into.push(value);
  }
}
