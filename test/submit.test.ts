import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { submissionCsv } from '../activities/submit/submission-csv';
import { submit } from '../activities/submit/submit';
import { validateSubmission } from '../activities/submit/validate-submission';
import { writeLogisticModelDir } from './fixtures/logistic-onnx';
import { predict } from '../lib/inference/predict';
import { combineSwapTta, predictedWinner } from '../lib/inference/tta';
import { SAMPLE_DIR } from './fixtures/sample-splits';

const HASH_DIM = 8;
const FEATURES = ['len_a', 'len_b', 'len_diff'];

let tmp: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
let modelDir: string;
let featureColumnsFile: string;
let testTable: string;

const FEATURE_SQL = (source: string) => `
  SELECT *, length(response_a)::DOUBLE AS len_a, length(response_b)::DOUBLE AS len_b,
    (length(response_a) - length(response_b))::DOUBLE AS len_diff
  FROM (${source})`;

async function writeTable(name: string, sql: string): Promise<string> {
  const file = path.join(tmp, name);
  await connection.run(`COPY (${FEATURE_SQL(sql)}) TO '${file}' (FORMAT parquet)`);
  return file;
}

/** Minimal RFC 4180 reader, enough to check what the competition's parser would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += ch;
  }
  return rows;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-'));
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  modelDir = path.join(tmp, 'model');
  writeLogisticModelDir(modelDir, {
    hashDim: HASH_DIM,
    featureColumns: FEATURES,
    weights: { textWeights: new Float32Array(3 * HASH_DIM).map((_, i) => Math.cos(i * 2.3)), featureWeights: Float32Array.of(0.01, -0.01, 0.005), bias: 0.05 },
  });
  featureColumnsFile = path.join(tmp, 'feature_columns.json');
  fs.writeFileSync(
    featureColumnsFile,
    JSON.stringify({ columns: [{ name: 'len_a', swap: { with: 'len_b' } }, { name: 'len_b', swap: { with: 'len_a' } }, { name: 'len_diff', swap: 'negate' }] }),
  );
  // Kaggle's own three test rows plus WSDM-style rows in other scripts, one id with a comma and a quote.
  const joined = (column: string) => `array_to_string(list_transform(from_json(${column}, '["VARCHAR"]'), x -> coalesce(x, '')), '\n\n')`;
  testTable = await writeTable(
    'test.parquet',
    `SELECT id::VARCHAR AS id, 'lmsys' AS source, ${joined('prompt')} AS prompt, ${joined('response_a')} AS response_a,
       ${joined('response_b')} AS response_b, 'unknown' AS language
     FROM read_csv('${path.join(SAMPLE_DIR, 'test.csv')}', header = true)
     UNION ALL SELECT * FROM (VALUES
       ('wsdm-1', 'wsdm', '天空为什么是蓝色的？', '因为瑞利散射。', '天空是蓝色的，因为大气中的分子散射短波长的蓝光比红光更强烈。', 'zh'),
       ('wsdm-2', 'wsdm', 'Сколько будет 2+2?', '4', 'Два плюс два равно четырём.', 'ru'),
       ('wsdm,"3"', 'wsdm', 'नमस्ते कैसे हो?', 'मैं ठीक हूँ, धन्यवाद!', 'ठीक', 'hi')
     ) t(id, source, prompt, response_a, response_b, language)`,
  );
});

after(() => {
  connection.closeSync();
  instance.closeSync();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('validateSubmission', () => {
  const testIds = ['a', 'b', 'c'];

  it('accepts every test id exactly once, in any order', () => {
    validateSubmission(['c', 'a', 'b'], ['model_a', 'model_b', 'model_a'], testIds);
  });

  it('names the first missing id', () => {
    assert.throws(() => validateSubmission(['a'], ['model_a'], testIds), {
      name: 'UserInputError',
      message: 'submission.csv: test id "b" has no prediction (2 of 3 test ids missing)',
    });
  });

  it('names the first duplicate id', () => {
    assert.throws(() => validateSubmission(['a', 'b', 'a', 'c'], ['model_a', 'model_b', 'model_a', 'model_b'], testIds), {
      name: 'UserInputError',
      message: 'submission.csv: id "a" appears more than once',
    });
  });

  it('names the first unknown id', () => {
    assert.throws(() => validateSubmission(['a', 'b', 'c', 'zz'], ['model_a', 'model_b', 'model_a', 'model_a'], testIds), {
      name: 'UserInputError',
      message: 'submission.csv: id "zz" is not a test id',
    });
  });

  it('rejects a winner other than model_a or model_b', () => {
    assert.throws(() => validateSubmission(['a', 'b', 'c'], ['model_a', 'tie', 'model_b'], testIds), {
      name: 'UserInputError',
      message: 'submission.csv: id "b": winner "tie" is not "model_a" or "model_b"',
    });
  });
});

describe('submit', () => {
  it('writes id,winner for every test row in table order, with swap TTA', async () => {
    const outDir = path.join(tmp, 'submit');
    const summary = await submit({ modelDir, testTable, featureColumnsFile, batchSize: 2, tta: true, outDir });
    const rows = parseCsv(fs.readFileSync(path.join(outDir, 'submission.csv'), 'utf8'));
    assert.deepEqual(rows[0], ['id', 'winner']);
    assert.deepEqual(
      rows.slice(1).map((r) => r[0]),
      ['136060', '211333', '1233961', 'wsdm-1', 'wsdm-2', 'wsdm,"3"'],
    );
    assert.ok(rows.slice(1).every((r) => r.length === 2 && (r[1] === 'model_a' || r[1] === 'model_b')));
    const predictions = await predict({ modelDir, table: testTable, batchSize: 512, tta: true, featureColumnsFile });
    const expected = Array.from(combineSwapTta(predictions.pA, predictions.pASwapped!), predictedWinner);
    assert.deepEqual(rows.slice(1).map((r) => r[1]), expected);
    assert.equal(summary.rows, 6);
    assert.equal(summary.modelA, expected.filter((w) => w === 'model_a').length);
    assert.equal(summary.modelA + summary.modelB, 6);
    assert.deepEqual(fs.readdirSync(outDir), ['submission.csv']);
  });

  it('quotes ids that hold commas or quotes', () => {
    assert.equal(submissionCsv(['x', 'a,"b"'], ['model_a', 'model_b']), 'id,winner\nx,model_a\n"a,""b""",model_b\n');
  });

  it('writes nothing when an expected id has no row', async () => {
    const outDir = path.join(tmp, 'submit-missing');
    await assert.rejects(
      submit({ modelDir, testTable, featureColumnsFile, batchSize: 4, tta: false, outDir, expectedIds: ['136060', 'gone', '211333', '1233961', 'wsdm-1', 'wsdm-2', 'wsdm,"3"'] }),
      { name: 'UserInputError', message: 'submission.csv: test id "gone" has no prediction (1 of 7 test ids missing)' },
    );
    assert.equal(fs.existsSync(outDir) ? fs.readdirSync(outDir).length : 0, 0);
  });

  it('refuses a test table that repeats an id, naming the file', async () => {
    const repeated = await writeTable('repeated.parquet', `SELECT * EXCLUDE (len_a, len_b, len_diff) FROM read_parquet('${testTable}') UNION ALL SELECT * EXCLUDE (len_a, len_b, len_diff) FROM read_parquet('${testTable}') WHERE id = 'wsdm-2'`);
    await assert.rejects(submit({ modelDir, testTable: repeated, featureColumnsFile, batchSize: 4, tta: false, outDir: path.join(tmp, 'submit-rep') }), {
      name: 'UserInputError',
      message: `${repeated}: id "wsdm-2" appears more than once`,
    });
  });

  it('refuses a test table with a text-typed feature column, naming the file and column, and writes nothing', async () => {
    const textFeature = path.join(tmp, 'text-feature.parquet');
    await connection.run(
      `COPY (SELECT * REPLACE (CASE WHEN id = 'wsdm-2' THEN 'long' ELSE len_b::VARCHAR END AS len_b) FROM read_parquet('${testTable}')) TO '${textFeature}' (FORMAT parquet)`,
    );
    for (const tta of [false, true]) {
      const outDir = path.join(tmp, `submit-text-feature-${tta}`);
      await assert.rejects(submit({ modelDir, testTable: textFeature, featureColumnsFile, batchSize: 4, tta, outDir }), {
        name: 'UserInputError',
        message: `${textFeature}: feature column "len_b" has type VARCHAR, expected a number`,
      });
      assert.equal(fs.existsSync(path.join(outDir, 'submission.csv')), false);
    }
  });

  it("submits a fold ensemble as the mean of its members' swap-TTA'd probabilities", async () => {
    const other = path.join(tmp, 'model-other');
    writeLogisticModelDir(other, {
      hashDim: HASH_DIM,
      featureColumns: FEATURES,
      weights: { textWeights: new Float32Array(3 * HASH_DIM).map((_, i) => Math.sin(i * 1.7)), featureWeights: Float32Array.of(-0.02, 0.02, 0.01), bias: -0.3 },
    });
    const outDir = path.join(tmp, 'submit-ensemble');
    const summary = await submit({ modelDir, ensemble: [{ modelDir: other }], testTable, featureColumnsFile, batchSize: 4, tta: true, outDir });
    assert.equal(summary.models, 2);
    const [one, two] = await Promise.all([modelDir, other].map((dir) => predict({ modelDir: dir, table: testTable, batchSize: 512, tta: true, featureColumnsFile })));
    const p1 = combineSwapTta(one!.pA, one!.pASwapped!);
    const p2 = combineSwapTta(two!.pA, two!.pASwapped!);
    const expected = one!.ids.map((id, i) => [id, predictedWinner((p1[i]! + p2[i]!) / 2)]);
    const rows = parseCsv(fs.readFileSync(path.join(outDir, 'submission.csv'), 'utf8')).slice(1);
    assert.deepEqual(rows, expected);
    // The mean is neither member's vote: a submission of either one alone would fail the check above.
    const winners = expected.map(([, winner]) => winner);
    assert.notDeepEqual(Array.from(p1, predictedWinner), winners);
    assert.notDeepEqual(Array.from(p2, predictedWinner), winners);
  });

  it('needs feature_columns.json for TTA', async () => {
    await assert.rejects(submit({ modelDir, testTable, featureColumnsFile: path.join(tmp, 'nope.json'), batchSize: 4, tta: true, outDir: path.join(tmp, 'submit-nofc') }), (err: Error) => {
      assert.equal(err.name, 'UserInputError');
      assert.ok(err.message.startsWith(`${path.join(tmp, 'nope.json')}: cannot read feature columns`));
      return true;
    });
  });
});
