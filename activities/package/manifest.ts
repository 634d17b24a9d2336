import path from 'node:path';
import { z } from 'zod';
import { listFiles, sha256File } from '../../lib/store/hash';
import { statSync } from 'node:fs';

/** The format arena_infer/integrity.py checks for. */
export const PACKAGE_FORMAT = 'arena-kaggle-package/1';

export const packageManifestSchema = z.strictObject({
  format: z.literal(PACKAGE_FORMAT),
  run_id: z.string(),
  model: z.strictObject({ kind: z.string(), step: z.int(), basemodel: z.string(), feature_columns: z.int() }),
  inference: z.strictObject({ batch_size: z.int().positive(), tta: z.boolean() }),
  estimate: z.unknown(),
  /** Every file of the dataset folder but this manifest and dataset-metadata.json, by relative path. */
  files: z.record(z.string(), z.strictObject({ sha256: z.string(), bytes: z.int() })),
});

export type PackageManifest = z.infer<typeof packageManifestSchema>;

/** Files the manifest does not cover: itself, and the upload metadata (which names the dataset, set per upload). */
export const UNHASHED = ['manifest.json', 'dataset-metadata.json'];

export async function hashFiles(dir: string): Promise<PackageManifest['files']> {
  const files: PackageManifest['files'] = {};
  for (const rel of listFiles(dir)) {
    if (UNHASHED.includes(rel)) continue;
    const file = path.join(dir, rel);
    files[rel] = { sha256: await sha256File(file), bytes: statSync(file).size };
  }
  return files;
}
