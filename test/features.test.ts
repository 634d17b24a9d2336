import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Sentiment = require('sentiment') as new () => { analyze(text: string): { comparative: number } };
import { buildFeatures } from '../activities/features/build-features';
import { featureColumns, parseFeatureDefinitions } from '../activities/features/feature-definitions';
import { PYTHON_CHAR_CLASSES_FILE } from '../activities/features/text-counts';
import { detectLanguage } from '../lib/language-id';
import { UserInputError } from '../lib/errors';
import { SAMPLE_DIR } from './fixtures/sample-splits';

const PYTHON_REFERENCE = path.join(__dirname, 'fixtures', 'python_reference_counts.py');
const GENERATOR = path.resolve(__dirname, '..', 'activities', 'features', 'generate_python_char_classes.py');
const FIELDS = ['prompt', 'response_a', 'response_b'] as const;
const TEXT_FEATURES = [
  'len', 'spaces', 'punct', 'question', 'quot', 'formatting_chars', 'math_chars', 'curly_open', 'curly_close',
  'round_open', 'round_close', 'special_chars', 'digits', 'lower', 'upper', 'chinese', 'round_balance',
  'curly_balance', 'json',
];

type Texts = Record<(typeof FIELDS)[number], string | null>;
type Row = { id: string } & Texts;

/** Texts chosen where Python's `re` and a naive implementation part ways. */
const FIXTURES: Row[] = [
  { id: 'cyrillic', prompt: 'Привет, как дела? Что такое JSON?', response_a: 'Всё хорошо! Ёлка — 2024 год (зима).', response_b: 'ПРИВЕТ_мир {json} Ǆ ǅ' },
  { id: 'arabic', prompt: 'ما هو الرقم ٣٤٥؟', response_a: 'الرقم ١٢٣٤٥٦٧٨٩٠ هو، "عدد".', response_b: 'نعم ۱۲۳ (فارسی) ‎‏' },
  { id: 'chinese', prompt: '你好，世界！这是什么？', response_a: '中a文 中文中文 JSON json 九〇', response_b: '「引用」和（括号）㐀𠀀 鿿' },
  { id: 'hindi', prompt: 'नमस्ते, यह क्या है? ०१२३', response_a: 'संख्या ४५६ है।', response_b: 'हिन्दी — ७८९ ক১' },
  { id: 'emoji', prompt: '👍🏽 hello 👨‍👩‍👧‍👦 family', response_a: '🇫🇷 flag ❤️ ZWJ 🏳️‍🌈 😀😀', response_b: '𝟘𝟙𝟚 math digits 𐐷 deseret' },
  { id: 'whitespace', prompt: 'a\u00a0b\u2028c\u3000d\ufeffe\u200bf', response_a: '\x1c\x1d\x1e\x1f\x85\t\v\f\r\n end', response_b: '\u2000\u200a\u202f\u205f\u1680 x\u180e' },
  // Letters and digits newer than Python 3.11's Unicode 14, which Node's regexes would count.
  { id: 'unicode-15', prompt: '\u{1e4f0}\u{1e4f1} \u{11f50}', response_a: '\u{11f00}\u{1e4d0} x', response_b: '²³½Ⅻ①' },
  { id: 'json-case', prompt: 'JsOn jSON ſon İjson KJSON jsonjson', response_a: 'J S O N jso', response_b: 'xjsonx_JSON-json' },
  { id: 'punctuation', prompt: '*bold* _it_ a-b+c=d {x} (y) ((z', response_a: "'q' \"d\" ?!.,", response_b: '}}{{ ))(( ___ ***' },
  { id: 'empty', prompt: '', response_a: '', response_b: '' },
  { id: 'null', prompt: null, response_a: null, response_b: null },
  { id: 'mixed-null', prompt: 'prompt only', response_a: null, response_b: 'ab' },
];

/** Joins a turn list's non-null items the way ingest does, so both sides count the same text. */
function flattenTurns(json: string): string {
  return (JSON.parse(json) as (string | null)[]).filter((turn): turn is string => turn !== null).join('\n\n');
}

async function readSampleRows(connection: DuckDBConnection): Promise<(Row & Record<string, string | null>)[]> {
  const reader = await connection.runAndReadAll(
    `SELECT id, model_a, model_b, prompt, response_a, response_b, winner_model_a, winner_model_b
     FROM read_csv($1, header = true, all_varchar = true)`,
    [path.join(SAMPLE_DIR, 'train_sample.csv')],
  );
  return reader.getRowObjects().map((r) => ({
    id: String(r.id),
    prompt: flattenTurns(String(r.prompt)),
    response_a: flattenTurns(String(r.response_a)),
    response_b: flattenTurns(String(r.response_b)),
    model_a: String(r.model_a),
    model_b: String(r.model_b),
    // Ties stay in: the features stage passes labels through untouched.
    winner: r.winner_model_a === '1' ? 'model_a' : r.winner_model_b === '1' ? 'model_b' : 'tie',
  }));
}

async function writeTable(
  connection: DuckDBConnection,
  file: string,
  columns: string[],
  rows: Record<string, string | null>[],
): Promise<void> {
  await connection.run(`CREATE OR REPLACE TABLE staging (${columns.map((c) => `${c} VARCHAR`).join(', ')})`);
  const appender = await connection.createAppender('staging');
  for (const row of rows) {
    for (const column of columns) {
      const value = row[column];
      if (value === null || value === undefined) appender.appendNull();
      else appender.appendVarchar(value);
    }
    appender.endRow();
  }
  appender.closeSync();
  await connection.run(`COPY staging TO '${file}' (FORMAT parquet)`);
}

async function readFeatures(connection: DuckDBConnection, file: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjects();
}

/** Python's values for the texts as stored in `file` (exported by DuckDB, so both sides read the same bytes). */
async function pythonFeatures(connection: DuckDBConnection, file: string, dir: string): Promise<Map<string, Record<string, number>>> {
  const texts = path.join(dir, `${path.basename(file)}.texts.jsonl`);
  const expected = path.join(dir, `${path.basename(file)}.python.jsonl`);
  await connection.run(`COPY (SELECT id, prompt, response_a, response_b FROM read_parquet('${file}')) TO '${texts}' (FORMAT json)`);
  execFileSync('python3', [PYTHON_REFERENCE, texts, expected]);
  const rows = fs.readFileSync(expected, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, number>);
  return new Map(rows.map((r) => [String(r.id), r]));
}

function assertMatchesPython(actual: Record<string, unknown>[], expected: Map<string, Record<string, number>>): void {
  assert.equal(actual.length, expected.size);
  for (const row of actual) {
    const want = expected.get(String(row.id));
    assert.ok(want, `row ${row.id} missing from the Python output`);
    for (const field of FIELDS) {
      for (const feature of TEXT_FEATURES) {
        const column = `${field}_${feature}`;
        assert.strictEqual(row[column], want[column], `row ${row.id}, ${column}: got ${row[column]}, Python ${want[column]}`);
      }
    }
  }
}

/** The head of a text that the features stage labels: its first 1,000 characters (code points). */
const head = (text: string) => [...text].slice(0, 1000).join('');

function gramCosine(prompt: string, response: string): number {
  const bag = (text: string) => {
    const chars = Array.from(text);
    const counts = new Map<string, number>();
    for (let i = 0; i + 2 < chars.length; i++) {
      const gram = chars[i] + chars[i + 1] + chars[i + 2];
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
    return counts;
  };
  const p = bag(prompt);
  const r = bag(response);
  if (p.size === 0 || r.size === 0) return 0;
  let dot = 0;
  for (const [gram, n] of p) dot += n * (r.get(gram) ?? 0);
  const norm = (b: Map<string, number>) => Math.sqrt([...b.values()].reduce((sum, n) => sum + n * n, 0));
  return dot / (norm(p) * norm(r));
}

describe('features', () => {
  let dir: string;
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  let sample: (Row & Record<string, string | null>)[];
  let trainFeatures: Record<string, unknown>[];
  let fixtureFeatures: Record<string, unknown>[];
  let result: Awaited<ReturnType<typeof buildFeatures>>;
  const paths = (name: string) => path.join(dir, name);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-'));
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    sample = await readSampleRows(connection);
    await writeTable(
      connection,
      paths('ingested.parquet'),
      ['id', 'source', 'prompt', 'response_a', 'response_b', 'model_a', 'model_b', 'language', 'winner'],
      sample.map((r) => ({ ...r, source: 'lmsys', language: 'unknown' })),
    );
    // The test table: WSDM text columns only, no winner or models.
    await writeTable(
      connection,
      paths('test.parquet'),
      ['id', 'source', 'prompt', 'response_a', 'response_b', 'language'],
      FIXTURES.map((r) => ({ ...r, source: 'wsdm', language: 'mixed' })),
    );
    result = await buildFeatures({
      inputs: [
        { table: paths('ingested.parquet'), output: paths('features.parquet') },
        { table: paths('test.parquet'), output: paths('test_features.parquet') },
      ],
      similarity: true,
      sentiment: true,
      featureColumnsFile: paths('feature_columns.json'),
    });
    trainFeatures = await readFeatures(connection, paths('features.parquet'));
    fixtureFeatures = await readFeatures(connection, paths('test_features.parquet'));
  });

  after(() => {
    connection?.closeSync();
    instance?.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the 19 counts match Python re on all 1,000 real rows', async () => {
    assert.equal(trainFeatures.length, 1000);
    assertMatchesPython(trainFeatures, await pythonFeatures(connection, paths('features.parquet'), dir));
  });

  test('the counts match Python on non-Latin scripts, emoji, odd whitespace, empty and NULL texts', async () => {
    assertMatchesPython(fixtureFeatures, await pythonFeatures(connection, paths('test_features.parquet'), dir));
    const byId = new Map(fixtureFeatures.map((r) => [r.id, r]));
    // Spot checks that fail if Node's Unicode or RE2's ASCII classes leak in.
    assert.equal(byId.get('arabic')?.response_a_digits, 10);
    assert.equal(byId.get('unicode-15')?.prompt_digits, 0);
    assert.equal(byId.get('whitespace')?.response_a_spaces, 11);
    assert.equal(byId.get('chinese')?.response_a_chinese, 4 / 21);
    assert.equal(byId.get('null')?.prompt_lower, 0);
    assert.equal(byId.get('null')?.ratio_len, 1);
  });

  test('the shipped Unicode class table is what python3 generates', () => {
    const regenerated = paths('python-char-classes.json');
    execFileSync('python3', [GENERATOR, regenerated]);
    assert.deepEqual(JSON.parse(fs.readFileSync(regenerated, 'utf8')), JSON.parse(fs.readFileSync(PYTHON_CHAR_CLASSES_FILE, 'utf8')));
    // The json count relies on this: only jJsSoOnN lower-case to a string holding j, s, o or n.
    const odd = execFileSync('python3', [
      '-c',
      "print([hex(c) for c in range(0x110000) if not 0xd800 <= c <= 0xdfff and chr(c) not in 'jsonJSON' and any(x in chr(c).lower() for x in 'json')])",
    ]).toString().trim();
    assert.equal(odd, '[]');
  });

  test('similarity is the 3-gram cosine of the prompt and each response', () => {
    for (const row of [...trainFeatures, ...fixtureFeatures]) {
      const source = [...sample, ...FIXTURES].find((r) => r.id === row.id)!;
      for (const side of ['a', 'b'] as const) {
        const want = gramCosine(source.prompt ?? '', source[`response_${side}`] ?? '');
        const got = row[`response_${side}_similarity`] as number;
        assert.ok(Math.abs(got - want) <= 1e-12, `row ${row.id}, response_${side}_similarity: got ${got}, expected ${want}`);
      }
    }
  });

  test("sentiment is the sentiment package comparative AFINN score of each English response, and no score elsewhere", () => {
    const scorer = new Sentiment();
    let unscored = 0;
    for (const row of [...trainFeatures, ...fixtureFeatures]) {
      const source = [...sample, ...FIXTURES].find((r) => r.id === row.id)!;
      for (const side of ['a', 'b'] as const) {
        const text = source[`response_${side}`] ?? '';
        const english = detectLanguage(head(text)) === 'English';
        if (!english) unscored++;
        assert.strictEqual(row[`response_${side}_sentiment_scored`], english ? 1 : 0, `row ${row.id}, response_${side}`);
        assert.strictEqual(row[`response_${side}_sentiment`], english ? scorer.analyze(text).comparative : 0, `row ${row.id}, response_${side}`);
      }
    }
    assert.ok(unscored >= 20, `${unscored} responses without a score`);
    const scoredRows = trainFeatures.filter((row) => row.response_a_sentiment_scored === 1 || row.response_b_sentiment_scored === 1).length;
    assert.deepEqual(result.sentimentScoredRows?.[0], scoredRows);
  });

  test('a response is in the prompt language when both have the same known label', () => {
    let matches = 0;
    for (const row of [...trainFeatures, ...fixtureFeatures]) {
      const source = [...sample, ...FIXTURES].find((r) => r.id === row.id)!;
      const prompt = detectLanguage(head(source.prompt ?? ''));
      for (const side of ['a', 'b'] as const) {
        const response = detectLanguage(head(source[`response_${side}`] ?? ''));
        const want = response === prompt && response !== 'unknown' ? 1 : 0;
        matches += want;
        assert.strictEqual(row[`response_${side}_in_prompt_language`], want, `row ${row.id}, response_${side}`);
      }
      assert.strictEqual(row.diff_in_prompt_language, (row.response_a_in_prompt_language as number) - (row.response_b_in_prompt_language as number));
    }
    assert.ok(matches > 1000 && matches < 2 * (trainFeatures.length + fixtureFeatures.length), `${matches}`);
  });

  test('the script mix is each script\'s share of the letters', () => {
    const byId = new Map(fixtureFeatures.map((r) => [r.id, r]));
    // Привет как дела Что такое: 21 Cyrillic letters; JSON: 4 Latin.
    assert.equal(byId.get('cyrillic')?.prompt_script_cyrillic, 21 / 25);
    assert.equal(byId.get('cyrillic')?.prompt_script_latin, 4 / 25);
    assert.equal(byId.get('chinese')?.prompt_script_han, 1);
    assert.equal(byId.get('arabic')?.prompt_script_arabic, 1);
    assert.equal(byId.get('hindi')?.prompt_script_other, 1);
    assert.equal(byId.get('empty')?.prompt_script_latin, 0);
    assert.equal(byId.get('empty')?.prompt_script_other, 0);
    const scripts = ['latin', 'cyrillic', 'han', 'kana', 'hangul', 'arabic', 'other'];
    for (const row of trainFeatures) {
      const total = scripts.reduce((sum, s) => sum + (row[`response_a_script_${s}`] as number), 0);
      assert.ok(total === 0 || Math.abs(total - 1) < 1e-9, `row ${row.id}: shares add up to ${total}`);
    }
  });

  test('outputs keep every input column and row, and add exactly the listed DOUBLE feature columns', async () => {
    assert.deepEqual(result.rows, [1000, FIXTURES.length]);
    assert.deepEqual(trainFeatures.map((r) => r.id), sample.map((r) => r.id));
    assert.deepEqual(fixtureFeatures.map((r) => r.id), FIXTURES.map((r) => r.id));
    assert.equal(trainFeatures[3].winner, sample[3].winner);
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${paths('test_features.parquet')}')`);
    const types = described.getRowObjects().map((r) => [String(r.column_name), String(r.column_type)]);
    assert.deepEqual(types.slice(0, 6).map(([name]) => name), ['id', 'source', 'prompt', 'response_a', 'response_b', 'language']);
    assert.deepEqual(types.slice(6).map(([name]) => name), result.featureColumns);
    assert.ok(types.slice(6).every(([, type]) => type === 'DOUBLE'));
    for (const row of [...trainFeatures, ...fixtureFeatures]) {
      for (const name of result.featureColumns) {
        assert.ok(Number.isFinite(row[name]), `row ${row.id}, ${name} = ${row[name]}`);
      }
    }
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
  });

  test('feature_columns.json lists every feature column with its swap rule', () => {
    const { columns } = JSON.parse(fs.readFileSync(paths('feature_columns.json'), 'utf8')) as {
      columns: { name: string; swap: unknown }[];
    };
    assert.deepEqual(columns.map((c) => c.name), result.featureColumns);
    const swap = new Map(columns.map((c) => [c.name, c.swap]));
    for (const feature of TEXT_FEATURES) {
      assert.equal(swap.get(`prompt_${feature}`), 'keep');
      assert.deepEqual(swap.get(`response_a_${feature}`), { with: `response_b_${feature}` });
      assert.deepEqual(swap.get(`response_b_${feature}`), { with: `response_a_${feature}` });
      assert.equal(swap.get(`diff_${feature}`), 'negate');
      const signed = feature.endsWith('_balance');
      assert.equal(swap.get(`ratio_${feature}`), signed ? undefined : 'reciprocal', `ratio_${feature}`);
    }
    for (const feature of ['similarity', 'sentiment']) {
      assert.deepEqual(swap.get(`response_a_${feature}`), { with: `response_b_${feature}` });
      assert.equal(swap.get(`diff_${feature}`), 'negate');
      assert.equal(swap.has(`prompt_${feature}`), false);
    }
    assert.equal(swap.get('ratio_similarity'), 'reciprocal');
    assert.equal(swap.has('ratio_sentiment'), false);
    // Text features (19 counts, 7 script shares) for the prompt and both responses, response
    // features (similarity, sentiment, sentiment_scored, in_prompt_language) for both; a difference of
    // each; a ratio of each non-negative one (not the 2 balances, not sentiment).
    assert.equal(columns.length, 26 * 3 + 4 * 2 + (26 + 4) + (24 + 3));
    // Swapping twice is the identity, and every twin exists.
    for (const [name, rule] of swap) {
      if (typeof rule === 'object' && rule !== null) assert.deepEqual(swap.get((rule as { with: string }).with), { with: name });
    }
  });

  test('adding a definition line adds its columns and swap rules', () => {
    const sql = ['SELECT row_idx, field,', '  c.chars AS len, -- feature', '  c.a - c.b AS balance, -- feature: signed', 'FROM counted'];
    const before = featureColumns(parseFeatureDefinitions(sql.join('\n'), 'text'));
    assert.deepEqual(
      before.map((c) => [c.name, c.swap]),
      [
        ['prompt_len', 'keep'], ['prompt_balance', 'keep'],
        ['response_a_len', { with: 'response_b_len' }], ['response_a_balance', { with: 'response_b_balance' }],
        ['response_b_len', { with: 'response_a_len' }], ['response_b_balance', { with: 'response_a_balance' }],
        ['diff_len', 'negate'], ['diff_balance', 'negate'],
        ['ratio_len', 'reciprocal'],
      ],
    );
    const added = [...sql.slice(0, 3), '  c.hashes AS hashes, -- feature', ...sql.slice(3)].join('\n');
    const names = featureColumns(parseFeatureDefinitions(added, 'text')).map((c) => c.name);
    assert.deepEqual(
      names.filter((n) => !before.some((c) => c.name === n)),
      ['prompt_hashes', 'response_a_hashes', 'response_b_hashes', 'diff_hashes', 'ratio_hashes'],
    );
    const response = featureColumns(parseFeatureDefinitions('  x AS tone, -- feature: signed', 'response'));
    assert.deepEqual(response.map((c) => c.name), ['response_a_tone', 'response_b_tone', 'diff_tone']);
    assert.throws(() => parseFeatureDefinitions('  x AS y, -- feature: odd', 'text'), /unknown feature flag 'odd'/);
  });

  test('a table of many chunks, measured on worker threads or on the main thread, keeps every row with its own features', async () => {
    // 5 copies of the sample: 5,000 rows are 3 data chunks, spread over the workers.
    const copies = 5;
    const input = paths('copies.parquet');
    await connection.run(
      `COPY (SELECT s.* REPLACE (s.id || '#' || r.i AS id) FROM range(${copies}) r(i), read_parquet('${paths('ingested.parquet')}') s
             ORDER BY r.i, s.id) TO '${input}' (FORMAT parquet)`,
    );
    const build = (threads: number, output: string) =>
      buildFeatures({
        inputs: [{ table: input, output }],
        similarity: true,
        sentiment: false,
        featureColumnsFile: paths('copies_columns.json'),
        threads,
      });
    await build(3, paths('copies_features.parquet'));
    await build(0, paths('copies_features_main_thread.parquet'));
    const copied = await readFeatures(connection, paths('copies_features.parquet'));
    assert.deepEqual(await readFeatures(connection, paths('copies_features_main_thread.parquet')), copied);
    const byId = new Map(trainFeatures.map((r) => [String(r.id), r]));
    const ids = [...byId.keys()].sort();
    assert.deepEqual(copied.map((r) => r.id), Array.from({ length: copies }, (_, i) => ids.map((id) => `${id}#${i}`)).flat());
    for (const row of copied) {
      const original = byId.get(String(row.id).replace(/#\d+$/, ''))!;
      for (const field of FIELDS) {
        for (const feature of [...TEXT_FEATURES, ...(field === 'prompt' ? [] : ['similarity'])]) {
          const column = `${field}_${feature}`;
          assert.strictEqual(row[column], original[column], `row ${row.id}, ${column}`);
        }
      }
    }
  });

  test('a table without a text column is rejected by file and column, leaving no output', async () => {
    const bad = paths('bad.parquet');
    await connection.run(`COPY (SELECT 'r1' AS id, 'p' AS prompt, 'a' AS response_a) TO '${bad}' (FORMAT parquet)`);
    const output = paths('bad_features.parquet');
    const columnsFile = paths('bad_columns.json');
    await assert.rejects(
      buildFeatures({ inputs: [{ table: bad, output }], similarity: false, sentiment: false, featureColumnsFile: columnsFile }),
      (error: unknown) => error instanceof UserInputError && error.message.includes(bad) && error.message.includes("'response_b'"),
    );
    assert.equal(fs.existsSync(output), false);
    assert.equal(fs.existsSync(columnsFile), false);
  });
});
