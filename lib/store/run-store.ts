import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../errors';
import type { ArtifactFile, StageResult } from '../stage';
import { declaredFiles } from './declared-outputs';
import { sha256File } from './hash';
import type { ObjectStore } from './object-store';
import { checkStoreKey, stageFolder } from './store-key';
import { scratchSuffix } from './owner';

const MANIFEST = 'manifest.json';
/** Written last to the remote copy of a folder: a remote folder without it is incomplete. */
const REMOTE_COMPLETE = '.complete';

interface Manifest {
  stageId: string;
  activity: string;
  cacheKey: string;
  files: Record<string, ArtifactFile>;
  summary: StageResult['summary'];
  createdAt: string;
}

/**
 * The run store: one folder per stage output, named by its cache key. An output folder appears
 * only by rename once complete, so a crash never leaves a half-written one that looks done.
 * With a remote object store, completed outputs and checkpoints are mirrored there, and a worker
 * on another machine fetches what it lacks: references (`ref`) are relative to the store's root.
 */
export class RunStore {
  constructor(
    readonly root: string,
    readonly remote?: ObjectStore,
  ) {}

  outputRef(stageId: string, cacheKey: string): string {
    return `stages/${stageFolder(stageId)}/${checkStoreKey(cacheKey, 'cache key')}`;
  }

  checkpointRef(stageId: string, cacheKey: string): string {
    return `checkpoints/${stageFolder(stageId)}/${checkStoreKey(cacheKey, 'cache key')}`;
  }

  /** The single-flight lease of a key: in a tree of its own, so that listings of `stages/` see only outputs and scratch. */
  leaseRef(stageId: string, cacheKey: string): string {
    return `leases/${stageFolder(stageId)}/${checkStoreKey(cacheKey, 'cache key')}.json`;
  }

  /**
   * The local path of a reference. Every reference, including those read back from workflow
   * history and heartbeat details, passes here, so none resolves outside the store.
   */
  local(ref: string): string {
    return path.join(this.root, ...checkStoreKey(ref, 'store reference').split('/'));
  }

  /** The store reference of a folder under the local root. */
  refOf(localPath: string): string {
    const rel = path.relative(this.root, localPath);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UserInputError(`${localPath} is outside the run store ${this.root}`);
    return checkStoreKey(rel.split(path.sep).join('/'), `store reference of ${localPath}`);
  }

  /** A fresh folder for an attempt to write into, named with its owner so that gc can tell an orphan from a live one. */
  createScratch(stageId: string, cacheKey: string): string {
    const dir = `${this.local(this.outputRef(stageId, cacheKey))}${scratchSuffix(randomUUID())}`;
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The completed output for this key, if its manifest and every file in it are there (fetched from the remote if need be). */
  async lookup(stageId: string, cacheKey: string): Promise<StageResult | undefined> {
    const ref = this.outputRef(stageId, cacheKey);
    return this.readOutput(ref) ?? ((await this.fetch(ref)) ? this.readOutput(ref) : undefined);
  }

  private readOutput(ref: string): StageResult | undefined {
    const dir = this.local(ref);
    const manifestFile = path.join(dir, MANIFEST);
    if (!existsSync(manifestFile)) return undefined;
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    for (const file of Object.values(manifest.files)) {
      const abs = path.join(dir, file.path);
      if (!existsSync(abs) || statSync(abs).size !== file.bytes) return undefined;
    }
    return { stage: manifest.stageId, activity: manifest.activity, cacheKey: manifest.cacheKey, ref, dir, files: manifest.files, summary: manifest.summary, cacheHit: true };
  }

  /**
   * Hashes the scratch folder's declared outputs (its side folder `logDir` is kept, unhashed),
   * writes the manifest, renames the folder into place and mirrors it.
   */
  async commit(
    scratch: string,
    stage: { stageId: string; activity: string; cacheKey: string; outputs: readonly string[]; logDir: string },
    summary: StageResult['summary'],
  ): Promise<StageResult> {
    const { stageId, activity, cacheKey } = stage;
    const files: Record<string, ArtifactFile> = {};
    for (const rel of declaredFiles(stageId, scratch, stage.outputs, stage.logDir, [MANIFEST])) {
      files[rel] = { path: rel, sha256: await sha256File(path.join(scratch, rel)), bytes: statSync(path.join(scratch, rel)).size };
    }
    const manifest: Manifest = { stageId, activity, cacheKey, files, summary, createdAt: new Date().toISOString() };
    writeFileSync(path.join(scratch, MANIFEST), JSON.stringify(manifest, null, 2));
    const ref = this.outputRef(stageId, cacheKey);
    const dir = this.local(ref);
    if (existsSync(dir)) {
      const stale = `${dir}.stale-${randomUUID()}`;
      renameSync(dir, stale);
      rmSync(stale, { recursive: true, force: true });
    }
    renameSync(scratch, dir);
    await this.publish(ref);
    return { stage: stageId, activity, cacheKey, ref, dir, files, summary, cacheHit: false };
  }

  /** The local folder of an upstream result, fetched from the remote when this machine lacks it. */
  async materialize(result: StageResult): Promise<string> {
    const ref = result.ref;
    if (this.readOutput(ref)) return this.local(ref);
    if ((await this.fetch(ref)) && this.readOutput(ref)) return this.local(ref);
    throw new Error(`${ref}: the output of ${result.stage} is neither in ${this.root} nor in ${this.remote?.description ?? 'a remote store'}`);
  }

  /** Mirrors a complete folder (an output or a checkpoint) to the remote, its completion marker last. */
  async publish(ref: string): Promise<void> {
    if (!this.remote) return;
    const dir = this.local(ref);
    await this.remote.putDir(ref, dir);
    const marker = path.join(path.dirname(dir), `.${path.basename(dir)}${REMOTE_COMPLETE}`);
    writeFileSync(marker, '');
    try {
      await this.remote.putFile(`${ref}/${REMOTE_COMPLETE}`, marker);
    } finally {
      rmSync(marker, { force: true });
    }
  }

  /** Downloads a complete remote folder that is missing here; false when there is none. */
  async fetch(ref: string): Promise<boolean> {
    if (!this.remote || !(await this.remote.exists(`${ref}/${REMOTE_COMPLETE}`))) return false;
    const dir = this.local(ref);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.dirname(dir), { recursive: true });
    if (!(await this.remote.getDir(ref, dir))) return false;
    rmSync(path.join(dir, REMOTE_COMPLETE), { force: true });
    return true;
  }

  /** The newest complete `step-<n>` checkpoint under a checkpoint folder, here or in the remote. */
  async latestCheckpoint(checkpointRef: string): Promise<{ ref: string; step: number } | undefined> {
    const steps = new Set<number>();
    const dir = this.local(checkpointRef);
    if (existsSync(dir)) for (const name of readdirSync(dir)) stepOf(name, steps);
    if (this.remote) {
      for (const key of await this.remote.list(checkpointRef)) {
        const [name, marker] = key.slice(checkpointRef.length + 1).split('/');
        if (marker === REMOTE_COMPLETE) stepOf(name!, steps);
      }
    }
    const newest = Math.max(...steps);
    return steps.size === 0 ? undefined : { ref: `${checkpointRef}/step-${newest}`, step: newest };
  }

  /**
   * Keeps the `keep` newest complete checkpoints under a checkpoint folder, here and in the remote,
   * and removes the older ones, oldest first. Each goes in an order that a kill at any moment
   * survives: the remote completion marker before the remote files, and the local folder renamed
   * out of the `step-<n>` namespace before it is deleted; so a half-pruned checkpoint is never
   * taken for a complete one, and the newest ones are never touched. Returns the steps removed.
   */
  async pruneCheckpoints(checkpointRef: string, keep: number): Promise<number[]> {
    const dir = this.local(checkpointRef);
    const local = new Set<number>();
    if (existsSync(dir)) for (const name of readdirSync(dir)) stepOf(name, local);
    const remoteKeys = new Map<number, string[]>();
    const remoteComplete = new Set<number>();
    if (this.remote) {
      for (const key of await this.remote.list(checkpointRef)) {
        const [name, ...rest] = key.slice(checkpointRef.length + 1).split('/');
        const match = /^step-(\d+)$/.exec(name!);
        if (!match) continue;
        const step = Number(match[1]);
        remoteKeys.set(step, [...(remoteKeys.get(step) ?? []), key]);
        if (rest.join('/') === REMOTE_COMPLETE) remoteComplete.add(step);
      }
    }
    const complete = [...new Set([...local, ...remoteComplete])].sort((a, b) => b - a);
    if (complete.length <= keep) return [];
    const oldestKept = complete[keep - 1]!;
    const doomed = [...new Set([...local, ...remoteKeys.keys()])].filter((step) => step < oldestKept).sort((a, b) => a - b);
    for (const step of doomed) {
      const keys = remoteKeys.get(step) ?? [];
      const marker = `${checkpointRef}/step-${step}/${REMOTE_COMPLETE}`;
      if (this.remote && keys.length > 0) await this.remote.deleteKeys([...keys.filter((k) => k === marker), ...keys.filter((k) => k !== marker)]);
      if (local.has(step)) {
        const doomedDir = path.join(dir, `.step-${step}.pruned-${randomUUID()}`);
        renameSync(path.join(dir, `step-${step}`), doomedDir);
        rmSync(doomedDir, { recursive: true, force: true });
      }
    }
    return doomed;
  }

  /** A checkpoint folder by reference, downloaded when it is only in the remote. */
  async materializeCheckpoint(ref: string): Promise<string | undefined> {
    const dir = this.local(ref);
    if (existsSync(dir)) return dir;
    return (await this.fetch(ref)) ? dir : undefined;
  }

  /** Keeps a failed attempt's folder (its logs) where no lookup will take it for an output. */
  discard(scratch: string, stageId: string): string {
    const failedDir = path.join(this.root, 'failed', ...stageFolder(stageId).split('/'));
    mkdirSync(failedDir, { recursive: true });
    const kept = path.join(failedDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${path.basename(scratch)}`);
    renameSync(scratch, kept);
    return kept;
  }
}

function stepOf(name: string, steps: Set<number>): void {
  const match = /^step-(\d+)$/.exec(name);
  if (match) steps.add(Number(match[1]));
}
