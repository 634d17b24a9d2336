import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ArtifactFile, StageResult } from '../stage';
import { listFiles, sha256File } from './hash';

const MANIFEST = 'manifest.json';

interface Manifest {
  stageId: string;
  activity: string;
  cacheKey: string;
  files: Record<string, ArtifactFile>;
  summary: StageResult['summary'];
  createdAt: string;
}

/**
 * The local run store: one folder per stage output, named by its cache key. An output folder
 * appears only by rename once complete, so a crash never leaves a half-written one that looks done.
 */
export class RunStore {
  constructor(readonly root: string) {}

  outputDir(stageId: string, cacheKey: string): string {
    return path.join(this.root, 'stages', stageId, cacheKey);
  }

  checkpointDir(stageId: string, cacheKey: string): string {
    return path.join(this.root, 'checkpoints', stageId, cacheKey);
  }

  /** A fresh folder for an attempt to write into. */
  createScratch(stageId: string, cacheKey: string): string {
    const dir = `${this.outputDir(stageId, cacheKey)}.tmp-${randomUUID()}`;
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The completed output for this key, if its manifest and every file in it are still there. */
  lookup(stageId: string, cacheKey: string): StageResult | undefined {
    const dir = this.outputDir(stageId, cacheKey);
    const manifestFile = path.join(dir, MANIFEST);
    if (!existsSync(manifestFile)) return undefined;
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    for (const file of Object.values(manifest.files)) {
      const abs = path.join(dir, file.path);
      if (!existsSync(abs) || statSync(abs).size !== file.bytes) return undefined;
    }
    return { stage: manifest.stageId, activity: manifest.activity, cacheKey, dir, files: manifest.files, summary: manifest.summary, cacheHit: true };
  }

  /** Hashes the scratch folder's files, writes the manifest and renames the folder into place. */
  async commit(scratch: string, stageId: string, activity: string, cacheKey: string, summary: StageResult['summary']): Promise<StageResult> {
    const files: Record<string, ArtifactFile> = {};
    for (const rel of listFiles(scratch)) {
      files[rel] = { path: rel, sha256: await sha256File(path.join(scratch, rel)), bytes: statSync(path.join(scratch, rel)).size };
    }
    const manifest: Manifest = { stageId, activity, cacheKey, files, summary, createdAt: new Date().toISOString() };
    writeFileSync(path.join(scratch, MANIFEST), JSON.stringify(manifest, null, 2));
    const dir = this.outputDir(stageId, cacheKey);
    if (existsSync(dir)) {
      const stale = `${dir}.stale-${randomUUID()}`;
      renameSync(dir, stale);
      rmSync(stale, { recursive: true, force: true });
    }
    renameSync(scratch, dir);
    return { stage: stageId, activity, cacheKey, dir, files, summary, cacheHit: false };
  }

  /** Keeps a failed attempt's folder (its logs) where no lookup will take it for an output. */
  discard(scratch: string, stageId: string): string {
    const failedDir = path.join(this.root, 'failed', stageId);
    mkdirSync(failedDir, { recursive: true });
    const kept = path.join(failedDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${path.basename(scratch)}`);
    renameSync(scratch, kept);
    return kept;
  }
}
