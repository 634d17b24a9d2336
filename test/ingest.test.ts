import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateSynthetic, ingest, type IngestReport } from '../activities/ingest/ingest';
import { detectLanguage } from '../lib/language-id';
import { UserInputError } from '../lib/errors';
import { MULTILINGUAL_ROWS, writeWsdmTest, writeWsdmTrain, type WsdmTrainRow } from './fixtures/wsdm-fixtures';
import { SAMPLE_DIR } from './fixtures/sample-splits';

const SAMPLE_TRAIN = path.join(SAMPLE_DIR, 'train_sample.csv');
const SAMPLE_TEST = path.join(SAMPLE_DIR, 'test.csv');
const SEPARATOR = '\n\n';

type Row = Record<string, unknown>;

async function readParquet(file: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll('SELECT * FROM read_parquet($file)', { file });
    return reader.getRowObjectsJS() as Row[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The sample's labelled rows as Python's csv and json modules read them: an independent reference. */
function pythonReference(csvPath: string, separator: string): Row[] {
  const script = `
import csv, json, sys
rows = csv.DictReader(open(sys.argv[1], encoding='utf-8', newline=''))
flat = lambda s: sys.argv[2].join(t for t in json.loads(s) if t is not None)
out = []
for r in rows:
    if r['winner_tie'] == '1':
        continue
    out.append(dict(id=r['id'], prompt=flat(r['prompt']), response_a=flat(r['response_a']),
                    response_b=flat(r['response_b']), model_a=r['model_a'], model_b=r['model_b'],
                    winner='model_a' if r['winner_model_a'] == '1' else 'model_b'))
json.dump(out, sys.stdout)
`;
  return JSON.parse(execFileSync('python3', ['-c', script, csvPath, separator], { maxBuffer: 256 << 20 }).toString());
}

const LMSYS_HEADER = ',id,model_a,model_b,prompt,response_a,response_b,winner_model_a,winner_model_b,winner_tie';

/** A CSV cell as pandas writes it: quoted, quotes doubled. */
const cell = (value: string): string => `"${value.replace(/"/g, '""')}"`;
const jsonCell = (turns: (string | null)[]): string => cell(JSON.stringify(turns));

function lmsysLine(index: number, id: string, prompt: string, a: string, b: string, winner: 'a' | 'b' | 'tie'): string {
  const flags = winner === 'a' ? '1,0,0' : winner === 'b' ? '0,1,0' : '0,0,1';
  return `${index},${id},model-x,model-y,${prompt},${a},${b},${flags}`;
}

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function outDir(name: string): string {
  return path.join(tmp, name);
}

describe('ingest of the real LMSYS sample and a multilingual WSDM fixture', () => {
  let report: IngestReport;
  let rows: Row[];
  let reference: Row[];
  const wsdmPath = () => path.join(tmp, 'wsdm', 'train.parquet');

  before(async () => {
    reference = pythonReference(SAMPLE_TRAIN, SEPARATOR);
    const single = reference.find((row) => row.id === '2785062085')!;
    const multiTurn = reference.find((row) => String(row.prompt).includes(SEPARATOR))!;
    const fixture: WsdmTrainRow[] = [
      ...MULTILINGUAL_ROWS,
      { ...MULTILINGUAL_ROWS[0]!, id: 'ru-1-again' },
      {
        id: 'lmsys-swapped',
        prompt: String(single.prompt),
        response_a: String(single.response_b),
        response_b: String(single.response_a),
        winner: single.winner === 'model_a' ? 'model_b' : 'model_a',
        model_a: String(single.model_b),
        model_b: String(single.model_a),
        language: 'English',
      },
      {
        id: 'lmsys-copy-other-label',
        prompt: String(multiTurn.prompt),
        response_a: String(multiTurn.response_a),
        response_b: String(multiTurn.response_b),
        winner: multiTurn.winner === 'model_a' ? 'model_b' : 'model_a',
        model_a: null,
        model_b: null,
        language: 'English',
      },
      { ...MULTILINGUAL_ROWS[1]!, id: 'blank-response', response_b: ' \n\t ' },
      { ...MULTILINGUAL_ROWS[2]!, id: 'no-label', winner: null },
      { ...MULTILINGUAL_ROWS[3]!, id: 'blank-prompt', prompt: '' },
    ];
    await writeWsdmTrain(wsdmPath(), fixture);
    report = await ingest({
      train: [
        { format: 'lmsys', path: SAMPLE_TRAIN },
        { format: 'wsdm', path: wsdmPath() },
      ],
      test: { format: 'lmsys', path: SAMPLE_TEST },
      turnSeparator: SEPARATOR,
      outDir: outDir('combined'),
    });
    rows = await readParquet(path.join(outDir('combined'), 'ingested.parquet'));
  });

  test('counts every dropped row under exactly one rule', () => {
    assert.deepEqual(report.dropped, {
      tie: 308,
      missing_label: 1,
      empty_prompt: 1,
      empty_response: 1,
      duplicate_within_source: 1,
      duplicate_across_sources: 1,
      duplicate_swapped: 1,
    });
    assert.equal(report.duplicates_with_conflicting_label, 1);
    assert.deepEqual(
      report.sources.map((s) => [s.source, s.rows_in, s.rows_out]),
      [
        ['lmsys', 1000, 692],
        ['wsdm', 11, 5],
      ],
    );
    assert.equal(report.rows_in, 1011);
    assert.equal(report.rows_out, 697);
    assert.equal(rows.length, 697);
    assert.deepEqual(report.label_balance, { model_a: 344 + 3, model_b: 348 + 2 });
    // CLD2 under WSDM's rules finds every first user turn of the LMSYS sample English (the few
    // non-English ones mix in more English text, or are ties); the WSDM rows keep their labels.
    assert.deepEqual(report.languages, { English: 693, Arabic: 1, Chinese: 1, Hindi: 1, Russian: 1 });
    assert.deepEqual(
      report.sources.map((s) => [s.languages, s.language_labels]),
      [
        [{ English: 692 }, { given: 0, detected: 692 }],
        [{ English: 1, Arabic: 1, Chinese: 1, Hindi: 1, Russian: 1 }, { given: 5, detected: 0 }],
      ],
    );
    assert.deepEqual(report.language_labels, { given: 5, detected: 692 });
    assert.deepEqual(report.test?.language_labels, { given: 0, detected: 3 });
    assert.equal(report.synthetic, false);
    assert.deepEqual(report.test && [report.test.rows, report.test.source], [3, 'lmsys']);
  });

  test('LMSYS rows equal what Python reads, multi-turn texts flattened, in file order', () => {
    const lmsys = rows.filter((row) => row.source === 'lmsys');
    assert.equal(lmsys.length, reference.length);
    assert.ok(reference.filter((row) => String(row.prompt).includes(SEPARATOR)).length > 50, 'the sample has multi-turn rows');
    lmsys.forEach((row, i) => {
      const { source, language, ...rest } = row;
      assert.deepEqual(rest, reference[i]);
      assert.equal(language, 'English');
    });
  });

  test('keeps the multilingual rows byte for byte, after the LMSYS rows', () => {
    const wsdm = rows.slice(692);
    assert.deepEqual(
      wsdm.map((row) => row.id),
      MULTILINGUAL_ROWS.map((row) => row.id),
    );
    wsdm.forEach((row, i) => assert.deepEqual(row, { ...MULTILINGUAL_ROWS[i], source: 'wsdm' }));
  });

  test('writes the test rows and the report file', async () => {
    const testRows = await readParquet(path.join(outDir('combined'), 'test.parquet'));
    assert.deepEqual(
      testRows.map((row) => [row.id, row.source, row.language]),
      [
        ['136060', 'lmsys', 'English'],
        ['211333', 'lmsys', 'English'],
        ['1233961', 'lmsys', 'English'],
      ],
    );
    assert.equal(testRows[0]!.prompt, 'I have three oranges today, I ate an orange yesterday. How many oranges do I have?');
    const written = JSON.parse(fs.readFileSync(path.join(outDir('combined'), 'ingest_report.json'), 'utf8'));
    assert.deepEqual(written, JSON.parse(JSON.stringify(report)));
    // Nearest-rank quantiles of code-point lengths, counted here in JavaScript.
    const nearestRank = (lengths: number[]) => {
      const sorted = [...lengths].sort((x, y) => x - y);
      const at = (q: number) => sorted[Math.ceil(sorted.length * q) - 1]!;
      return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
    };
    const chars = (text: unknown) => [...String(text)].length;
    assert.deepEqual(report.text_length_chars, {
      prompt: nearestRank(rows.map((row) => chars(row.prompt))),
      response: nearestRank(rows.flatMap((row) => [chars(row.response_a), chars(row.response_b)])),
    });
  });
});

describe('LMSYS details', () => {
  test('skips null turns, uses the separator and a language column, detects a missing one on the first turn, drops blank texts', async () => {
    const file = path.join(tmp, 'nulls.csv');
    const lines = [
      `${LMSYS_HEADER},language`,
      `${lmsysLine(0, '11', jsonCell(['turn one', null, 'turn two']), jsonCell(['a1', 'a2']), jsonCell([null, 'b']), 'b')},German`,
      `${lmsysLine(1, '12', jsonCell(['q']), jsonCell([null]), jsonCell(['b']), 'a')},German`,
      `${lmsysLine(2, '13', jsonCell(['q2 "quoted"']), jsonCell(['x']), jsonCell(['y']), 'a')},`,
      `${lmsysLine(3, '14', jsonCell(['Расскажи, пожалуйста, как работает двигатель внутреннего сгорания.', 'Now say it in English, please, with more detail on the pistons and the crankshaft.']), jsonCell(['x']), jsonCell(['y']), 'b')},`,
      `${lmsysLine(4, '15', jsonCell(['This text is English, but the file says otherwise.']), jsonCell(['x']), jsonCell(['y']), 'b')},Russian`,
      `${lmsysLine(5, '16', jsonCell(['\u0001']), jsonCell(['x']), jsonCell(['y']), 'b')},`,
    ];
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const report = await ingest({ train: [{ format: 'lmsys', path: file }], test: null, turnSeparator: ' | ', outDir: outDir('nulls') });
    const rows = await readParquet(path.join(outDir('nulls'), 'ingested.parquet'));
    assert.deepEqual(
      rows.map((row) => [row.id, row.prompt, row.response_a, row.response_b, row.winner, row.language]),
      [
        ['11', 'turn one | turn two', 'a1 | a2', 'b', 'model_b', 'German'],
        ['13', 'q2 "quoted"', 'x', 'y', 'model_a', 'English'],
        ['14', 'Расскажи, пожалуйста, как работает двигатель внутреннего сгорания. | Now say it in English, please, with more detail on the pistons and the crankshaft.', 'x', 'y', 'model_b', 'Russian'],
        ['15', 'This text is English, but the file says otherwise.', 'x', 'y', 'model_b', 'Russian'],
        ['16', '\u0001', 'x', 'y', 'model_b', 'unknown'],
      ],
    );
    assert.deepEqual(report.language_labels, { given: 2, detected: 3 });
    assert.equal(report.dropped.empty_response, 1);
    assert.equal(report.test, null);
    assert.ok(!fs.existsSync(path.join(outDir('nulls'), 'test.parquet')));
  });
});

describe('bad input fails naming the file, row and column, and writes nothing', () => {
  const goodLines = (): string[] => [
    LMSYS_HEADER,
    lmsysLine(0, '11', jsonCell(['p1']), jsonCell(['a1']), jsonCell(['b1']), 'a'),
    lmsysLine(1, '12', jsonCell(['p2']), jsonCell(['a2']), jsonCell(['b2']), 'b'),
    lmsysLine(2, '13', jsonCell(['p3']), jsonCell(['a3']), jsonCell(['b3']), 'a'),
  ];

  async function expectFailure(name: string, train: Parameters<typeof ingest>[0]['train'], message: string, test: Parameters<typeof ingest>[0]['test'] = null): Promise<void> {
    const dir = outDir(name);
    await assert.rejects(ingest({ train, test, turnSeparator: SEPARATOR, outDir: dir }), (error: unknown) => {
      assert.ok(error instanceof UserInputError, String(error));
      assert.equal(error.message, message);
      return true;
    });
    assert.ok(!fs.existsSync(path.join(dir, 'ingested.parquet')));
    assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], [], 'no files, temporary or final, are left');
  }

  function writeCsv(name: string, lines: string[] | Buffer): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, Buffer.isBuffer(lines) ? lines : `${lines.join('\n')}\n`);
    return file;
  }

  test('a missing file', async () => {
    const file = path.join(tmp, 'nowhere.csv');
    await expectFailure('missing-file', [{ format: 'lmsys', path: file }], `${file}: file not found`);
  });

  test('a CSV missing a column', async () => {
    const lines = goodLines().map((line) => line.replace(/,[^,]*$/, ''));
    const file = writeCsv('no-tie.csv', lines);
    await expectFailure(
      'missing-column',
      [{ format: 'lmsys', path: file }],
      `${file}: missing required column 'winner_tie' (found: column0, id, model_a, model_b, prompt, response_a, response_…)`,
    );
  });

  test('a line with too few cells is named by its line number', async () => {
    const lines = goodLines();
    lines[2] = lines[2]!.replace(/,0,1,0$/, '');
    const file = writeCsv('short-line.csv', lines);
    await expectFailure(
      'short-line',
      [{ format: 'lmsys', path: file }],
      `${file}: line 3, column 'winner_model_a': Expected Number of Columns: 10 Found: 7 (line starts: 1,12,model-x,model-y,"[""p2""]","[""a2""]","[""b2""]")`,
    );
  });

  test('a parquet file missing a column', async () => {
    const file = path.join(tmp, 'no-winner.parquet');
    await writeWsdmTrain(file, MULTILINGUAL_ROWS, ['id', 'prompt', 'response_a', 'response_b', 'language']);
    await expectFailure('missing-parquet-column', [{ format: 'wsdm', path: file }], `${file}: missing required column 'winner' (found: id, prompt, response_a, response_b, language)`);
  });

  test('malformed JSON lists: the first offending row is named', async () => {
    const lines = goodLines();
    lines[2] = lmsysLine(1, '12', jsonCell(['p2']), cell('["unterminated'), jsonCell(['b2']), 'b');
    lines[3] = lmsysLine(2, '13', cell('{"not": "a list"}'), jsonCell(['a3']), jsonCell(['b3']), 'a');
    const file = writeCsv('bad-json.csv', lines);
    await expectFailure('bad-json', [{ format: 'lmsys', path: file }], `${file}: row 2 (id 12), column 'response_a': is not valid JSON: ["unterminated`);

    const notStrings = goodLines();
    notStrings[3] = lmsysLine(2, '13', jsonCell(['p3']), jsonCell(['a3']), cell('["b3", 7]'), 'a');
    const file2 = writeCsv('not-strings.csv', notStrings);
    await expectFailure('not-strings', [{ format: 'lmsys', path: file2 }], `${file2}: row 3 (id 13), column 'response_b': is not a JSON list of strings: ["b3", 7]`);

    const notList = goodLines();
    notList[1] = lmsysLine(0, '11', cell('"just a string"'), jsonCell(['a1']), jsonCell(['b1']), 'a');
    const file3 = writeCsv('not-list.csv', notList);
    await expectFailure('not-list', [{ format: 'lmsys', path: file3 }], `${file3}: row 1 (id 11), column 'prompt': is not a JSON list: "just a string"`);
  });

  test('bytes that are not UTF-8, in a CSV and in a parquet file', async () => {
    const lines = goodLines();
    const csv = Buffer.concat([
      Buffer.from(`${lines.slice(0, 2).join('\n')}\n`),
      Buffer.from(`1,12,model-x,model-y,"[""p2 `),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`""]","[""a2""]","[""b2""]",0,1,0\n${lines[3]}\n`),
    ]);
    const file = writeCsv('latin.csv', csv);
    await expectFailure('bad-utf8-csv', [{ format: 'lmsys', path: file }], `${file}: row 2 (id 12), column 'prompt': is not valid UTF-8`);

    const parquet = path.join(tmp, 'bad-utf8.parquet');
    const rows: WsdmTrainRow[] = MULTILINGUAL_ROWS.map((row) => ({ ...row, response_b: Buffer.from(String(row.response_b), 'utf8') }));
    rows[3] = { ...rows[3]!, response_b: Buffer.from([0x61, 0xc3, 0x28]) };
    await writeWsdmTrain(parquet, rows);
    await expectFailure('bad-utf8-parquet', [{ format: 'wsdm', path: parquet }], `${parquet}: row 4 (id hi-1), column 'response_b': is not valid UTF-8`);
  });

  test('a winner that is neither model_a nor model_b', async () => {
    const file = path.join(tmp, 'bad-winner.parquet');
    await writeWsdmTrain(file, [MULTILINGUAL_ROWS[0]!, { ...MULTILINGUAL_ROWS[1]!, winner: 'tie' }]);
    await expectFailure('bad-winner', [{ format: 'wsdm', path: file }], `${file}: row 2 (id ar-1), column 'winner': is 'tie', not model_a or model_b`);
  });

  test('repeated test ids fail, after a good training file, leaving nothing behind', async () => {
    const train = writeCsv('good.csv', goodLines());
    const testFile = path.join(tmp, 'repeated-ids.parquet');
    const testRows = MULTILINGUAL_ROWS.map(({ id, prompt, response_a, response_b }) => ({ id, prompt, response_a, response_b }));
    testRows[4] = { ...testRows[4]!, id: 'zh-1' };
    await writeWsdmTest(testFile, testRows);
    await expectFailure(
      'repeated-test-ids',
      [{ format: 'lmsys', path: train }],
      `${testFile}: row 5 (id zh-1), column 'id': repeats the id of row 3`,
      { format: 'wsdm', path: testFile },
    );
  });

  test('a training id used twice for different rows', async () => {
    const file = path.join(tmp, 'same-id.parquet');
    await writeWsdmTrain(file, [MULTILINGUAL_ROWS[0]!, { ...MULTILINGUAL_ROWS[1]!, id: 'ru-1' }]);
    await expectFailure('same-train-id', [{ format: 'wsdm', path: file }], `${file}: row 2 (id ru-1), column 'id': repeats the id of row 1 of ${file}`);
  });
});

describe('generateSynthetic', () => {
  async function generate(name: string, seed: number): Promise<{ train: Row[]; test: Row[]; trainPath: string; testPath: string }> {
    const trainPath = path.join(tmp, name, 'train.parquet');
    const testPath = path.join(tmp, name, 'test.parquet');
    await generateSynthetic({ rows: 600, testRows: 60, seed, trainPath, testPath });
    return { train: await readParquet(trainPath), test: await readParquet(testPath), trainPath, testPath };
  }

  test("is deterministic for a seed, in WSDM's language mix, learnable beyond length, and ingests as source synthetic", async () => {
    const first = await generate('syn-a', 7);
    const again = await generate('syn-b', 7);
    const other = await generate('syn-c', 8);
    assert.deepEqual(again.train, first.train);
    assert.deepEqual(again.test, first.test);
    assert.notDeepEqual(other.train, first.train);
    assert.equal(first.train.length, 600);
    assert.deepEqual(Object.keys(first.test[0]!), ['id', 'prompt', 'response_a', 'response_b', 'language']);

    const prompts = first.train.map((row) => String(row.prompt)).join('\n');
    for (const script of [/\p{Script=Cyrillic}/u, /\p{Script=Arabic}/u, /\p{Script=Han}/u, /\p{Script=Hangul}/u, /\p{Script=Latin}/u]) {
      assert.match(prompts, script);
    }
    // WSDM: English 52%, Russian 13%, Chinese 9%, Vietnamese 6%.
    const share = (language: string) => first.train.filter((row) => row.language === language).length / first.train.length;
    assert.ok(share('English') > 0.45 && share('English') < 0.6, `English ${share('English')}`);
    assert.ok(share('Russian') > 0.09 && share('Russian') < 0.18, `Russian ${share('Russian')}`);
    // The judge: length helps, but less than answering in the prompt's language.
    const chars = (text: unknown) => [...String(text)].length;
    const winsA = (row: Row) => row.winner === 'model_a';
    const longerWins = first.train.filter((row) => (chars(row.response_a) >= chars(row.response_b)) === winsA(row)).length / first.train.length;
    assert.ok(longerWins > 0.52 && longerWins < 0.7, `the longer answer wins ${longerWins}`);
    const oneInLanguage = first.train.filter((row) => (detectLanguage(String(row.response_a)) === row.language) !== (detectLanguage(String(row.response_b)) === row.language));
    const inLanguageWins = oneInLanguage.filter((row) => (detectLanguage(String(row.response_a)) === row.language) === winsA(row)).length / oneInLanguage.length;
    assert.ok(oneInLanguage.length > 100 && inLanguageWins > 0.72, `the answer in the prompt's language wins ${inLanguageWins} of ${oneInLanguage.length}`);

    const report = await ingest({
      train: [{ format: 'wsdm', path: first.trainPath }],
      test: { format: 'wsdm', path: first.testPath },
      turnSeparator: SEPARATOR,
      outDir: outDir('synthetic'),
    });
    assert.equal(report.synthetic, true);
    assert.equal(report.sources[0]!.source, 'synthetic');
    assert.equal(report.test?.source, 'synthetic');
    assert.ok(Object.keys(report.languages).length >= 5);
    const ingested = await readParquet(path.join(outDir('synthetic'), 'ingested.parquet'));
    assert.ok(ingested.every((row) => row.source === 'synthetic'));
  });
});
