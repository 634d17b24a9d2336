import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { UserInputError } from '../errors';
import { roundSelectionSchema } from '../round-selection';

export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'model.json';
/** The GPU trainer's exports; every other kind is a hashed-text model of the cpu trainer's layout. */
export const GEMMA2_KIND = 'gemma2_qlora';

/**
 * What every exported model's `model.json` has, whatever its kind; `history` stays opaque for the
 * report; `selection` (written by the export stage) is every round's merged-model validation.
 */
const headerSchema = z.looseObject({
  kind: z.string().min(1),
  feature_columns: z.array(z.string().min(1)),
  history: z.unknown().optional(),
  selection: roundSelectionSchema.optional(),
});

/** The hashed-text models' `model.json`; other keys (the trainer's own bookkeeping) pass through untouched. */
const manifestSchema = headerSchema.extend({
  text_hashing: z.looseObject({ scheme: z.string(), text_hash_dim: z.int().positive() }),
});

export type ModelHeader = z.infer<typeof headerSchema>;
export type ModelManifest = z.infer<typeof manifestSchema>;

/** Parses `<modelDir>/model.json` against `schema`; a failure names the file and the key. */
export function parseManifest<T extends z.ZodType<ModelHeader>>(modelDir: string, schema: T): z.infer<T> {
  const file = path.join(modelDir, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new UserInputError(`${file}: not found (the model folder must hold ${MODEL_FILE} and ${MANIFEST_FILE})`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserInputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserInputError(`${file}: key ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const duplicate = parsed.data.feature_columns.find((name, i, all) => all.indexOf(name) !== i);
  if (duplicate !== undefined) throw new UserInputError(`${file}: key feature_columns: "${duplicate}" is listed twice`);
  return parsed.data;
}

/** Kind, feature columns and training history: enough to pick the inference path and write the report. */
export function readModelHeader(modelDir: string): ModelHeader {
  return parseManifest(modelDir, headerSchema);
}

export function readModelManifest(modelDir: string): ModelManifest {
  return parseManifest(modelDir, manifestSchema);
}
