import { z } from 'zod';

/** The validation of one round's merged model (with one shard, the round's checkpoint). */
export const roundMetricsSchema = z.strictObject({
  round: z.int().positive().describe('1-based round'),
  step: z.int().min(0),
  epoch: z.int().min(0).describe('the last epoch the round trained'),
  valid_loss: z.number(),
  valid_accuracy: z.number(),
});

/**
 * Which round's checkpoint was exported and why: the train stage's workflow passes it to the export,
 * which keeps it in model.json (`selection`) for the report's merged-model curve.
 */
export const roundSelectionSchema = z.strictObject({
  metric: z.enum(['valid_loss', 'valid_accuracy']),
  exported_round: z.int().positive(),
  rounds: z.array(roundMetricsSchema).min(1),
});

export type RoundMetrics = z.infer<typeof roundMetricsSchema>;
export type RoundSelection = z.infer<typeof roundSelectionSchema>;
