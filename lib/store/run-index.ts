import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * What each run references, written by the store's own activities: `runs/<workflowId>.jsonl`, one
 * line per stage output the run took (a commit, a cache hit, a shared result) or started computing.
 * gc keeps what recent runs list here. It is in the store rather than asked of Temporal because the
 * workflows' results hold local paths of one machine, and a running workflow's results are not out
 * yet; Temporal is asked only which runs are still running.
 */

const runUseSchema = z.strictObject({
  /** A stage output reference, `stages/<stageId>/<cacheKey>`; its checkpoints share the key. */
  ref: z.string(),
  config: z.string(),
  at: z.iso.datetime(),
});

export interface RunReferences {
  workflowId: string;
  config: string;
  /** When the run last recorded a reference: its age for `gc --keep-days`. */
  lastUsed: Date;
  refs: Set<string>;
  file: string;
}

const RUNS = 'runs';

function indexFile(root: string, workflowId: string): string {
  return path.join(root, RUNS, `${encodeURIComponent(workflowId)}.jsonl`);
}

/** Appends one reference; appends of one short line are atomic, so concurrent stages of a run do not tear each other's lines. */
export function recordRunUse(root: string, workflowId: string, config: string, ref: string): void {
  mkdirSync(path.join(root, RUNS), { recursive: true });
  appendFileSync(indexFile(root, workflowId), `${JSON.stringify({ ref, config, at: new Date().toISOString() })}\n`);
}

/** Every run's references. A line cut short by a crash mid-append is skipped: the same reference is recorded again when the run goes on. */
export function readRunIndex(root: string): RunReferences[] {
  const dir = path.join(root, RUNS);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .map((name) => {
      const file = path.join(dir, name);
      const run: RunReferences = { workflowId: decodeURIComponent(name.slice(0, -'.jsonl'.length)), config: '', lastUsed: statSync(file).mtime, refs: new Set(), file };
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const use = runUseSchema.safeParse(parseLine(line));
        if (!use.success) continue;
        run.refs.add(use.data.ref);
        run.config = use.data.config;
      }
      return run;
    });
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
