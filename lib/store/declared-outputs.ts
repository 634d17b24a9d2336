import { existsSync } from 'node:fs';
import path from 'node:path';
import { listFiles } from './hash';

/**
 * The files of a finished scratch folder that a stage declared as outputs (`name`, `folder/`, a
 * trailing `?` for optional ones), leaving out the side folder `sideDir` and `ignore`d names.
 * An undeclared file fails the stage rather than being dropped: a stage that writes an output
 * nobody declared would hand downstream less than it meant to, silently, and its key would not
 * cover it. A declared output that is missing fails it too, naming it.
 */
export function declaredFiles(stageId: string, scratch: string, outputs: readonly string[], sideDir: string, ignore: readonly string[]): string[] {
  const declared = outputs.map((o) => ({ name: o.replace(/\?$/, ''), optional: o.endsWith('?') }));
  const matches = (file: string, name: string) => (name.endsWith('/') ? file.startsWith(name) : file === name);
  const present = existsSync(scratch) ? listFiles(scratch).filter((f) => !f.startsWith(`${sideDir}/`) && !ignore.includes(f)) : [];
  const undeclared = present.filter((f) => !declared.some((d) => matches(f, d.name)));
  if (undeclared.length > 0) {
    throw new Error(`${stageId}: wrote ${undeclared.map((f) => `'${f}'`).join(', ')}, not among its declared outputs (${outputs.join(', ')}); logs and diagnostics belong in ${path.join(scratch, sideDir)}`);
  }
  const missing = declared.filter((d) => !d.optional && !present.some((f) => matches(f, d.name))).map((d) => d.name);
  if (missing.length > 0) throw new Error(`${stageId}: declared output ${missing.map((m) => `'${m}'`).join(', ')} missing at commit`);
  return present;
}
