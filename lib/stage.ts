import type { ConfigSection, RunConfig } from './config/schema';
import type { TrainerEntry } from './trainer-registry';

/** JSON that can travel in a workflow payload: small summaries only, never data. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One file of a stage's output, by reference: where it is and what it hashes to. */
export interface ArtifactFile {
  /** Path relative to the stage's output folder. */
  path: string;
  sha256: string;
  bytes: number;
}

/** What a completed stage hands on: references and content hashes, plus a small summary. */
export interface StageResult {
  stage: string;
  activity: string;
  cacheKey: string;
  /** The output folder relative to the run store's root: what another machine resolves. */
  ref: string;
  /** The output folder on the machine that produced or last read it, for people and logs. */
  dir: string;
  files: Record<string, ArtifactFile>;
  summary: { [key: string]: Json };
  cacheHit: boolean;
  /** Another run computed it while this one waited for it (single flight): a cache hit, not an execution. */
  shared?: boolean;
}

/** The sections of the run config that a stage declares, and nothing else, in its type and at run time. */
export type ConfigSlice<S extends ConfigSection> = Pick<RunConfig, S>;

/** What a stage's code sees while it runs; its declared outputs go under `outDir`, anything else under `logDir`. */
export interface StageContext<S extends ConfigSection = ConfigSection> {
  config: ConfigSlice<S>;
  params: { [key: string]: Json };
  /** A fresh temporary folder; renamed to the cached output folder only when the stage succeeds. */
  outDir: string;
  /** `<outDir>/logs`: logs, trainer specs and diagnostics. Kept with the entry, never hashed, never handed downstream. */
  logDir: string;
  /** Survives failed attempts of the same cache key, for checkpoints. */
  checkpointDir: string;
  checkpoints: CheckpointStore;
  /** Absolute path of a file produced by an upstream stage, found by file name. */
  input(file: string): string;
  upstream: Record<string, StageResult>;
  heartbeat(details?: unknown): void;
  /** Aborted when the stage is cancelled or its heartbeat is lost. */
  signal: AbortSignal;
  /**
   * Aborted when the worker is pre-empted (SIGTERM): a stage that can checkpoint does so now and
   * fails as `Preempted`; any other stage is failed so at the end of the grace period.
   */
  preempted: AbortSignal;
  /** The last heartbeat details of a failed earlier attempt, if any. */
  resumeFrom: unknown;
  log(message: string): void;
  /** The project folder: relative paths in the config start here. */
  repoRoot: string;
  /** The argv and environment of the config's `trainer.engine` in this worker's registry. */
  trainer(): TrainerEntry;
}

/** Checkpoints by store reference, so that an attempt on another machine can resume from them. */
export interface CheckpointStore {
  /** Mirrors a complete checkpoint folder under `checkpointDir`; returns its reference. */
  publish(dir: string): Promise<string>;
  /** The newest complete checkpoint of this stage and key, on this machine or in the remote store. */
  latest(): Promise<{ ref: string; step: number } | undefined>;
  /** The local folder of a checkpoint reference, fetched if need be; undefined when it is gone. */
  materialize(ref: string): Promise<string | undefined>;
  /** Removes all but the `keep` newest complete checkpoints of this stage and key, here and in the remote; returns the steps removed. */
  prune(keep: number): Promise<number[]>;
}

/** The side folder of an entry, relative to it: see `StageContext.logDir`. */
export const LOG_DIR = 'logs';

/**
 * A stage's code, as the worker registers it. Its code version is derived from `source`: the
 * closure of the modules that file imports (see lib/stage-contract/).
 */
export interface StageDefinition<S extends ConfigSection = ConfigSection> {
  activity: string;
  /** The repo-relative file that defines the stage: `sourceOf(__filename)`. */
  source: string;
  /** The config sections the stage reads: its `ctx.config` holds only these, and only these enter its key. */
  config: readonly S[];
  /**
   * The files it writes into `outDir`, relative to it: only these are hashed and handed downstream.
   * `name/` is a folder (all files in it); a trailing `?` marks an output that may be absent.
   */
  outputs: readonly string[];
  /** The `trainer.engine` it runs for this config, if any: that trainer's code joins its code version. */
  trainer?(config: ConfigSlice<S>): string | undefined;
  /** Files outside the run store that the stage reads (raw data): their content hashes enter the cache key. */
  externalInputs?(config: ConfigSlice<S>, repoRoot: string): string[];
  run(ctx: StageContext<S>): Promise<{ [key: string]: Json }>;
}

/** Declares a stage; infers its config sections so that `ctx.config` is typed as exactly that slice. */
export function defineStage<const S extends ConfigSection>(def: StageDefinition<S>): StageDefinition<S> {
  return def;
}
