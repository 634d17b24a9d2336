import { z } from 'zod';

/**
 * The workflow's input, as typed on the command line: `--input '{"config":"micro"}'`. Checked by
 * the workflow before anything else, so a bad input fails the run at once, naming the field,
 * instead of failing workflow tasks forever. Bundled into the workflow: no I/O here.
 */

/** A config's file name without `.yaml`: never a path. */
export const CONFIG_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const pipelineInputSchema = z.strictObject({
  config: z.string().regex(CONFIG_NAME, "expected a config name: letters, digits, '_', '-' and '.'").describe('name of a file in configs/, without .yaml'),
  overrides: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('values merged over the config, e.g. {"trainer": {"epochs": 1}}; the worker validates them against the config schema'),
  noCache: z.boolean().optional().describe('run every stage even when a valid cached output exists'),
});

export type PipelineInput = z.infer<typeof pipelineInputSchema>;

/** `config: Invalid input: expected string, received number`, one clause per problem. */
export function describeInputIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const keyPath = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
      return `${keyPath.map(String).join('.') || '(input)'}: ${issue.message}`;
    })
    .join('; ');
}
