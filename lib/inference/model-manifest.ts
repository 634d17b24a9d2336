import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { UserInputError } from '../errors';

/**
 * The part of an exported model's `model.json` that inference relies on. Other keys (the trainer's
 * own bookkeeping) pass through untouched; `history` is kept opaque for the report to interpret.
 */
const manifestSchema = z.looseObject({
  kind: z.string().min(1),
  text_hashing: z.looseObject({ scheme: z.string(), text_hash_dim: z.int().positive() }),
  feature_columns: z.array(z.string().min(1)),
  history: z.unknown().optional(),
});

export type ModelManifest = z.infer<typeof manifestSchema>;

export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'model.json';

export function readModelManifest(modelDir: string): ModelManifest {
  const file = path.join(modelDir, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new UserInputError(`${file}: not found (the model folder must hold ${MODEL_FILE} and ${MANIFEST_FILE})`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserInputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserInputError(`${file}: key ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const duplicate = parsed.data.feature_columns.find((name, i, all) => all.indexOf(name) !== i);
  if (duplicate !== undefined) throw new UserInputError(`${file}: key feature_columns: "${duplicate}" is listed twice`);
  return parsed.data;
}
