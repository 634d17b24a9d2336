import path from 'node:path';
import { z } from 'zod';
import { trainerNameSchema } from './config/schema';
import { describeIssues, readYaml, YamlError } from './yaml-source';

/**
 * The trainers a worker can run, by name. A config names one (`trainer.engine`); the argv comes
 * from here, so a workflow input can choose among the worker's trainers but never add a program.
 * Operators add entries only through the worker's own settings: env ARENA_TRAINERS naming a YAML
 * or JSON file of `<name>: {argv, env, code}`.
 */

export const TRAINERS_VARIABLE = 'ARENA_TRAINERS';

const trainerEntrySchema = z.strictObject({
  argv: z.array(z.string().min(1)).min(1).describe('program and leading arguments, run from the repository root; the verb and --spec follow'),
  env: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'))
    .default([])
    .describe("worker environment variables passed through to this trainer, beyond lib/trainer-process.ts's allowlist"),
  code: z
    .array(z.string().min(1))
    .min(1)
    .describe("the trainer's code version (relative to the repository root, or absolute): a .ts entry joins by its module closure, a folder or other file by its content"),
  ddp_argv: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('its launcher for trainer.parallel: ddp (e.g. torchrun), run from the repository root; the process count (trainer.gpus), the verb and --spec follow; absent: the trainer has no DDP'),
});

const operatorTrainersSchema = z.record(trainerNameSchema, trainerEntrySchema);

export type TrainerEntry = z.infer<typeof trainerEntrySchema>;
export type TrainerRegistry = ReadonlyMap<string, TrainerEntry>;

/** Shipped with the project; an operator's file may replace them (e.g. a GPU image's own launcher). */
const BUILT_IN: Record<string, TrainerEntry> = {
  // The worker's own node, so the child does not depend on which `node` its PATH finds first.
  cpu: {
    argv: [process.execPath, '--import', 'tsx', 'trainers/cpu/main.ts'],
    env: [],
    code: ['trainers/cpu/main.ts'],
  },
  gpu: {
    argv: ['bash', 'trainers/gpu/run.sh'],
    // Library paths and caches a CUDA machine may need; never credentials (pip indexes and
    // proxies can carry tokens: build the trainer's venv ahead, see docs/gpu-trainer.md).
    env: ['LD_LIBRARY_PATH', 'HF_HOME', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'TORCH_HOME', 'XDG_CACHE_HOME', 'PYTORCH_CUDA_ALLOC_CONF', 'OMP_NUM_THREADS'],
    // Never trainers/gpu/tests: a test is not the trainer's code.
    code: ['trainers/gpu/arena_trainer', 'trainers/gpu/run.sh', 'trainers/gpu/requirements.txt', 'scripts/setup-trainer-env.sh', 'scripts/cached-venv.sh'],
    // The venv's torchrun over the pod's GPUs (run.sh --ddp <processes>).
    ddp_argv: ['bash', 'trainers/gpu/run.sh', '--ddp'],
  },
};

/** The built-in trainers plus the operator's file named by ARENA_TRAINERS, if set. Read once, at worker start. */
export function loadTrainerRegistry(env: NodeJS.ProcessEnv = process.env): TrainerRegistry {
  const registry = new Map(Object.entries(BUILT_IN));
  const file = env[TRAINERS_VARIABLE]?.trim();
  if (!file) return registry;
  const source = readYaml(path.resolve(file), 'ConfigError');
  const parsed = operatorTrainersSchema.safeParse(source.value);
  if (!parsed.success) throw new YamlError('ConfigError', `invalid trainer registry (${TRAINERS_VARIABLE}):\n${describeIssues(source, parsed.error.issues)}`);
  for (const [name, entry] of Object.entries(parsed.data)) registry.set(name, entry);
  return registry;
}

/** `trainer.parallel: ddp` needs a trainer with a DDP launcher; `where` prefixes the error. */
export function checkParallel(registry: TrainerRegistry, trainer: { engine: string; parallel: 'shards' | 'ddp' }, where = 'trainer.parallel'): void {
  if (trainer.parallel !== 'ddp' || resolveTrainer(registry, trainer.engine).ddp_argv) return;
  const able = [...registry].filter(([, entry]) => entry.ddp_argv).map(([name]) => name);
  throw new YamlError('ConfigError', `${where}: ddp needs a trainer with a DDP launcher; trainer '${trainer.engine}' has none (this worker's with one: ${able.sort().join(', ') || 'none'})`);
}

/** The entry of a config's `trainer.engine`; `where` prefixes the error, which lists the known names. */
export function resolveTrainer(registry: TrainerRegistry, engine: string, where = 'trainer.engine'): TrainerEntry {
  const entry = registry.get(engine);
  if (!entry) throw new YamlError('ConfigError', `${where}: unknown trainer '${engine}'; this worker knows ${[...registry.keys()].sort().join(', ')}`);
  return entry;
}
