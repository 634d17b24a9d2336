/**
 * Instance ids of fan-out stages: `teacher[fold=2]`, `grid[lr=0.001,seed=1]`. A stage without
 * `foreach` keeps its plain name. Bundled into the workflow: no I/O here.
 */

export function instanceId(stage: string, labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? stage : `${stage}[${entries.map(([name, label]) => `${name}=${label}`).join(',')}]`;
}

export interface ParsedInstanceId {
  stage: string;
  /** The label of each variable; empty for a plain stage. */
  values: Record<string, string>;
}

const ID = /^([a-z][a-z0-9_-]*)(?:\[([^\]]*)\])?$/;

/** The stage and variable labels of an instance id; undefined for what is not one. */
export function parseInstanceId(id: string): ParsedInstanceId | undefined {
  const match = ID.exec(id);
  if (!match) return undefined;
  const values: Record<string, string> = {};
  if (match[2] === undefined) return { stage: match[1]!, values };
  for (const part of match[2].split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) return undefined;
    values[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { stage: match[1]!, values };
}

/**
 * A `needs:` entry: a stage (`teacher`), or a selection of its instances: `teacher[fold=1]` (a
 * label), `teacher[fold]` (the needing instance's own label of `fold`).
 */
export interface NeedSelector {
  stage: string;
  /** Per variable: a label, or null for "the needing instance's own". */
  where: Record<string, string | null>;
}

const NEED = /^([a-z][a-z0-9_-]*)(?:\[([^\]]+)\])?$/;

export function parseNeed(need: string): NeedSelector | undefined {
  const match = NEED.exec(need);
  if (!match) return undefined;
  const where: Record<string, string | null> = {};
  for (const part of match[2]?.split(',') ?? []) {
    const [name, label, extra] = part.split('=');
    if (!name || extra !== undefined || label === '' || name in where) return undefined;
    where[name] = label ?? null;
  }
  return { stage: match[1]!, where };
}
