import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { evaluate, type Metrics } from '../activities/evaluate/evaluate';
import {
  accuracy,
  accuracyByGroup,
  wilsonInterval,
  calibrationBins,
  expectedCalibrationError,
  logLoss,
  longerResponseBaseline,
  rocAuc,
} from '../activities/evaluate/metrics';
import { escapeHtml } from '../activities/evaluate/html-escape';
import { trainingCurves } from '../activities/evaluate/training-history';
import { buildFeatureSwap } from '../lib/inference/feature-swap';
import { writeLogisticModelDir, type LogisticWeights } from './fixtures/logistic-onnx';
import { predict } from '../lib/inference/predict';
import { combineSwapTta } from '../lib/inference/tta';
import { runConfigSchema } from '../lib/config/schema';
import { hashTextVector, TEXT_HASHING } from '../lib/text-hashing';
import { SAMPLE_DIR } from './fixtures/sample-splits';

const HASH_DIM = 16;
const FEATURES = ['len_a', 'len_b', 'len_diff', 'len_ratio', 'prompt_len'];
const SWAP_RULES = {
  columns: [
    { name: 'len_a', swap: { with: 'len_b' } },
    { name: 'len_b', swap: { with: 'len_a' } },
    { name: 'len_diff', swap: 'negate' },
    { name: 'len_ratio', swap: 'reciprocal' },
    { name: 'prompt_len', swap: 'keep' },
  ],
};
/** The cpu trainer's layout (trainers/cpu/export.ts). */
const HISTORY = {
  train_loss_per_step: [
    { shard: 0, step: 1, epoch: 0, loss: 0.69 },
    { shard: 0, step: 2, epoch: 0, loss: 0.66 },
    { shard: 0, step: 3, epoch: 1, loss: 0.61 },
  ],
  epochs: [
    { shard: 0, step: 2, epoch: 0, train_loss: 0.67, valid_loss: 0.68, valid_accuracy: 0.55 },
    { shard: 0, step: 3, epoch: 1, train_loss: 0.6, valid_loss: 0.66, valid_accuracy: 0.6 },
  ],
};

/** Deterministic weights, large enough that swapping A and B changes the prediction. */
function weights(): LogisticWeights {
  const text = new Float32Array(3 * HASH_DIM).map((_, i) => Math.sin(i * 1.7) * 0.8);
  return { textWeights: text, featureWeights: Float32Array.of(0.004, -0.003, 0.002, 0.3, 0.001), bias: -0.1 };
}

/** Multilingual WSDM-style rows with the five length features the fixture model reads. */
const ROWS_SQL = `
  WITH texts AS (
    SELECT * FROM (VALUES
      ('en', 'Explain recursion briefly.', 'A function that calls itself until a base case stops it.', 'Recursion.'),
      ('zh', '用一句话解释递归。', '递归是函数调用自身。', '递归就是一个函数在执行过程中直接或间接地调用自身，直到满足终止条件。'),
      ('ru', 'Что такое энтропия?', 'Мера беспорядка системы.', 'Энтропия — это мера неопределённости.'),
      ('ar', 'ما هي عاصمة فرنسا؟', 'باريس', 'عاصمة فرنسا هي باريس، وهي أكبر مدنها.'),
      ('hi', 'भारत की राजधानी क्या है?', 'नई दिल्ली भारत की राजधानी है।', 'दिल्ली'),
      ('ja', '猫について教えて', '猫は小さな肉食動物です。😺', 'ねこ')
    ) t(language, prompt, response_a, response_b)
  )
  SELECT
    'row-' || i || '-' || language AS id,
    CASE WHEN i % 5 = 0 THEN 'synthetic' ELSE 'wsdm' END AS source,
    prompt || ' #' || i AS prompt,
    response_a || repeat(' extra', i % 4) AS response_a,
    response_b || repeat(' more', i % 3) AS response_b,
    'gpt-x' AS model_a, 'llama-y' AS model_b,
    -- 24 rows in one made-up language (a name to escape) and 3 in each real one: pooled as "other".
    CASE WHEN i >= 3 THEN '<script>alert(1)</script>' ELSE language END AS language,
    CASE WHEN (i * 7) % 3 = 0 THEN 'model_b' ELSE 'model_a' END AS winner
  FROM texts, range(7) r(i)
`;

const FEATURE_SQL = `
  SELECT *,
    length(response_a)::DOUBLE AS len_a,
    length(response_b)::DOUBLE AS len_b,
    (length(response_a) - length(response_b))::DOUBLE AS len_diff,
    ((length(response_a) + 1) / (length(response_b) + 1))::DOUBLE AS len_ratio,
    length(prompt)::DOUBLE AS prompt_len
  FROM rows
`;

let tmp: string;
let connection: DuckDBConnection;
let instance: DuckDBInstance;
let modelDir: string;
let validTable: string;
let featureColumnsFile: string;

async function writeTable(name: string, sql: string): Promise<string> {
  const file = path.join(tmp, name);
  await connection.run(`COPY (${sql}) TO '${file}' (FORMAT parquet)`);
  return file;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-'));
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  await connection.run(`CREATE TABLE rows AS ${ROWS_SQL}`);
  validTable = await writeTable('valid.parquet', FEATURE_SQL);
  modelDir = path.join(tmp, 'model');
  writeLogisticModelDir(modelDir, { hashDim: HASH_DIM, featureColumns: FEATURES, weights: weights(), history: HISTORY });
  featureColumnsFile = path.join(tmp, 'feature_columns.json');
  fs.writeFileSync(featureColumnsFile, JSON.stringify(SWAP_RULES));
});

after(() => {
  connection.closeSync();
  instance.closeSync();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('metrics', () => {
  it('ROC AUC counts a tied positive/negative pair as half', () => {
    // positives {0.9, 0.5, 0.5}, negatives {0.9, 0.2}: pairs 0.5 + 1 + 0 + 1 + 0 + 1 = 3.5 of 6
    assert.equal(rocAuc([1, 0, 1, 0, 1], [0.9, 0.9, 0.5, 0.2, 0.5]), 3.5 / 6);
    assert.equal(rocAuc([1, 0, 1, 0], [0.3, 0.3, 0.3, 0.3]), 0.5);
    assert.equal(rocAuc([1, 1, 0], [0.8, 0.7, 0.1]), 1);
    assert.equal(rocAuc([1, 1], [0.8, 0.7]), null);
  });

  it('log loss matches hand values and clips certainty', () => {
    assert.ok(Math.abs(logLoss([1, 0], [0.8, 0.4]) - -(Math.log(0.8) + Math.log(0.6)) / 2) < 1e-12);
    assert.ok(Math.abs(logLoss([0], [1]) - -Math.log(1e-15)) < 1e-2);
    assert.ok(Number.isFinite(logLoss([1], [0])));
  });

  it('ECE weights each bin by its rows; p = 1 falls in the last bin', () => {
    const labels = [1, 0, 1, 1];
    const p = [0.05, 0.15, 0.95, 1.0];
    const bins = calibrationBins(labels, p, 10);
    assert.deepEqual(bins.map((b) => b.rows), [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
    assert.equal(bins[9]!.mean_p, 0.975);
    assert.equal(bins[2]!.mean_p, null);
    // (|1 − 0.05| + |0 − 0.15| + 2 × |1 − 0.975|) / 4
    assert.ok(Math.abs(expectedCalibrationError(bins) - 1.15 / 4) < 1e-12);
  });

  it('accuracy sends exactly 0.5 to model_a, also per group', () => {
    assert.equal(accuracy([1, 0, 0, 1], [0.5, 0.5, 0.2, 0.9]), 0.75);
    assert.deepEqual(accuracyByGroup([1, 0, 0, 1], [0.5, 0.5, 0.2, 0.9], ['en', 'zh', 'en', 'en']), {
      en: { rows: 3, accuracy: 1, ci95: wilsonInterval(3, 3) },
      zh: { rows: 1, accuracy: 0, ci95: wilsonInterval(0, 1) },
    });
  });

  it('pools groups under the minimum as "other", last, with 95% Wilson intervals', () => {
    const groups = [...Array(25).fill('Russian'), ...Array(3).fill('Thai'), 'Greek', ...Array(30).fill('English')];
    const labels = groups.map((_, i) => i % 2);
    const p = groups.map((_, i) => (i % 3 === 0 ? 0.9 : 0.1));
    const byGroup = accuracyByGroup(labels, p, groups, 20);
    assert.deepEqual(Object.keys(byGroup), ['English', 'Russian', 'other']);
    assert.equal(byGroup.other!.rows, 4);
    assert.equal(byGroup.English!.rows, 30);
    // Wilson's interval for 8 of 10: 0.4902 .. 0.9433 (textbook value).
    const [low, high] = wilsonInterval(8, 10);
    assert.ok(Math.abs(low - 0.4902) < 1e-4 && Math.abs(high - 0.9433) < 1e-4, `${low} ${high}`);
    assert.deepEqual(wilsonInterval(0, 5).map((x) => Number(x.toFixed(4))), [0, 0.4345]);
  });

  it('the longer-response baseline gives ties to model_a', () => {
    assert.deepEqual(longerResponseBaseline([1, 0, 0, 1], [10, 3, 5, 2], [4, 8, 5, 9]), { accuracy: 0.5, ties: 1 });
  });

  it('reads the trainer history, averaging shards that report the same step or epoch', () => {
    const curves = trainingCurves({
      train_loss_per_step: [
        { shard: 0, step: 1, epoch: 0, loss: 0.75 },
        { shard: 1, step: 1, epoch: 0, loss: 0.25 },
        { shard: 0, step: 2, epoch: 0, loss: 0.4 },
      ],
      epochs: [
        { shard: 0, step: 2, epoch: 0, train_loss: 0.5, valid_loss: 0.75, valid_accuracy: 0.5 },
        { shard: 1, step: 2, epoch: 0, train_loss: 0.5, valid_loss: 0.25, valid_accuracy: 0.75 },
      ],
    });
    assert.deepEqual(curves, {
      trainLoss: [[1, 0.5], [2, 0.4]],
      validLoss: [[0, 0.5]],
      validAccuracy: [[0, 0.625]],
      trainLossPerEpoch: [[0, 0.5]],
      shardLoss: [
        { shard: 0, points: [[1, 0.75], [2, 0.4]] },
        { shard: 1, points: [[1, 0.25]] },
      ],
      roundLoss: [],
    });
    assert.deepEqual(trainingCurves(undefined), { trainLoss: [], validLoss: [], validAccuracy: [], trainLossPerEpoch: [], shardLoss: [], roundLoss: [] });
  });

  it("a sharded history gives each round's loss over all shards, weighted by rows, at its last step", () => {
    const curves = trainingCurves({
      train_loss_per_step: [
        { shard: 0, round: 0, step: 1, rows: 30, loss: 0.6 },
        { shard: 1, round: 0, step: 1, rows: 10, loss: 0.2 },
        { shard: 0, round: 1, step: 2, rows: 30, loss: 0.4 },
        { shard: 0, round: 1, step: 3, rows: 10, loss: 0.8 },
      ],
    });
    assert.deepEqual(curves.roundLoss, [[1, 0.5], [3, 0.5]]);
    assert.deepEqual(curves.shardLoss.map((s) => s.shard), [0, 1]);
    // One shard: no per-shard or per-round curves.
    assert.deepEqual(trainingCurves({ train_loss_per_step: [{ shard: 0, round: 0, step: 1, rows: 3, loss: 0.6 }] }).roundLoss, []);
  });

  it('swap TTA averages p(A|A,B) with 1 − p(A|B,A)', () => {
    assert.deepEqual(Array.from(combineSwapTta([0.8, 0.3, 1], [0.4, 0.3, 0])), [0.7, 0.5, 1]);
  });

  it('feature swap exchanges twins, negates differences, inverts ratios, keeps the rest', () => {
    const rules = new Map(SWAP_RULES.columns.map((c) => [c.name, c.swap] as const));
    const swap = buildFeatureSwap(FEATURES, rules as never, 'feature_columns.json');
    const out = new Float32Array(5);
    swap(Float32Array.of(10, 4, 6, 2, 7), out);
    assert.deepEqual(Array.from(out), [4, 10, -6, 0.5, 7]);
    assert.throws(() => buildFeatureSwap([...FEATURES, 'extra'], rules as never, 'fc.json'), {
      name: 'UserInputError',
      message: 'fc.json: model feature column "extra" has no swap rule',
    });
  });
});

/** p = sigmoid(w·x + b) in float64 from the same text vectors the pipeline builds. */
async function expectedProbabilities(swapped: boolean): Promise<Map<string, number>> {
  const w = weights();
  const rows = (await connection.runAndReadAll(`SELECT * FROM read_parquet('${validTable}')`)).getRowObjectsJS();
  const result = new Map<string, number>();
  for (const row of rows) {
    const [a, b] = swapped ? [row['response_b'], row['response_a']] : [row['response_a'], row['response_b']];
    const text = hashTextVector(String(row['prompt']), String(a), String(b), HASH_DIM);
    let z = w.bias;
    text.forEach((v, i) => (z += v * w.textWeights[i]!));
    const f = FEATURES.map((name) => Number(row[name]));
    const x = swapped ? [f[1]!, f[0]!, -f[2]!, 1 / f[3]!, f[4]!] : f;
    x.forEach((v, i) => (z += v * w.featureWeights[i]!));
    result.set(String(row['id']), 1 / (1 + Math.exp(-z)));
  }
  return result;
}

describe('predict', () => {
  it('gives the same probabilities for batch sizes 1, 7 and 512, matching a hand computation', async () => {
    const expected = await expectedProbabilities(false);
    const expectedSwapped = await expectedProbabilities(true);
    const runs = [];
    for (const batchSize of [1, 7, 512]) runs.push(await predict({ modelDir, table: validTable, batchSize, tta: true, featureColumnsFile }));
    for (const run of runs) {
      assert.deepEqual(run.ids, runs[0]!.ids);
      assert.deepEqual(Array.from(run.pA), Array.from(runs[0]!.pA));
      assert.deepEqual(Array.from(run.pASwapped!), Array.from(runs[0]!.pASwapped!));
    }
    const { ids, pA, pASwapped } = runs[0]!;
    assert.equal(ids.length, 42);
    ids.forEach((id, i) => {
      assert.ok(Math.abs(pA[i]! - expected.get(id)!) < 1e-5, `p_a of ${id}`);
      assert.ok(Math.abs(pASwapped![i]! - expectedSwapped.get(id)!) < 1e-5, `swapped p_a of ${id}`);
    });
    assert.ok(ids.some((_, i) => Math.abs(pA[i]! + pASwapped![i]! - 1) > 0.01), 'the fixture model must be position-sensitive');
  });

  it('names the table and column when a feature column is missing or NULL', async () => {
    const missing = await writeTable('missing.parquet', `SELECT * EXCLUDE (len_ratio) FROM (${FEATURE_SQL})`);
    await assert.rejects(predict({ modelDir, table: missing, batchSize: 8, tta: false }), {
      name: 'UserInputError',
      message: `${missing}: missing column "len_ratio"`,
    });
    const withNull = await writeTable('null.parquet', `SELECT * REPLACE (CASE WHEN id = 'row-4-ru' THEN NULL ELSE len_b END AS len_b) FROM (${FEATURE_SQL})`);
    await assert.rejects(predict({ modelDir, table: withNull, batchSize: 8, tta: false }), {
      name: 'UserInputError',
      message: `${withNull}: row id "row-4-ru": feature column "len_b" is NULL`,
    });
  });

  it('refuses a model whose text vectors this code cannot build', async () => {
    const other = path.join(tmp, 'other-hashing');
    fs.cpSync(modelDir, other, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(other, 'model.json'), 'utf8'));
    manifest.text_hashing.scheme = 'someone-elses-ngrams/7';
    fs.writeFileSync(path.join(other, 'model.json'), JSON.stringify(manifest));
    await assert.rejects(predict({ modelDir: other, table: validTable, batchSize: 8, tta: false }), {
      name: 'UserInputError',
      message: `${path.join(other, 'model.json')}: key text_hashing.scheme is "someone-elses-ngrams/7", but this code builds "${TEXT_HASHING.scheme}" text vectors`,
    });
  });

  it('refuses a model.json without feature columns, naming the key', async () => {
    const broken = path.join(tmp, 'broken-model');
    fs.cpSync(modelDir, broken, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(broken, 'model.json'), 'utf8'));
    delete manifest.feature_columns;
    fs.writeFileSync(path.join(broken, 'model.json'), JSON.stringify(manifest));
    await assert.rejects(predict({ modelDir: broken, table: validTable, batchSize: 8, tta: false }), (err: Error) => {
      assert.equal(err.name, 'UserInputError');
      assert.match(err.message, new RegExp(`^${path.join(broken, 'model.json')}: key feature_columns: `));
      return true;
    });
  });
});

describe('evaluate', () => {
  let metrics: Metrics;
  let outDir: string;

  before(async () => {
    outDir = path.join(tmp, 'eval');
    metrics = await evaluate({ modelDir, validTable, featureColumnsFile, batchSize: 16, tta: true, outDir, synthetic: true });
  });

  it('writes metrics.json with the headline numbers at the top level', async () => {
    const written = JSON.parse(fs.readFileSync(path.join(outDir, 'metrics.json'), 'utf8'));
    assert.equal(written.rows, 42);
    assert.equal(written.synthetic, true);
    for (const key of ['accuracy', 'log_loss', 'roc_auc', 'ece']) {
      assert.equal(typeof written[key], 'number', key);
      assert.equal(typeof written.tta[key], 'number', `tta.${key}`);
    }
    const predictions = await predict({ modelDir, table: validTable, batchSize: 64, tta: true, featureColumnsFile });
    const labels = await connection.runAndReadAll(`SELECT id, winner, length(response_a) AS la, length(response_b) AS lb FROM read_parquet('${validTable}')`);
    const byId = new Map(labels.getRowObjectsJS().map((row) => [String(row['id']), row]));
    const y = predictions.ids.map((id) => (byId.get(id)!['winner'] === 'model_a' ? 1 : 0));
    assert.equal(written.accuracy, accuracy(y, predictions.pA));
    assert.equal(written.log_loss, logLoss(y, predictions.pA));
    assert.equal(written.tta.accuracy, accuracy(y, combineSwapTta(predictions.pA, predictions.pASwapped!)));
    const lengthA = predictions.ids.map((id) => Number(byId.get(id)!['la']));
    const lengthB = predictions.ids.map((id) => Number(byId.get(id)!['lb']));
    assert.equal(written.baseline_longer.accuracy, longerResponseBaseline(y, lengthA, lengthB).accuracy);
    // 30 wsdm rows; the 12 synthetic ones are under the 20-row minimum.
    assert.deepEqual(Object.keys(written.per_source), ['wsdm', 'other']);
    assert.deepEqual(
      Object.entries(written.per_language as Record<string, { rows: number }>).map(([language, entry]) => [language, entry.rows]),
      [['<script>alert(1)</script>', 24], ['other', 18]],
    );
    assert.deepEqual(written, JSON.parse(JSON.stringify(metrics)));
  });

  it('measures response length in characters, not UTF-16 units', async () => {
    // 'ja' rows: '猫は小さな肉食動物です。😺' is 13 characters (14 UTF-16 units)
    const row = await connection.runAndReadAll(`SELECT length('猫は小さな肉食動物です。😺') AS n`);
    assert.equal(Number(row.getRowObjectsJS()[0]!['n']), 13);
    assert.equal('猫は小さな肉食動物です。😺'.length, 14);
  });

  it('writes a self-contained report with its plots, escaping every text', () => {
    const html = fs.readFileSync(path.join(outDir, 'report.html'), 'utf8');
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /https?:/i);
    assert.doesNotMatch(html, /@font-face|@import|<link|url\(/i);
    assert.match(html, /SYNTHETIC DATA/);
    assert.ok((html.match(/<svg /g) ?? []).length >= 5, 'three training plots, language bars, reliability diagram');
    for (const title of ['Training loss per step', 'Validation accuracy per epoch', 'Accuracy per language', 'Calibration (reliability diagram)']) {
      assert.ok(html.includes(title), title);
    }
    assert.ok(html.includes(escapeHtml('<script>alert(1)</script>')));
    assert.ok(html.includes('<polyline'));
  });

  it('reports without training history or TTA, and without the banner for real data', async () => {
    const bare = path.join(tmp, 'bare-model');
    writeLogisticModelDir(bare, { hashDim: HASH_DIM, featureColumns: FEATURES, weights: weights() });
    const out = path.join(tmp, 'eval-bare');
    const result = await evaluate({ modelDir: bare, validTable, featureColumnsFile, batchSize: 512, tta: false, outDir: out, synthetic: false });
    assert.equal(result.tta, null);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.match(html, /no training history/);
    assert.doesNotMatch(html, /SYNTHETIC DATA/);
  });

  it('rejects an invalid winner naming the row, and leaves no output behind', async () => {
    const bad = await writeTable('bad-winner.parquet', `SELECT * REPLACE (CASE WHEN id = 'row-2-ar' THEN 'tie' ELSE winner END AS winner) FROM (${FEATURE_SQL})`);
    const out = path.join(tmp, 'eval-bad');
    await assert.rejects(evaluate({ modelDir, validTable: bad, featureColumnsFile, batchSize: 16, tta: false, outDir: out, synthetic: false }), {
      name: 'UserInputError',
      message: `${bad}: row id "row-2-ar": column "winner" is "tie", expected "model_a" or "model_b"`,
    });
    assert.equal(fs.existsSync(out) ? fs.readdirSync(out).length : 0, 0);
  });

  it('evaluates real LMSYS arena rows (ties dropped)', async () => {
    const sample = path.join(SAMPLE_DIR, 'train_sample.csv');
    const joined = (column: string) => `array_to_string(list_transform(from_json(${column}, '["VARCHAR"]'), x -> coalesce(x, '')), '\n\n')`;
    const lmsys = await writeTable(
      'lmsys.parquet',
      `WITH raw AS (
         SELECT id::VARCHAR AS id, 'lmsys' AS source, ${joined('prompt')} AS prompt, ${joined('response_a')} AS response_a,
           ${joined('response_b')} AS response_b, 'unknown' AS language, CASE WHEN winner_model_a = 1 THEN 'model_a' ELSE 'model_b' END AS winner
         FROM read_csv('${sample}', header = true) WHERE winner_tie = 0
       ), rows AS (SELECT * FROM raw) ${FEATURE_SQL}`,
    );
    const result = await evaluate({ modelDir, validTable: lmsys, featureColumnsFile, batchSize: 128, tta: true, outDir: path.join(tmp, 'eval-lmsys'), synthetic: false });
    assert.equal(result.rows, 692);
    assert.deepEqual(Object.keys(result.per_source), ['lmsys']);
    assert.ok(result.roc_auc !== null && result.roc_auc >= 0 && result.roc_auc <= 1);
    assert.ok(result.baseline_longer.accuracy > 0.5, 'longer answers win more often than not in the arena');
  });

  it("agrees with the cpu trainer's own validation loss and accuracy on its exported model", async () => {
    const dir = path.join(tmp, 'trainer');
    fs.mkdirSync(dir);
    const split = (where: string) =>
      `SELECT id, id AS pair_id, false AS swapped, * EXCLUDE (id) FROM read_parquet('${validTable}') WHERE ${where}`;
    const train = path.join(dir, 'train.parquet');
    const valid = path.join(dir, 'valid.parquet');
    await connection.run(`COPY (${split("id NOT LIKE 'row-6-%'")}) TO '${train}' (FORMAT parquet)`);
    await connection.run(`COPY (${split('true')}) TO '${valid}' (FORMAT parquet)`);
    const config = runConfigSchema.parse({
      name: 'evaluate-test',
      augment: { mode: 'none' },
      model: { text_hash_dim: 32, text_dim: 8, feature_dim: 8, hidden_dim: 8 },
      trainer: { epochs: 2, batch_size: 8, early_stopping_patience: 0 },
    });
    const exported = path.join(dir, 'model');
    await runTrainer(dir, 'train', {
      config,
      train_data: train,
      valid_data: valid,
      feature_columns: featureColumnsFile,
      shard: { index: 0, count: 1 },
      round: { index: 0, epoch_start: 0, epoch_end: 2 },
      checkpoint_dir: path.join(dir, 'checkpoints'),
      output_dir: path.join(dir, 'trained'),
    });
    await runTrainer(dir, 'export', { config, checkpoint: path.join(dir, 'trained', 'checkpoint'), feature_columns: featureColumnsFile, output_dir: exported });

    const result = await evaluate({ modelDir: exported, validTable: valid, featureColumnsFile, batchSize: 5, tta: true, outDir: path.join(dir, 'eval'), synthetic: true });
    const history = JSON.parse(fs.readFileSync(path.join(exported, 'model.json'), 'utf8')).history;
    const lastEpoch = history.epochs.at(-1);
    assert.ok(Math.abs(result.log_loss - lastEpoch.valid_loss) < 1e-4, `log loss ${result.log_loss} vs trainer ${lastEpoch.valid_loss}`);
    assert.equal(result.accuracy, lastEpoch.valid_accuracy);
    assert.ok(result.tta !== null);
    const html = fs.readFileSync(path.join(dir, 'eval', 'report.html'), 'utf8');
    assert.ok(html.includes('<polyline'), 'training curves drawn from the trainer history');
    assert.doesNotMatch(html, /no training history/);
  });
});

/** One trainer verb through docs/trainer-protocol.md: its own process, stdin held open until it exits. */
function runTrainer(dir: string, verb: 'train' | 'export', spec: object): Promise<void> {
  const specFile = path.join(dir, `${verb}.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'trainers/cpu/main.ts', verb, '--spec', specFile], {
      cwd: path.resolve(__dirname, '..'),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`trainer ${verb} exited ${code}: ${stderr}`))));
  });
}
