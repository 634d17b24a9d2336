import { z } from 'zod';
import { trainerConfigSchema } from './config/schema';

/**
 * The spec.json of docs/trainer-protocol.md, one shape per verb. The activities build specs of
 * these types, the CPU trainer parses them with these schemas, and the GPU trainer validates them
 * against the JSON Schema generated from them (scripts/gen-schemas.ts), so no trainer keeps a copy.
 */

/**
 * The config sections a trainer reads (lib/config/schema.ts's trainer slice, the only sections the
 * train, evaluate and submit stages hand a trainer), so that the spec follows every change there.
 * Other sections may travel along (a hand-written spec, a full config) and are not checked; the
 * type holds only the trainer's sections, so no trainer code reads what its stages are not keyed on.
 */
const specConfigSchema = trainerConfigSchema.loose().meta({
  id: 'trainer_config',
  description: 'the config sections a trainer reads (lib/config/schema.ts), resolved: every key present',
});

const path = z.string().min(1);

export const trainSpecSchema = z.strictObject({
  config: specConfigSchema,
  train_data: path,
  valid_data: path,
  feature_columns: path,
  shard: z
    .strictObject({ index: z.int().min(0), count: z.int().positive() })
    .refine((s) => s.index < s.count, 'shard.index must be below shard.count'),
  round: z
    .strictObject({
      index: z.int().min(0),
      epoch_start: z.int().min(0),
      epoch_end: z.int().positive(),
      step_end: z
        .int()
        .positive()
        .optional()
        .describe('stop once the optimizer step count (counted across rounds) reaches this (trainer.round_steps: (index + 1) * K); absent: train up to epoch_end'),
    })
    .refine((r) => r.epoch_start < r.epoch_end, 'round.epoch_start must be below round.epoch_end'),
  init_from: path.nullable().optional().describe('checkpoint the round starts from; absent or null for a fresh start'),
  resume_from: path.nullable().optional().describe('checkpoint of this shard and round to resume from; wins over init_from'),
  checkpoint_dir: path,
  output_dir: path,
  device_index: z.int().min(0).nullable().optional().describe('the device this process owns; absent or null on a CPU'),
});

const mergeSpecSchema = z.strictObject({
  config: specConfigSchema,
  inputs: z.array(path).min(1),
  valid_data: path.optional().describe('the validation split: when given, the merged model is validated on it (trainer.select_metric, early stopping)'),
  feature_columns: path.optional().describe('feature_columns.json; required with valid_data'),
  output_dir: path,
});

const exportSpecSchema = z.strictObject({
  config: specConfigSchema,
  checkpoint: path,
  feature_columns: path.optional().describe("checked against the checkpoint's feature columns when given"),
  output_dir: path,
});

const predictSpecSchema = z.strictObject({
  config: specConfigSchema,
  checkpoint: path,
  data: path,
  batch_size: z.int().positive().optional().describe('rows per forward pass; default trainer.batch_size'),
  output_dir: path,
});

export const trainerSpecSchemas = { train: trainSpecSchema, merge: mergeSpecSchema, export: exportSpecSchema, predict: predictSpecSchema };

export type TrainerVerb = keyof typeof trainerSpecSchemas;
export type TrainSpec = z.infer<typeof trainSpecSchema>;
export type MergeSpec = z.infer<typeof mergeSpecSchema>;
export type ExportSpec = z.infer<typeof exportSpecSchema>;
/** What a sender writes for `verb`: fields with defaults may be left out. */
export type TrainerSpec<V extends TrainerVerb> = z.input<(typeof trainerSpecSchemas)[V]>;

/**
 * The JSON Schema of every verb's spec, for trainers in other languages: `$defs.<verb>` is the
 * spec of that verb. Refinements between fields (shard.index < shard.count) are not expressible
 * there; a trainer checks them as code.
 */
export function trainerSpecJsonSchema(): Record<string, unknown> {
  // One document holding every verb: the config, used by all four, lands once in $defs.
  const all = z.toJSONSchema(z.strictObject(trainerSpecSchemas), { io: 'output', unrepresentable: 'throw' });
  const verbs = all.properties as Record<string, unknown>;
  return {
    $schema: all.$schema,
    $comment: 'Generated from zod by `npm run gen:schemas`; do not edit. Source: lib/trainer-spec.ts. $defs.<verb> is the spec of that verb.',
    $defs: { ...all.$defs, ...verbs },
  };
}
