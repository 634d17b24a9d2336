import type { ConfigSection, RunConfig } from '../config/schema';
import type { ConfigSlice, StageDefinition } from '../stage';
import { codeContract, type CodeContract } from './code-contract';
import { resolveTrainer, type TrainerRegistry } from '../trainer-registry';
import { trainerCode, type TrainerCode } from './trainer-code';

/** A stage's view of the run config: only the sections it declares. */
export function configSlice<S extends ConfigSection>(def: StageDefinition<S>, config: RunConfig): ConfigSlice<S> {
  return Object.fromEntries(def.config.map((section) => [section, config[section]])) as ConfigSlice<S>;
}

/** The code a stage runs for this config: its own module closure, plus its trainer's code when it runs one. */
export function stageCodeSet(def: StageDefinition, config: RunConfig, repoRoot: string, trainers: TrainerRegistry): TrainerCode {
  const engine = def.trainer?.(configSlice(def, config));
  const trainer = engine === undefined ? { entries: [], files: [] } : trainerCode(resolveTrainer(trainers, engine), repoRoot);
  return { entries: [def.source, ...trainer.entries], files: trainer.files };
}

/** The stage's code contract for this config (files, package versions, version), computed once per process. */
export function stageCode(def: StageDefinition, config: RunConfig, repoRoot: string, trainers: TrainerRegistry): CodeContract {
  const code = stageCodeSet(def, config, repoRoot, trainers);
  return codeContract(repoRoot, code.entries, code.files);
}
