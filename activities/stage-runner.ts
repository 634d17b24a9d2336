import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../lib/config/schema';
import { LOG_DIR, type Json, type StageContext, type StageDefinition, type StageResult } from '../lib/stage';
import { configSlice, stageCode } from '../lib/stage-contract/stage-code';
import { sha256File, sha256Json } from '../lib/store/hash';
import type { RunStore } from '../lib/store/run-store';
import { UserInputError } from '../lib/errors';
import { resolveTrainer, type TrainerRegistry } from '../lib/trainer-registry';
import { takeTurn } from './single-flight';
import type { Preemption } from '../lib/preemption';

/** What the workflow asks of one stage (or one sub-step of the composite train stage). */
export interface StageRequest {
  /** Unique within the pipeline: the stage name, or e.g. `train/round-1/shard-0`. */
  stageId: string;
  params: Record<string, Json>;
  config: RunConfig;
  upstream: Record<string, StageResult>;
  /** false: run even when a valid output for the same key exists. */
  cache: boolean;
  resumeFrom?: unknown;
}

export interface StageEnvironment {
  store: RunStore;
  repoRoot: string;
  /** The trainers this worker runs, from its own settings (lib/trainer-registry.ts). */
  trainers: TrainerRegistry;
  /** The worker's pre-emption; none for a worker that is never pre-empted (tests in one process). */
  preemption?: Preemption;
}

export interface StageHooks {
  heartbeat(details?: unknown): void;
  signal: AbortSignal;
  preempted: AbortSignal;
  log(message: string): void;
  /** The run this stage works for: who holds a key's lease, and whose run index (`runs/`) records the key. */
  run?: { workflowId: string; activityId: string; config: string };
}

/** Everything that enters a stage's cache key; `arena explain` prints it. */
export async function keyContents(def: StageDefinition, request: StageRequest, env: Pick<StageEnvironment, 'repoRoot' | 'trainers'>) {
  const { repoRoot } = env;
  const externalFiles = def.externalInputs?.(configSlice(def, request.config), repoRoot) ?? [];
  const external: Record<string, string> = {};
  for (const file of externalFiles) external[file] = await sha256File(file);
  return {
    stageId: request.stageId,
    activity: def.activity,
    code: stageCode(def, request.config, repoRoot, env.trainers).version,
    params: request.params,
    config: configSlice(def, request.config),
    upstream: Object.fromEntries(
      Object.entries(request.upstream).map(([name, result]) => [name, Object.fromEntries(Object.values(result.files).map((f) => [f.path, f.sha256]))]),
    ),
    external,
  };
}

/** The cache key of what `keyContents` gives. */
export function keyOf(contents: Awaited<ReturnType<typeof keyContents>>): string {
  return sha256Json(contents).slice(0, 24);
}

/** The cache key: the stage's code version, params, config slice and the content hashes of its inputs. */
export async function cacheKeyOf(def: StageDefinition, request: StageRequest, env: StageEnvironment): Promise<string> {
  return keyOf(await keyContents(def, request, env));
}

/** Serves the stage from the cache, or runs it into a scratch folder and commits that on success. */
export async function runStage(def: StageDefinition, request: StageRequest, env: StageEnvironment, hooks: StageHooks): Promise<StageResult> {
  const cacheKey = await cacheKeyOf(def, request, env);
  if (request.cache) {
    const cached = await env.store.lookup(request.stageId, cacheKey);
    if (cached) {
      hooks.log(`${request.stageId}: cache hit ${cacheKey}`);
      return cached;
    }
  }
  // With the cache on, a key another run is computing right now is waited for, not computed again.
  const turn = request.cache ? await takeTurn(env.store, request.stageId, cacheKey, hooks) : undefined;
  if (turn?.shared) return turn.shared;
  try {
    return await execute(def, request, env, hooks, cacheKey);
  } finally {
    turn?.lease?.release();
  }
}

/** Runs the stage into a scratch folder and commits that on success. */
async function execute(def: StageDefinition, request: StageRequest, env: StageEnvironment, hooks: StageHooks, cacheKey: string): Promise<StageResult> {
  const upstream: Record<string, StageResult> = {};
  for (const [name, result] of Object.entries(request.upstream)) upstream[name] = { ...result, dir: await env.store.materialize(result) };
  const checkpointRef = env.store.checkpointRef(request.stageId, cacheKey);
  const scratch = env.store.createScratch(request.stageId, cacheKey);
  const logDir = path.join(scratch, LOG_DIR);
  mkdirSync(logDir);
  const ctx: StageContext = {
    config: configSlice(def, request.config),
    params: request.params,
    outDir: scratch,
    logDir,
    checkpointDir: env.store.local(checkpointRef),
    checkpoints: {
      publish: async (dir) => {
        const ref = env.store.refOf(dir);
        await env.store.publish(ref);
        return ref;
      },
      latest: () => env.store.latestCheckpoint(checkpointRef),
      materialize: (ref) => env.store.materializeCheckpoint(ref),
      prune: (keep) => env.store.pruneCheckpoints(checkpointRef, keep),
    },
    input: (file) => upstreamFile(request.stageId, upstream, file),
    upstream,
    heartbeat: hooks.heartbeat,
    signal: hooks.signal,
    preempted: hooks.preempted,
    resumeFrom: request.resumeFrom,
    log: hooks.log,
    repoRoot: env.repoRoot,
    trainer: () => resolveTrainer(env.trainers, request.config.trainer.engine),
  };
  try {
    const summary = await def.run(ctx);
    return await env.store.commit(scratch, { stageId: request.stageId, activity: def.activity, cacheKey, outputs: def.outputs, logDir: LOG_DIR }, summary);
  } catch (err) {
    const kept = env.store.discard(scratch, request.stageId);
    hooks.log(`${request.stageId}: failed; its scratch folder is kept at ${kept}`);
    throw err;
  }
}

function upstreamFile(stageId: string, upstream: Record<string, StageResult>, file: string): string {
  const matches = Object.values(upstream).filter((result) => file in result.files);
  if (matches.length !== 1) {
    const where = Object.keys(upstream).join(', ') || 'none';
    throw new UserInputError(
      `${stageId}: ${matches.length === 0 ? 'no' : 'more than one'} upstream stage provides '${file}' (upstream: ${where}); check the stage's needs in the pipeline`,
    );
  }
  return path.join(matches[0]!.dir, file);
}
