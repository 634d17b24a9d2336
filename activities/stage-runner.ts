import path from 'node:path';
import type { RunConfig } from '../lib/config/schema';
import type { Json, StageContext, StageDefinition, StageResult } from '../lib/stage';
import { sha256File, sha256Json, sha256Sources } from '../lib/store/hash';
import type { RunStore } from '../lib/store/run-store';
import { UserInputError } from '../lib/errors';
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
  /** The worker's pre-emption; none for a worker that is never pre-empted (tests in one process). */
  preemption?: Preemption;
}

export interface StageHooks {
  heartbeat(details?: unknown): void;
  signal: AbortSignal;
  preempted: AbortSignal;
  log(message: string): void;
}

const codeVersions = new Map<StageDefinition, string>();

function codeVersion(def: StageDefinition, repoRoot: string): string {
  let version = codeVersions.get(def);
  if (version === undefined) {
    version = sha256Sources(repoRoot, def.codePaths);
    codeVersions.set(def, version);
  }
  return version;
}

/** The cache key: the stage's code version, its resolved parameters and the content hashes of its inputs. */
export async function cacheKeyOf(def: StageDefinition, request: StageRequest, env: StageEnvironment): Promise<string> {
  const externalFiles = def.externalInputs?.(request.config, env.repoRoot) ?? [];
  const external: Record<string, string> = {};
  for (const file of externalFiles) external[file] = await sha256File(file);
  return sha256Json({
    stageId: request.stageId,
    activity: def.activity,
    code: codeVersion(def, env.repoRoot),
    params: request.params,
    config: Object.fromEntries(def.configSections.map((section) => [section, request.config[section]])),
    upstream: Object.fromEntries(
      Object.entries(request.upstream).map(([name, result]) => [name, Object.fromEntries(Object.values(result.files).map((f) => [f.path, f.sha256]))]),
    ),
    external,
  }).slice(0, 24);
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
  const upstream: Record<string, StageResult> = {};
  for (const [name, result] of Object.entries(request.upstream)) upstream[name] = { ...result, dir: await env.store.materialize(result) };
  const checkpointRef = env.store.checkpointRef(request.stageId, cacheKey);
  const scratch = env.store.createScratch(request.stageId, cacheKey);
  const ctx: StageContext = {
    config: request.config,
    params: request.params,
    outDir: scratch,
    checkpointDir: env.store.local(checkpointRef),
    checkpoints: {
      publish: async (dir) => {
        const ref = env.store.refOf(dir);
        await env.store.publish(ref);
        return ref;
      },
      latest: () => env.store.latestCheckpoint(checkpointRef),
      materialize: (ref) => env.store.materializeCheckpoint(ref),
    },
    input: (file) => upstreamFile(request.stageId, upstream, file),
    upstream,
    heartbeat: hooks.heartbeat,
    signal: hooks.signal,
    preempted: hooks.preempted,
    resumeFrom: request.resumeFrom,
    log: hooks.log,
    repoRoot: env.repoRoot,
  };
  try {
    const summary = await def.run(ctx);
    return await env.store.commit(scratch, request.stageId, def.activity, cacheKey, summary);
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
