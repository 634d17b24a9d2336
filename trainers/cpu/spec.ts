import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { UserInputError } from '../../lib/errors';
import { type ExportSpec, type MergeSpec, type TrainSpec, trainerSpecSchemas } from '../../lib/trainer-spec';

export type { ExportSpec, MergeSpec, TrainSpec };

/** The verbs of docs/trainer-protocol.md this trainer implements (no `predict`: its model runs as ONNX). */
export type Verb = 'train' | 'merge' | 'export';

function describeIssues(file: string, error: z.ZodError): string {
  const first = error.issues[0]!;
  const key = first.path.map(String).join('.');
  return `${file}: ${key || '(root)'}: ${first.message}`;
}

/** Reads and validates spec.json for `verb` against lib/trainer-spec.ts; a spec or config the trainer cannot use is a UserInputError. */
export function readSpec(verb: 'train', file: string): TrainSpec;
export function readSpec(verb: 'merge', file: string): MergeSpec;
export function readSpec(verb: 'export', file: string): ExportSpec;
export function readSpec(verb: Verb, file: string): TrainSpec | MergeSpec | ExportSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserInputError(`${file}: cannot read the spec: ${(err as Error).message}`);
  }
  const spec = trainerSpecSchemas[verb].safeParse(raw);
  if (!spec.success) throw new UserInputError(describeIssues(file, spec.error));
  if (spec.data.config.model.kind !== 'cpu_mlp') {
    throw new UserInputError(`${file}: config.model.kind: the built-in CPU trainer trains cpu_mlp, not ${spec.data.config.model.kind}`);
  }
  return spec.data;
}
