import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareIds, describeFigures, multilingualRows, sampleRows } from './fixtures/gemma-parity';

// The JS tokenizer encodes about 20k characters/s on a shared core, so the test takes the first 120
// rows of train_sample.csv (by id), all of test.csv and the multilingual rows; bench/gemma-tokenizer-parity.ts
// runs every row.
const SAMPLE_TRAIN_ROWS = 120;

describe('input ids on the real Gemma tokenizer', () => {
  it('are the same in TypeScript and in the Python trainer for every tokenization and strategy at 2048 and 64', async () => {
    const rows = [...(await sampleRows(SAMPLE_TRAIN_ROWS)), ...multilingualRows()];
    const figures = compareIds(rows);
    console.log(describeFigures(figures));
    assert.deepEqual(figures.mismatches, []);
    assert.ok(figures.cut > 300, `many encodings are cut, so every strategy is exercised (${figures.cut})`);
    // The reference's recipe: one string, BOS 2 first and EOS 1 last, cut or not.
    assert.ok(figures.reference.every((ids) => ids[0] === 2 && ids.at(-1) === 1 && ids.length <= 64));
  });
});
