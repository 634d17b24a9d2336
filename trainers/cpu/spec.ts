import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { trainerConfigSchema, type TrainerConfig } from '../../lib/config/schema';
import { UserInputError } from '../../lib/errors';

/** The spec.json of docs/trainer-protocol.md, one shape per verb. */

const trainSpecSchema = z.object({
  config: z.looseObject({}),
  train_data: z.string().min(1),
  valid_data: z.string().min(1),
  feature_columns: z.string().min(1),
  shard: z.object({ index: z.int().min(0), count: z.int().positive() }).refine((s) => s.index < s.count, 'shard.index must be below shard.count'),
  round: z
    .object({ index: z.int().min(0), epoch_start: z.int().min(0), epoch_end: z.int().positive() })
    .refine((r) => r.epoch_start < r.epoch_end, 'round.epoch_start must be below round.epoch_end'),
  init_from: z.string().min(1).nullable().default(null),
  resume_from: z.string().min(1).nullable().default(null),
  checkpoint_dir: z.string().min(1),
  output_dir: z.string().min(1),
  device_index: z.int().min(0).nullable().default(null),
});

const mergeSpecSchema = z.object({
  config: z.looseObject({}),
  inputs: z.array(z.string().min(1)).min(1),
  output_dir: z.string().min(1),
});

const exportSpecSchema = z.object({
  config: z.looseObject({}),
  checkpoint: z.string().min(1),
  feature_columns: z.string().min(1).optional(),
  output_dir: z.string().min(1),
});

export type TrainSpec = Omit<z.infer<typeof trainSpecSchema>, 'config'> & { config: TrainerConfig };
export type MergeSpec = Omit<z.infer<typeof mergeSpecSchema>, 'config'> & { config: TrainerConfig };
export type ExportSpec = Omit<z.infer<typeof exportSpecSchema>, 'config'> & { config: TrainerConfig };

export type Verb = 'train' | 'merge' | 'export';
const schemas = { train: trainSpecSchema, merge: mergeSpecSchema, export: exportSpecSchema };

function describeIssues(file: string, prefix: string, error: z.ZodError): string {
  const first = error.issues[0]!;
  const key = [prefix, ...first.path.map(String)].filter(Boolean).join('.');
  return `${file}: ${key || '(root)'}: ${first.message}`;
}

/** Reads and validates spec.json for `verb`; a spec or config the trainer cannot use is a UserInputError. */
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
  const spec = schemas[verb].safeParse(raw);
  if (!spec.success) throw new UserInputError(describeIssues(file, '', spec.error));
  const config = trainerConfigSchema.safeParse(spec.data.config);
  if (!config.success) throw new UserInputError(describeIssues(file, 'config', config.error));
  if (config.data.model.kind !== 'cpu_mlp') {
    throw new UserInputError(`${file}: config.model.kind: the built-in CPU trainer trains cpu_mlp, not ${config.data.model.kind}`);
  }
  return { ...spec.data, config: config.data } as TrainSpec | MergeSpec | ExportSpec;
}
