import { parse } from 'yaml';
import { PROTOTYPE_KEYS } from '../lib/config/load';

export interface ParsedArgs {
  positional: string[];
  /** `--name value`, `--name=value`, bare `--flag` (true); repeated flags collect into a list. */
  flags: Record<string, string | true | string[]>;
}

const BOOLEAN_FLAGS = new Set(['wait', 'no-cache', 'dry-run']);

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: ParsedArgs['flags'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const value = inline ?? (BOOLEAN_FLAGS.has(name) ? true : argv[++i]);
    if (value === undefined) throw new Error(`--${name} needs a value`);
    const previous = flags[name];
    flags[name] = previous === undefined || value === true ? value : [...(Array.isArray(previous) ? previous : [String(previous)]), value];
  }
  return { positional, flags };
}

/** The values of a repeatable flag, in order: none when absent or given bare. */
export function flagList(flag: string | true | string[] | undefined): string[] {
  return flag === undefined || flag === true ? [] : Array.isArray(flag) ? flag : [flag];
}

/** `--set trainer.epochs=2 --set data.sample_size=500` as a nested overrides object; values are YAML scalars. */
export function parseSetFlags(set: string | true | string[] | undefined): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const item of flagList(set)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`--set ${item}: expected key.path=value`);
    const keys = item.slice(0, eq).split('.');
    // `--set __proto__.x=1` would otherwise walk into Object.prototype and write there.
    const bad = keys.find((key) => PROTOTYPE_KEYS.has(key));
    if (bad !== undefined) throw new Error(`--set ${item}: '${bad}' cannot be a config key`);
    let node = overrides;
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]!] = parse(item.slice(eq + 1));
  }
  return overrides;
}
