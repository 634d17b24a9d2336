import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeIssues, formatPath, issueKeyPath, lineOf, readYaml, YamlError, type YamlSource } from '../yaml-source';
import { CONFIG_NAME } from '../workflow-input';
import { runConfigSchema, type RunConfig } from './schema';

/** Where named configs live: `configs/` of the project, unless the caller says otherwise. */
export const DEFAULT_CONFIG_DIR = path.resolve(__dirname, '..', '..', 'configs');

export interface LoadConfigOptions {
  /** Folder of `<name>.yaml` files. Default: the project's `configs/`. */
  configDir?: string;
  /** Values merged over the resolved file, e.g. from `arena run --set`; validated like the file. */
  overrides?: Record<string, unknown>;
}

/** Reads `configs/<name>.yaml`, follows `extends`, applies defaults and overrides, validates. */
export function loadConfig(name: string, options: LoadConfigOptions = {}): RunConfig {
  const configDir = options.configDir ?? DEFAULT_CONFIG_DIR;
  const chain = readChain(name, configDir);
  for (const source of chain) checkKeys(name, source.value, [], (keyPath) => `${source.file}:${lineOf(source, keyPath)}`);
  if (options.overrides) checkKeys(name, options.overrides, [], () => '(overrides)');
  let merged: Record<string, unknown> = {};
  for (const source of [...chain].reverse()) merged = deepMerge(merged, withoutKey(source.value, 'extends'));
  if (options.overrides) merged = deepMerge(merged, options.overrides);
  const result = runConfigSchema.safeParse({ ...merged, name });
  if (!result.success) {
    const bySource = new Map<YamlSource | undefined, typeof result.error.issues>();
    for (const issue of result.error.issues) {
      const source = sourceOfIssue(chain, options.overrides, issueKeyPath(issue));
      bySource.set(source, [...(bySource.get(source) ?? []), issue]);
    }
    const lines = [...bySource].map(([source, issues]) => describeIssues(source ?? '(overrides)', issues));
    throw new YamlError('ConfigError', `invalid config '${name}':\n${lines.join('\n')}`);
  }
  return result.data;
}

function readChain(name: string, configDir: string): YamlSource[] {
  const chain: YamlSource[] = [];
  let next: string | undefined = name;
  let from: YamlSource | undefined;
  while (next !== undefined) {
    if (!CONFIG_NAME.test(next)) throw configRefError(from, `config name '${next}' may hold only letters, digits, '_', '-' and '.'`);
    const file = path.join(configDir, `${next}.yaml`);
    if (!existsSync(file)) throw configRefError(from, `no config '${next}' (looked for ${file})`);
    if (chain.some((s) => s.file === file)) throw configRefError(from, `extends forms a cycle: ${[...chain.map((s) => path.basename(s.file, '.yaml')), next].join(' -> ')}`);
    const source = readYaml(file, 'ConfigError');
    if (typeof source.value !== 'object' || source.value === null || Array.isArray(source.value)) {
      throw new YamlError('ConfigError', `${file}:1: a config must be a mapping of keys to values`);
    }
    const declaredName = (source.value as Record<string, unknown>)['name'];
    if (declaredName !== undefined && declaredName !== next) {
      throw new YamlError('ConfigError', `${file}:${lineOfKey(source, 'name')}: name: '${String(declaredName)}' differs from the file name '${next}'`);
    }
    chain.push(source);
    const parent: unknown = (source.value as Record<string, unknown>)['extends'];
    if (parent !== undefined && typeof parent !== 'string') {
      throw new YamlError('ConfigError', `${file}:${lineOfKey(source, 'extends')}: extends: expected the name of another config`);
    }
    from = source;
    next = parent;
  }
  return chain;
}

/** Keys that reach an object's prototype when merged: refused before any merge, wherever they come from. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function checkKeys(name: string, value: unknown, keyPath: (string | number)[], where: (keyPath: (string | number)[]) => string): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = [...keyPath, Array.isArray(value) ? Number(key) : key];
    if (PROTOTYPE_KEYS.has(key)) throw new YamlError('ConfigError', `invalid config '${name}':\n${where(childPath)}: ${formatPath(childPath)}: '${key}' cannot be a config key`);
    checkKeys(name, child, childPath, where);
  }
}

function configRefError(from: YamlSource | undefined, message: string): YamlError {
  if (!from) return new YamlError('ConfigError', message);
  return new YamlError('ConfigError', `${from.file}:${lineOfKey(from, 'extends')}: extends: ${message}`);
}

function lineOfKey(source: YamlSource, key: string): number {
  const node = source.doc.getIn([key], true) as { range?: [number, number, number] } | undefined;
  return node?.range ? source.lines.linePos(node.range[0]).line : 1;
}

/** The most derived place that sets the key at `path`: undefined means the overrides. */
function sourceOfIssue(
  chain: YamlSource[],
  overrides: Record<string, unknown> | undefined,
  issuePath: PropertyKey[],
): YamlSource | undefined {
  const keyPath = issuePath as (string | number)[];
  if (overrides && hasPath(overrides, keyPath)) return undefined;
  for (let depth = keyPath.length; depth > 0; depth--) {
    const prefix = keyPath.slice(0, depth);
    const found = chain.find((source) => source.doc.hasIn(prefix));
    if (found) return found;
  }
  return chain[0];
}

function hasPath(value: unknown, keyPath: (string | number)[]): boolean {
  let node = value;
  for (const key of keyPath) {
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return true;
}

function withoutKey(value: unknown, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = value as Record<string, unknown>;
  return rest;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Mappings merge key by key; everything else (lists included) is replaced. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}
