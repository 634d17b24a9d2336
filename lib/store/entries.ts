import { existsSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { scratchOwner, type Owner } from './owner';
import { stageFolder, stageIdOfFolder } from './store-key';

/** What lies in a store root, as gc and du see it. Refs are '/'-separated paths relative to the root. */
export type StoreEntry =
  /** A completed stage output, `stages/<stageId>/<key>`. */
  | { kind: 'output'; ref: string; stageId: string; key: string }
  /** An attempt's scratch folder; `owner` is undefined for folders made before owners were recorded. */
  | { kind: 'scratch'; ref: string; stageId: string; owner?: Owner }
  /** A stage's checkpoints, `checkpoints/<stageId>/<key>`. */
  | { kind: 'checkpoints'; ref: string; stageId: string; key: string }
  /** What a killed process left half-removed: a commit's `.stale-` folder, a pruning's `.pruned-` one, a broken lease. */
  | { kind: 'leftover'; ref: string; stageId: string }
  | { kind: 'lease'; ref: string; stageId: string; key: string }
  | { kind: 'failed'; ref: string; stageId: string };

const MANIFEST = 'manifest.json';
const CHECKPOINT = /^step-\d+$/;

function isDir(file: string): boolean {
  return lstatSync(file).isDirectory();
}

export function listEntries(root: string): StoreEntry[] {
  const out: StoreEntry[] = [];
  const children = (rel: string) => (existsSync(path.join(root, rel)) ? readdirSync(path.join(root, rel)) : []);
  const stageOf = (rel: string, top: string) => stageIdOfFolder(rel.slice(top.length + 1));

  // stages/<stageId...>/<key>: a stage id may itself hold '/', as train/round-0/shard-1 does.
  const walkStages = (rel: string) => {
    for (const name of children(rel)) {
      const child = `${rel}/${name}`;
      if (!isDir(path.join(root, child))) continue;
      const stageId = stageOf(rel, 'stages');
      if (name.includes('.tmp-')) out.push({ kind: 'scratch', ref: child, stageId, owner: scratchOwner(name) });
      else if (name.includes('.stale-')) out.push({ kind: 'leftover', ref: child, stageId });
      else if (existsSync(path.join(root, child, MANIFEST))) out.push({ kind: 'output', ref: child, stageId, key: name });
      else walkStages(child);
    }
  };
  // checkpoints/<stageId...>/<key>/step-<n>: a key folder is the one holding step folders.
  const walkCheckpoints = (rel: string) => {
    for (const name of children(rel)) {
      const child = `${rel}/${name}`;
      if (!isDir(path.join(root, child))) continue;
      const inside = children(child);
      if (inside.some((n) => CHECKPOINT.test(n) || n.startsWith('.step-'))) {
        out.push({ kind: 'checkpoints', ref: child, stageId: stageOf(rel, 'checkpoints'), key: name });
        for (const n of inside.filter((n) => n.includes('.pruned-'))) out.push({ kind: 'leftover', ref: `${child}/${n}`, stageId: stageOf(rel, 'checkpoints') });
      } else walkCheckpoints(child);
    }
  };
  const walkLeases = (rel: string) => {
    for (const name of children(rel)) {
      const child = `${rel}/${name}`;
      const stageId = stageOf(rel, 'leases');
      if (isDir(path.join(root, child))) walkLeases(child);
      else if (name.includes('.broken-')) out.push({ kind: 'leftover', ref: child, stageId });
      else if (name.endsWith('.json')) out.push({ kind: 'lease', ref: child, stageId, key: name.slice(0, -'.json'.length) });
    }
  };
  const walkFailed = (rel: string) => {
    for (const name of children(rel)) {
      const child = `${rel}/${name}`;
      if (!isDir(path.join(root, child))) continue;
      // discard() names a failed attempt's folder `<time>-<key>.tmp-...`.
      if (name.includes('.tmp-')) out.push({ kind: 'failed', ref: child, stageId: stageOf(rel, 'failed') });
      else walkFailed(child);
    }
  };
  walkStages('stages');
  walkCheckpoints('checkpoints');
  walkLeases('leases');
  walkFailed('failed');
  return out;
}

/** Bytes of the files under a path (a file or a folder), links not followed. */
export function bytesOf(file: string): number {
  if (!existsSync(file)) return 0;
  const stat = lstatSync(file);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(file).reduce((sum, name) => sum + bytesOf(path.join(file, name)), 0);
}

/** The stage output a checkpoint folder or lease belongs to: same stage id, same key. */
export function outputRefOf(stageId: string, key: string): string {
  return `stages/${stageFolder(stageId)}/${key}`;
}
