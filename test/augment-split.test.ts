import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { augment } from '../activities/augment/augment';
import type { FeatureColumn } from '../lib/feature-columns';
import { split, type SplitOptions } from '../activities/split/split';
import { UserInputError } from '../lib/errors';
import { readParquet, sql, type Row } from './helpers/duckdb-rows';


const FEATURES: FeatureColumn[] = [
  { name: 'len_a', swap: { with: 'len_b' } },
  { name: 'len_b', swap: { with: 'len_a' } },
  { name: 'len diff "quoted"', swap: 'negate' },
  { name: 'len_ratio', swap: 'reciprocal' },
  { name: 'prompt_len', swap: 'keep' },
];

const LANGUAGES = ['English', 'English', 'English', 'English', 'Russian', 'Russian', 'Chinese', 'Hindi', 'Arabic', 'Chinese'];

/** A features table of `n` rows; row i has language LANGUAGES[i % 10] and simple arithmetic features. */
async function writeFeatures(file: string, n: number): Promise<void> {
  const languages = `[${LANGUAGES.map((language) => `'${language}'`).join(', ')}]`;
  await sql(
    `COPY (
      SELECT
        'r' || i AS id, 'wsdm' AS source, 'prompt ' || i AS prompt, 'answer A ' || i AS response_a, 'answer B ' || i AS response_b,
        'model-' || (i % 3) AS model_a, 'model-' || (i % 5 + 3) AS model_b,
        ${languages}[(i % 10) + 1] AS language,
        CASE WHEN i % 2 = 0 THEN 'model_a' ELSE 'model_b' END AS winner,
        (9 + i)::DOUBLE AS len_a, (10 + 2 * i)::DOUBLE AS len_b,
        ((9 + i) - (10 + 2 * i))::DOUBLE AS "len diff ""quoted""",
        CASE WHEN i = 0 THEN 0 ELSE (9 + i) / (10 + 2 * i) END::DOUBLE AS len_ratio,
        (7 + i % 4)::DOUBLE AS prompt_len
      FROM range($n) AS t(i)
    ) TO $file (FORMAT parquet)`,
    { file, n },
  );
}

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeFeatureColumns(name: string, columns: unknown): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify({ columns }));
  return file;
}

describe('augment', () => {
  let input: string;
  let columnsFile: string;
  before(async () => {
    input = path.join(tmp, 'features.parquet');
    await writeFeatures(input, 40);
    columnsFile = writeFeatureColumns('feature_columns.json', FEATURES);
  });

  test('appends after each row its swap, column by column', async () => {
    const output = path.join(tmp, 'augmented.parquet');
    const result = await augment({ input, featureColumnsFile: columnsFile, mode: 'append', output });
    assert.deepEqual(result, { rows: 80, swappedRows: 40 });
    const originals = await readParquet(input);
    const rows = await readParquet(output);
    assert.deepEqual(Object.keys(rows[0]!), [...Object.keys(originals[0]!), 'pair_id', 'swapped']);
    originals.forEach((original, i) => {
      const kept = rows[2 * i]!;
      const swapped = rows[2 * i + 1]!;
      assert.deepEqual(kept, { ...original, pair_id: original.id, swapped: false });
      assert.deepEqual(swapped, {
        id: `${original.id}#swap`,
        source: original.source,
        prompt: original.prompt,
        response_a: original.response_b,
        response_b: original.response_a,
        model_a: original.model_b,
        model_b: original.model_a,
        language: original.language,
        winner: original.winner === 'model_a' ? 'model_b' : 'model_a',
        len_a: original.len_b,
        len_b: original.len_a,
        'len diff "quoted"': -(original['len diff "quoted"'] as number),
        len_ratio: 1 / (original.len_ratio as number),
        prompt_len: original.prompt_len,
        pair_id: original.id,
        swapped: true,
      });
    });
    assert.equal(rows[1]!.len_ratio, Infinity, 'the reciprocal of 0 is +inf');
  });

  test('swapping twice gives every row back', async () => {
    const once = path.join(tmp, 'once.parquet');
    await augment({ input, featureColumnsFile: columnsFile, mode: 'append', output: once });
    const swappedOnly = path.join(tmp, 'swapped-only.parquet');
    await sql(`COPY (SELECT * EXCLUDE (pair_id, swapped) FROM read_parquet($once) WHERE swapped) TO $out (FORMAT parquet)`, { once, out: swappedOnly });
    const twice = path.join(tmp, 'twice.parquet');
    await augment({ input: swappedOnly, featureColumnsFile: columnsFile, mode: 'append', output: twice });
    const back = (await readParquet(twice)).filter((row) => row.swapped);
    const originals = await readParquet(input);
    assert.equal(back.length, originals.length);
    back.forEach((row, i) => {
      const original = originals[i]!;
      const { id, pair_id, swapped, len_ratio, ...rest } = row;
      const { id: originalId, len_ratio: originalRatio, ...originalRest } = original;
      assert.equal(id, `${originalId}#swap#swap`);
      assert.deepEqual(rest, originalRest);
      assert.ok(Math.abs((len_ratio as number) - (originalRatio as number)) <= 1e-15 * Math.abs(originalRatio as number));
    });
  });

  test('mode none keeps the originals only; the other modes write the same rows', async () => {
    const none = path.join(tmp, 'none.parquet');
    assert.deepEqual(await augment({ input, featureColumnsFile: columnsFile, mode: 'none', output: none }), { rows: 40, swappedRows: 0 });
    const rows = await readParquet(none);
    assert.ok(rows.every((row) => row.swapped === false && row.pair_id === row.id));
    const append = await readParquet(path.join(tmp, 'augmented.parquet'));
    for (const mode of ['alternate', 'per_gpu'] as const) {
      const output = path.join(tmp, `${mode}.parquet`);
      await augment({ input, featureColumnsFile: columnsFile, mode, output });
      assert.deepEqual(await readParquet(output), append);
    }
  });

  test('a bad feature_columns.json is rejected with the key named', async () => {
    const cases: [unknown, (file: string) => string][] = [
      [[{ name: 'len_a', swap: 'mirror' }], (f) => `${f}: key 'columns[0].swap': must be {"with": <column>}, "negate", "reciprocal" or "keep", not "mirror"`],
      [[{ name: 'len_a', swap: { with: 'len_b' } }, { name: 'len_b', swap: 'keep' }], (f) => `${f}: key 'columns[0].swap': 'len_a' swaps with 'len_b', which must be another listed column that swaps back with it`],
      [[{ name: 'no_such_feature', swap: 'keep' }], (f) => `${f}: key 'columns[0].name': column 'no_such_feature' is not in ${input}`],
    ];
    for (const [i, [columns, message]] of cases.entries()) {
      const file = writeFeatureColumns(`bad-${i}.json`, columns);
      const output = path.join(tmp, `bad-${i}`, 'augmented.parquet');
      await assert.rejects(augment({ input, featureColumnsFile: file, mode: 'append', output }), (error: unknown) => {
        assert.ok(error instanceof UserInputError);
        assert.equal(error.message, message(file));
        return true;
      });
      const dir = path.dirname(output);
      assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], [], 'no output, temporary or final');
    }
  });
});

describe('split', () => {
  const PAIRS = 2000;
  let augmented: string;
  before(async () => {
    const features = path.join(tmp, 'split-features.parquet');
    await writeFeatures(features, PAIRS);
    augmented = path.join(tmp, 'split-augmented.parquet');
    await augment({ input: features, featureColumnsFile: writeFeatureColumns('split-columns.json', FEATURES), mode: 'append', output: augmented });
  });

  async function run(name: string, options: Partial<SplitOptions>) {
    const opts: SplitOptions = {
      input: augmented,
      validationSize: 0.1,
      sampleSize: null,
      seed: 42,
      stratifyByLanguage: false,
      trainOutput: path.join(tmp, name, 'train.parquet'),
      validOutput: path.join(tmp, name, 'valid.parquet'),
      ...options,
    };
    const report = await split(opts);
    const train = await readParquet(opts.trainOutput);
    const valid = await readParquet(opts.validOutput);
    return { report, train, valid };
  }

  /** The validation pairs, worked out independently: smallest md5("<seed>:<pair_id>") first. */
  function expectedValidPairs(pairIds: string[], seed: number, fraction: number): string[] {
    const key = (id: string) => crypto.createHash('md5').update(`${seed}:${id}`).digest('hex');
    const sorted = [...pairIds].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
    return sorted.slice(0, Math.round(pairIds.length * fraction)).sort();
  }

  const pairIds = () => Array.from({ length: PAIRS }, (_, i) => `r${i}`);
  const ids = (rows: Row[]) => rows.map((row) => String(row.id));

  test('holds out the pairs with the smallest md5 keys; no pair on both sides', async () => {
    const { report, train, valid } = await run('plain', {});
    assert.deepEqual(valid.map((row) => row.pair_id).sort(), expectedValidPairs(pairIds(), 42, 0.1));
    assert.equal(report.valid.pairs, 200);
    assert.equal(report.train.pairs, 1800);
    assert.ok(valid.every((row) => row.swapped === false));
    assert.deepEqual([report.train.rows, report.valid.rows], [train.length, valid.length]);
    assert.equal(train.length, 3600, 'both copies of every training pair');
    const validPairs = new Set(valid.map((row) => row.pair_id));
    assert.ok(train.every((row) => !validPairs.has(row.pair_id)));
  });

  test('is deterministic for a seed and differs for another', async () => {
    const first = await run('seed-a', {});
    const again = await run('seed-b', {});
    const other = await run('seed-c', { seed: 43 });
    assert.deepEqual(ids(again.valid), ids(first.valid));
    assert.deepEqual(ids(again.train), ids(first.train));
    assert.notDeepEqual(ids(other.valid), ids(first.valid));
    assert.equal(other.report.valid.pairs, 200);
  });

  test('stratifies: each language gets round(n * fraction) validation pairs', async () => {
    const { report, valid } = await run('strata', { stratifyByLanguage: true, validationSize: 0.15 });
    const perLanguage = new Map<string, number>();
    LANGUAGES.forEach((language) => perLanguage.set(language, (perLanguage.get(language) ?? 0) + PAIRS / 10));
    for (const [language, n] of perLanguage) {
      const expected = Math.round(n * 0.15);
      assert.equal(report.languages[language]?.valid, expected, language);
      assert.equal(report.languages[language]?.train, n - expected, language);
      assert.equal(valid.filter((row) => row.language === language).length, expected, language);
    }
  });

  test('sample_size keeps that many pairs, the same ones for a seed', async () => {
    const { report, train, valid } = await run('sample', { sampleSize: 500, validationSize: 0.2 });
    assert.equal(report.pairs_in, 2000);
    assert.equal(report.pairs_used, 500);
    assert.deepEqual([report.train.pairs, report.valid.pairs], [400, 100]);
    const used = [...new Set([...train, ...valid].map((row) => String(row.pair_id)))].sort();
    const key = (id: string) => crypto.createHash('md5').update(`42:${id}`).digest('hex');
    const expected = pairIds().sort((x, y) => (key(x) < key(y) ? -1 : 1)).slice(0, 500).sort();
    assert.deepEqual(used, expected);
  });

  test('a split that leaves a side empty is refused', async () => {
    await assert.rejects(run('tiny', { sampleSize: 3 }), (error: unknown) => {
      assert.ok(error instanceof UserInputError);
      assert.equal(error.message, `${augmented}: splitting 3 pairs with validation_size 0.1 leaves the validation side empty`);
      return true;
    });
    assert.deepEqual(fs.existsSync(path.join(tmp, 'tiny')) ? fs.readdirSync(path.join(tmp, 'tiny')) : [], []);
  });
});
