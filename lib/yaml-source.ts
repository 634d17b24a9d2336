import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';

/** A YAML file parsed with its positions kept, so that errors can name the line of a key. */
export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  value: unknown;
}

/** A YAML file that fails to parse or validate. The message names file, line and key path. */
export class YamlError extends Error {
  constructor(
    override readonly name: 'ConfigError' | 'PipelineError',
    message: string,
  ) {
    super(message);
  }
}

export function readYaml(file: string, kind: YamlError['name']): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new YamlError(kind, `${file}: cannot read: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = lines.linePos(first.pos[0]).line;
    throw new YamlError(kind, `${file}:${line}: ${first.message.split('\n')[0]}`);
  }
  return { file, doc, lines, value: doc.toJS() ?? {} };
}

/** The line of the node at `path`, or of its closest existing ancestor. */
export function lineOf(source: YamlSource, path: readonly PropertyKey[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const keys = path.slice(0, depth) as (string | number)[];
    const node = (keys.length === 0 ? source.doc.contents : source.doc.getIn(keys, true)) as Node | null | undefined;
    const keyNode = depth > 0 ? keyNodeAt(source, keys) : undefined;
    const range = keyNode?.range ?? node?.range;
    if (range) return source.lines.linePos(range[0]).line;
  }
  return 1;
}

function keyNodeAt(source: YamlSource, keys: (string | number)[]): Node | undefined {
  const parent = keys.length === 1 ? source.doc.contents : source.doc.getIn(keys.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = keys[keys.length - 1];
  const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === last);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** The key an issue is about: for an unknown key, the key itself rather than its parent. */
export function issueKeyPath(issue: z.core.$ZodIssue): PropertyKey[] {
  return issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
}

/** One line per zod issue: `file:line: key.path: message`, or `(label): key.path: message` without a file. */
export function describeIssues(source: YamlSource | string, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issueKeyPath(issue);
      const where = typeof source === 'string' ? source : `${source.file}:${lineOf(source, path)}`;
      return `${where}: ${formatPath(path) || '(top level)'}: ${issue.message}`;
    })
    .join('\n');
}
