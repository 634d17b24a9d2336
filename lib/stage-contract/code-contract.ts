import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sha256Json } from '../store/hash';
import { moduleClosure, type ModuleClosure } from './module-closure';
import { packageVersions } from './package-versions';

/** Everything of the code that enters a cache key: files with their hashes, and package versions. */
export interface CodeContract {
  /** Repo-relative path → sha256 of its content. */
  files: Record<string, string>;
  /** Package name → exact locked version. */
  packages: Record<string, string>;
  /** The hash of both: the code version. */
  version: string;
}

// Bundling takes ~0.1-0.5 s per stage: once per process for each root and code set.
const contracts = new Map<string, CodeContract>();

/** The code contract of the closure of `entries` plus `files` (all repo-relative), computed once per process. */
export function codeContract(repoRoot: string, entries: readonly string[], files: readonly string[] = []): CodeContract {
  const cacheKey = JSON.stringify([repoRoot, [...entries].sort(), [...files].sort()]);
  let contract = contracts.get(cacheKey);
  if (contract === undefined) {
    contract = contractOf(repoRoot, moduleClosure(repoRoot, entries), files);
    contracts.set(cacheKey, contract);
  }
  return contract;
}

/** Hashes a closure's files (and `files`) as they are now, with the locked versions of its packages. */
export function contractOf(repoRoot: string, closure: ModuleClosure, files: readonly string[] = []): CodeContract {
  const hashes: Record<string, string> = {};
  for (const file of [...new Set([...closure.files, ...files])].sort()) {
    hashes[file] = createHash('sha256').update(readFileSync(path.resolve(repoRoot, file))).digest('hex');
  }
  const packages = packageVersions(repoRoot, closure.packages);
  return { files: hashes, packages, version: sha256Json({ files: hashes, packages }) };
}
