import type { ConfigSection, RunConfig } from './config/schema';

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
}

/** What a stage's code sees while it runs; everything it writes goes under `outDir`. */
export interface StageContext {
  config: RunConfig;
  params: { [key: string]: Json };
  /** A fresh temporary folder; renamed to the cached output folder only when the stage succeeds. */
  outDir: string;
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
}

/** Checkpoints by store reference, so that an attempt on another machine can resume from them. */
export interface CheckpointStore {
  /** Mirrors a complete checkpoint folder under `checkpointDir`; returns its reference. */
  publish(dir: string): Promise<string>;
  /** The newest complete checkpoint of this stage and key, on this machine or in the remote store. */
  latest(): Promise<{ ref: string; step: number } | undefined>;
  /** The local folder of a checkpoint reference, fetched if need be; undefined when it is gone. */
  materialize(ref: string): Promise<string | undefined>;
}

/** A stage's code, as the worker registers it. */
export interface StageDefinition {
  activity: string;
  /** The config sections the stage reads; only these enter its cache key. */
  configSections: ConfigSection[];
  /** Folders and files (relative to the repo root) whose content is the stage's code version. */
  codePaths: string[];
  /** Files outside the run store that the stage reads (raw data): their content hashes enter the cache key. */
  externalInputs?(config: RunConfig, repoRoot: string): string[];
  run(ctx: StageContext): Promise<{ [key: string]: Json }>;
}
