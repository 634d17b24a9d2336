import { UserInputError } from '../../lib/errors';
import { emit, log } from './events';
import { exportCommand } from './export';
import { mergeCommand } from './merge';
import { readSpec } from './spec';
import { watchStdin } from './stdin-requests';
import { Preempted, trainCommand } from './train';

/**
 * The built-in CPU trainer: `node --import tsx trainers/cpu/main.ts <train|merge|export> --spec spec.json`.
 * Follows docs/trainer-protocol.md: events on stdout, logs on stderr, exit 2 on rejected input,
 * 3 on out-of-memory, 4 when pre-empted by the `preempt` stdin request (train checkpoints first).
 * SIGTERM keeps node's default (die at once, nothing flushed): a kill, not a polite stop.
 */

const EXIT_USER = 2;
const EXIT_OOM = 3;
const EXIT_PREEMPTED = 4;
const EXIT_INTERNAL = 1;

function fail(kind: 'user' | 'oom' | 'preempted' | 'internal', message: string, code: number): never {
  emit({ event: 'error', kind, message });
  log(`${kind} error: ${message}`);
  process.exit(code);
}

function isOutOfMemory(err: unknown): boolean {
  return err instanceof RangeError && /allocation failed|invalid array length|out of memory/i.test(err.message);
}

async function main(argv: string[]): Promise<void> {
  const [verb, flag, specFile] = argv;
  if ((verb !== 'train' && verb !== 'merge' && verb !== 'export') || flag !== '--spec' || !specFile) {
    throw new UserInputError(`usage: trainers/cpu/main.ts <train|merge|export> --spec <spec.json> (got: ${argv.join(' ')})`);
  }
  // Training stops at its next step with a checkpoint; merge and export are short and just stop.
  const preemption = { requested: false };
  watchStdin(
    () => {
      if (verb !== 'train') fail('preempted', `pre-empted before ${verb} finished`, EXIT_PREEMPTED);
      log('pre-empted: checkpointing at the current step');
      preemption.requested = true;
    },
    () => {
      log('stdin closed: the activity is gone, exiting');
      process.exit(EXIT_INTERNAL);
    },
  );
  if (verb === 'train') await trainCommand(readSpec('train', specFile), undefined, preemption);
  else if (verb === 'merge') await mergeCommand(readSpec('merge', specFile));
  else await exportCommand(readSpec('export', specFile));
  process.exit(0);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof Preempted) fail('preempted', err.message, EXIT_PREEMPTED);
  if (err instanceof UserInputError) fail('user', err.message, EXIT_USER);
  if (isOutOfMemory(err)) fail('oom', (err as Error).message, EXIT_OOM);
  fail('internal', err instanceof Error ? (err.stack ?? err.message) : String(err), EXIT_INTERNAL);
});
