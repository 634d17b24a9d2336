/**
 * The long run of the readers' fuzz test (test/fuzz-readers.test.ts): many more mutated sample
 * files, with cells up to 2 million characters. Every case must succeed or fail with a
 * UserInputError naming the file, leave nothing behind after a failure, and keep the resident
 * memory rise under the bound; cases that break a rule are collected (not just the first) and
 * printed with the failure, and the run exits 1.
 * Run: npx tsx bench/fuzz-readers.ts [cases] [seed]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { fuzzCaseArbitrary, loadSampleRows, normaliseMessage, runCase } from '../test/fixtures/reader-fuzz';
import { SAMPLE_CSV } from '../test/fixtures/sample-splits';

const RSS_BOUND = 1024 * 2 ** 20;
const MAX_HUGE_CHARS = 2_000_000;

async function main(): Promise<void> {
  const cases = Number(process.argv[2] ?? 1000);
  const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-fuzz-bench-'));
  const sample = await loadSampleRows(8);
  const messages = new Map<string, number>();
  const broken: { testCase: unknown; problem: string }[] = [];
  let succeeded = 0;
  let peak = 0;
  const start = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(fuzzCaseArbitrary({ maxHugeChars: MAX_HUGE_CHARS }), async (c) => {
        try {
          const outcome = await runCase(c, sample, { format: 'lmsys', path: SAMPLE_CSV }, path.join(dir, 'case'));
          peak = Math.max(peak, outcome.peakRssRise);
          if (outcome.peakRssRise > RSS_BOUND) broken.push({ testCase: c, problem: `resident memory rose by ${outcome.peakRssRise} bytes` });
          if (outcome.error === null) succeeded++;
          else {
            const kind = normaliseMessage(outcome.error, path.join(dir, 'case', c.format === 'lmsys' ? 'input.csv' : 'input.parquet'));
            messages.set(kind, (messages.get(kind) ?? 0) + 1);
          }
        } catch (error) {
          broken.push({ testCase: c, problem: (error as Error).message.slice(0, 600) });
        }
      }),
      { numRuns: cases, seed },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `fuzz-readers: ${cases} cases (seed ${seed}) in ${seconds.toFixed(0)} s: ${succeeded} ingested, ${cases - succeeded - broken.length} refused with ` +
      `${messages.size} distinct messages, ${broken.length} broke a rule; peak RSS rise ${(peak / 2 ** 20).toFixed(0)} MB (bound ${RSS_BOUND / 2 ** 20} MB), ` +
      `process max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );
  for (const [message, n] of [...messages].sort((x, y) => y[1] - x[1])) console.log(`  ${String(n).padStart(5)}  ${message}`);
  for (const { testCase, problem } of broken) console.log(`BROKEN: ${problem}\n  case: ${JSON.stringify(testCase).slice(0, 600)}`);
  if (broken.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
