import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const lockSchema = z.looseObject({ packages: z.record(z.string(), z.looseObject({ version: z.string().optional() })) });

/** The exact installed version of each package, from the repo's package-lock.json. */
export function packageVersions(repoRoot: string, names: readonly string[]): Record<string, string> {
  const file = path.join(repoRoot, 'package-lock.json');
  const lock = lockSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const versions: Record<string, string> = {};
  for (const name of names) {
    const version = lock.packages[`node_modules/${name}`]?.version;
    if (version === undefined) throw new Error(`${file}: no locked version of '${name}', which the stage code imports; add it to package.json`);
    versions[name] = version;
  }
  return versions;
}
