import { UserInputError } from '../errors';
import type { RunConfig } from '../config/schema';
import { listFiles } from '../store/hash';
import path from 'node:path';

export type TrainerEngine = 'cpu' | 'gpu';

/** What a trainer runs: TS entry modules (their closure joins) and plain files hashed as they are. */
export interface TrainerCode {
  entries: string[];
  files: string[];
}

const GPU_PACKAGE = 'trainers/gpu/arena_trainer';

/**
 * The code of a trainer process: the CPU trainer's TypeScript closure, or the GPU trainer's Python
 * package, its launcher and its pinned requirements (never its tests).
 */
export function trainerCode(engine: TrainerEngine, repoRoot: string): TrainerCode {
  if (engine === 'cpu') return { entries: ['trainers/cpu/main.ts'], files: [] };
  const python = listFiles(path.join(repoRoot, GPU_PACKAGE))
    .filter((f) => f.endsWith('.py'))
    .map((f) => `${GPU_PACKAGE}/${f}`);
  return { entries: [], files: [...python, 'trainers/gpu/run.sh', 'trainers/gpu/requirements.txt', 'scripts/setup-trainer-env.sh'] };
}

/** Which trainer a config's `trainer.command` runs; only the shipped trainers have a derivable code version. */
export function trainerEngineOf(trainer: Pick<RunConfig['trainer'], 'command'>): TrainerEngine {
  if (trainer.command.includes('trainers/cpu/main.ts')) return 'cpu';
  if (trainer.command.includes('trainers/gpu/run.sh')) return 'gpu';
  throw new UserInputError(
    `trainer.command: [${trainer.command.join(', ')}] is neither the CPU trainer (trainers/cpu/main.ts) nor the GPU trainer (trainers/gpu/run.sh); the cache cannot derive its code version`,
  );
}
