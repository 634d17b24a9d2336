/**
 * Tokenizer parity on every real sample row (train_sample.csv and test.csv) plus the multilingual
 * rows: TypeScript input ids against the Python trainer's on the real Gemma tokenizer, for both
 * tokenizations and every truncation strategy at 2048 and 64 tokens (test/fixtures/gemma-parity.ts;
 * the test runs a bounded subset). Needs the trainer's Python env (scripts/setup-trainer-env.sh).
 * Run: npx tsx bench/gemma-tokenizer-parity.ts
 */
import { compareIds, describeFigures, multilingualRows, sampleRows } from '../test/fixtures/gemma-parity';

async function main(): Promise<void> {
  const figures = compareIds([...(await sampleRows(null)), ...multilingualRows()]);
  console.log(describeFigures(figures));
  for (const m of figures.mismatches.slice(0, 20)) console.log(`  mismatch: ${m}`);
  process.exitCode = figures.mismatches.length === 0 ? 0 : 1;
}

void main();
