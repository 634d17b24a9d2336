import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { InputFile } from '../activities/ingest/ingest';
import { fuzzCaseArbitrary, loadSampleRows, normaliseMessage, runCase } from './fixtures/reader-fuzz';
import { SAMPLE_CSV } from './fixtures/sample-splits';

/**
 * Issue 9: ingest either succeeds or fails with a UserInputError naming the file, never crashes
 * raw, never leaves files in its output folder after a failure, and stays under a memory bound,
 * on mutated real sample rows. A bounded slice with a fixed seed; bench/fuzz-readers.ts runs long.
 * ARENA_FUZZ_RUNS and ARENA_FUZZ_SEED change the slice.
 */

const RUNS = Number(process.env['ARENA_FUZZ_RUNS'] || 40);
const SEED = Number(process.env['ARENA_FUZZ_SEED'] || 9);
/** Cells up to 300,000 characters (over data.max_text_chars' default) in a file of a few rows. */
const MAX_HUGE_CHARS = 300_000;
/**
 * Resident memory ingest may add over its level before the call. Measured on these cases: at
 * most about 150 MB (DuckDB's buffers plus a few copies of a 1.2 MB cell); 512 MB leaves room for
 * a loaded machine while still catching a blow-up like the 43x-the-text one of issue 9.
 */
const RSS_BOUND = 512 * 2 ** 20;

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-fuzz-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test(`ingest on ${RUNS} mutated sample files: succeeds or fails naming the file, leaves nothing behind, stays under ${RSS_BOUND / 2 ** 20} MB`, async () => {
  const sample = await loadSampleRows(8);
  const goodTrain: InputFile = { format: 'lmsys', path: SAMPLE_CSV };
  const messages = new Map<string, number>();
  let succeeded = 0;
  let peak = 0;
  await fc.assert(
    fc.asyncProperty(fuzzCaseArbitrary({ maxHugeChars: MAX_HUGE_CHARS }), async (c) => {
      const outcome = await runCase(c, sample, goodTrain, path.join(tmp, 'case'));
      peak = Math.max(peak, outcome.peakRssRise);
      assert.ok(outcome.peakRssRise < RSS_BOUND, `resident memory rose by ${outcome.peakRssRise} bytes`);
      if (outcome.error === null) succeeded++;
      else {
        const kind = normaliseMessage(outcome.error, path.join(tmp, 'case', c.format === 'lmsys' ? 'input.csv' : 'input.parquet'));
        messages.set(kind, (messages.get(kind) ?? 0) + 1);
      }
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true, includeErrorInReport: true },
  );
  console.log(`fuzz slice: ${RUNS} cases (seed ${SEED}), ${succeeded} ingested, ${RUNS - succeeded} refused with ${messages.size} distinct messages; peak RSS rise ${(peak / 2 ** 20).toFixed(0)} MB`);
  for (const [message, n] of [...messages].sort((x, y) => y[1] - x[1])) console.log(`  ${String(n).padStart(4)}  ${message}`);
  // The slice must exercise both outcomes, or it tests less than it claims.
  assert.ok(succeeded > 0 && messages.size > 3, `${succeeded} successes, ${messages.size} kinds of error`);
});
