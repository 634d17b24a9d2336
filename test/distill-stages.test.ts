import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assignFolds } from '../activities/folds/folds';
import { foldSplit } from '../activities/fold-split/fold-split';
import { outOfFold, type OofMember } from '../activities/oof/oof';
import { softLabels, type SoftLabelOptions } from '../activities/soft-labels/soft-labels';
import { resolveTeachers } from '../activities/soft-labels/teacher-files';
import { evaluateEnsemble } from '../activities/ensemble/ensemble';
import { predict } from '../lib/inference/predict';
import { runConfigSchema } from '../lib/config/schema';
import { UserInputError } from '../lib/errors';
import { writeLogisticModelDir } from './fixtures/logistic-onnx';
import { readSplit } from '../trainers/cpu/data';
import { readParquet, sql } from './helpers/duckdb-rows';


/** 40 English, 12 Russian, 9 Chinese and 2 Hindi pairs: each original row, then its swapped copy (winner flipped), as augment writes them. */
const PAIRS_SQL = `
  SELECT 'p' || i AS pair_id,
    CASE WHEN i < 40 THEN 'English' WHEN i < 52 THEN 'Russian' WHEN i < 61 THEN 'Chinese' ELSE 'Hindi' END AS language,
    CASE WHEN (i * 7) % 3 = 0 THEN 'model_b' ELSE 'model_a' END AS winner,
    'prompt ' || i AS prompt, 'answer A ' || repeat('x', i % 5) AS response_a, 'answer B ' || repeat('y', i % 3) AS response_b
  FROM range(63) t(i)`;
const SPLIT_SQL = `
  SELECT CASE WHEN swapped THEN pair_id || '#swap' ELSE pair_id END AS id, 'wsdm' AS source,
    CASE WHEN swapped THEN response_b ELSE response_a END AS response_a, CASE WHEN swapped THEN response_a ELSE response_b END AS response_b,
    prompt, language,
    CASE WHEN swapped = (winner = 'model_a') THEN 'model_b' ELSE 'model_a' END AS winner,
    length(CASE WHEN swapped THEN response_b ELSE response_a END)::DOUBLE AS len_a,
    length(CASE WHEN swapped THEN response_a ELSE response_b END)::DOUBLE AS len_b,
    pair_id, swapped
  FROM (${PAIRS_SQL}), (VALUES (false), (true)) s(swapped)
  ORDER BY pair_id, swapped`;
const HASH_DIM = 8;

let tmp: string;
let splitTrain: string;
let splitValid: string;
let foldsFile: string;
let modelDir: string;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-distill-'));
  splitTrain = path.join(tmp, 'train.parquet');
  splitValid = path.join(tmp, 'valid.parquet');
  await sql(`COPY (${SPLIT_SQL}) TO '${splitTrain}' (FORMAT parquet)`);
    // Validation pairs of their own (ids vp0, vp1, vp10, ...): 12 originals.
  await sql(`COPY (SELECT * REPLACE ('v' || id AS id, 'v' || pair_id AS pair_id) FROM (${SPLIT_SQL}) WHERE NOT swapped AND pair_id < 'p2') TO '${splitValid}' (FORMAT parquet)`);
  foldsFile = path.join(tmp, 'folds.parquet');
  await assignFolds({ input: splitTrain, folds: 3, seed: 42, output: foldsFile });
  modelDir = path.join(tmp, 'model');
  const textWeights = new Float32Array(3 * HASH_DIM).map((_, i) => Math.sin(i * 1.3) * 0.7);
  writeLogisticModelDir(modelDir, { hashDim: HASH_DIM, featureColumns: ['len_a', 'len_b'], weights: { textWeights, featureWeights: Float32Array.of(0.05, -0.04), bias: 0.1 } });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('folds', () => {
  test('are deterministic, keep a pair together and deal every language evenly over the folds', async () => {
    const again = path.join(tmp, 'folds-again.parquet');
    const report = await assignFolds({ input: splitTrain, folds: 3, seed: 42, output: again });
    assert.deepEqual(fs.readFileSync(again), fs.readFileSync(foldsFile));
    const rows = await readParquet(foldsFile);
    assert.equal(rows.length, 63);
    assert.equal(new Set(rows.map((r) => r['pair_id'])).size, 63);
    assert.deepEqual(report.per_fold.map((f) => [f.pairs, f.rows]), [[21, 42], [21, 42], [21, 42]]);
    for (const [language, pairs] of [['English', 40], ['Russian', 12], ['Chinese', 9], ['Hindi', 2]] as const) {
      const perFold = report.per_fold.map((f) => f.languages[language] ?? 0);
      assert.equal(perFold.reduce((a, b) => a + b, 0), pairs);
      assert.ok(Math.max(...perFold) - Math.min(...perFold) <= 1, `${language}: ${perFold.join(', ')}`);
    }
    const other = await assignFolds({ input: splitTrain, folds: 3, seed: 7, output: path.join(tmp, 'folds-seed7.parquet') });
    assert.deepEqual(other.per_fold.map((f) => f.pairs), [21, 21, 21]);
    assert.notDeepEqual(await readParquet(path.join(tmp, 'folds-seed7.parquet')), rows);
  });

  test('refuse more folds than pairs', async () => {
    const tiny = path.join(tmp, 'tiny.parquet');
    await sql(`COPY (SELECT * FROM read_parquet('${splitTrain}') WHERE pair_id IN ('p1', 'p2')) TO '${tiny}' (FORMAT parquet)`);
    await assert.rejects(assignFolds({ input: tiny, folds: 3, seed: 42, output: path.join(tmp, 'x.parquet') }), {
      name: 'UserInputError',
      message: `${tiny}: 2 training pairs cannot fill distill.folds = 3 folds; lower distill.folds or add data`,
    });
  });
});

async function writeFold(fold: number): Promise<{ train: string; valid: string }> {
  const dir = path.join(tmp, `fold-${fold}`);
  const result = { train: path.join(dir, 'train.parquet'), valid: path.join(dir, 'valid.parquet') };
  await foldSplit({ train: splitTrain, folds: foldsFile, fold, trainOutput: result.train, validOutput: result.valid });
  return result;
}

describe('fold_split', () => {
  test("valid.parquet holds the fold's rows in both orders, train.parquet the others, in the split's columns and order", async () => {
    const { train, valid } = await writeFold(1);
    const foldOf = new Map((await readParquet(foldsFile)).map((r) => [r['pair_id'], r['fold']]));
    const all = await readParquet(splitTrain);
    const trainRows = await readParquet(train);
    const validRows = await readParquet(valid);
    assert.deepEqual(validRows, all.filter((r) => foldOf.get(r['pair_id']) === 1));
    assert.deepEqual(trainRows, all.filter((r) => foldOf.get(r['pair_id']) !== 1));
    assert.equal(validRows.length, 42);
  });

  test('a fold beyond the folds has no rows', async () => {
    await assert.rejects(writeFold(3), { name: 'UserInputError', message: `${foldsFile}: fold 3 has no rows (is it below distill.folds?)` });
  });
});

describe('oof', () => {
  let folds: { train: string; valid: string }[];
  before(async () => {
    folds = await Promise.all([0, 1, 2].map(writeFold));
  });
  const member = (fold: number, data = folds[fold]!, label = fold): OofMember => ({
    fold: label,
    teacher: `teacher[fold=${label}]`,
    data: `fold_data[fold=${label}]`,
    validTable: data.valid,
    trainTable: data.train,
  });
  const run = (members: OofMember[], output = path.join(tmp, 'oof', `${Math.random()}.parquet`)) =>
    outOfFold({ stageId: 'oof', splitTrain, members, predict: (m) => predict({ modelDir, table: m.validTable, batchSize: 16, tta: false }), output });

  test('predicts every training row once, by the teacher of its fold', async () => {
    const output = path.join(tmp, 'oof.parquet');
    const summary = await run([0, 1, 2].map((k) => member(k)), output);
    const rows = await readParquet(output);
    const foldOf = new Map((await readParquet(foldsFile)).map((r) => [r['pair_id'], r['fold']]));
    assert.deepEqual(rows.map((r) => r['id']), (await readParquet(splitTrain)).map((r) => r['id']));
    for (const row of rows) assert.equal(row['fold'], foldOf.get(row['pair_id']));
    assert.deepEqual(Object.keys(rows[0]!), ['id', 'pair_id', 'swapped', 'p_model_a', 'fold']);
    assert.equal(summary.rows, 126);
    assert.deepEqual(summary.per_fold.map((f) => f.rows), [42, 42, 42]);
  });

  test('names the rows no teacher predicted', async () => {
    const fold2 = (await readParquet(folds[2]!.valid)).map((r) => JSON.stringify(r['id']));
    const output = path.join(tmp, 'oof-missing.parquet');
    await assert.rejects(run([member(0), member(1)], output), {
      name: 'UserInputError',
      message: `oof: 42 training rows of the split have no out-of-fold prediction (first: ${fold2.slice(0, 3).join(', ')}); every row must be in exactly one fold`,
    });
    assert.equal(fs.existsSync(output), false);
  });

  test('names a row two teachers predicted', async () => {
    const first = (await readParquet(folds[0]!.valid)).map((r) => String(r['id'])).sort()[0];
    await assert.rejects(run([member(0), member(0, folds[0], 1), member(2)]), {
      name: 'UserInputError',
      message: `oof: training row "${first}" is predicted by more than one teacher (teacher[fold=0], teacher[fold=1]); every row must be in exactly one fold`,
    });
  });

  test("refuses a teacher whose training data holds a pair it predicted", async () => {
    const leaky = { train: splitTrain, valid: folds[1]!.valid };
    const first = (await readParquet(folds[1]!.valid)).map((r) => String(r['id'])).sort().slice(0, 3).map((id) => JSON.stringify(id));
    await assert.rejects(run([member(0), member(1, leaky), member(2)]), {
      name: 'UserInputError',
      message: `oof: teacher[fold=1] predicted pairs that its training data fold_data[fold=1]'s train.parquet holds (42 rows, first: ${first.join(', ')}); its predictions would not be out of fold`,
    });
  });

  test('refuses predicted rows that are not training rows', async () => {
    await assert.rejects(run([member(0), member(1, { train: folds[1]!.train, valid: splitValid }), member(2)]), {
      name: 'UserInputError',
      message: `oof: fold_data[fold=1]'s valid.parquet holds 12 rows that are not training rows of the split (first: "vp0", "vp1", "vp10")`,
    });
  });
});

describe('soft_labels', () => {
  let dataDir: string;
  let oofFile: string;
  before(async () => {
    dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    // Out-of-fold predictions as the oof stage writes them: p = 0.8 for an original, 0.3 for its swap.
    oofFile = path.join(tmp, 'oof-fixed.parquet');
    await sql(`COPY (SELECT id, pair_id, swapped, CASE WHEN swapped THEN 0.3 ELSE 0.8 END AS p_model_a, 0 AS fold FROM read_parquet('${splitTrain}')) TO '${oofFile}' (FORMAT parquet)`);
  });

  /** A teacher file under the data dir: one row per training pair, `columns` computed from the pair number i. */
  async function teacherFile(name: string, columns: string, where = 'true'): Promise<string> {
    const file = path.join(dataDir, name);
    const format = name.endsWith('.csv') ? 'csv' : 'parquet';
    await sql(`COPY (SELECT 'p' || i AS id, ${columns} FROM range(63) t(i) WHERE ${where} ORDER BY i) TO '${file}' (FORMAT ${format})`);
    return file;
  }

  function options(teachers: { name: string; file?: string; weight?: number }[], overrides: Partial<SoftLabelOptions> = {}): SoftLabelOptions {
    const config = runConfigSchema.parse({ name: 'x', distill: { teachers } });
    const dir = path.join(tmp, 'soft', String(Math.random()));
    return {
      teachers: resolveTeachers(config, tmp, { ARENA_DATA_DIR: dataDir }),
      oof: oofFile,
      train: splitTrain,
      valid: splitValid,
      swapTolerance: 0.15,
      loss: { alpha: 0.25, temperature: 3 },
      trainOutput: path.join(dir, 'train.parquet'),
      validOutput: path.join(dir, 'valid.parquet'),
      ...overrides,
    };
  }

  test("are the teachers' weighted mean per pair; a swapped row gets 1 - p; valid.parquet is the split's", async () => {
    // Both orders: (0.9 + 1 - 0.2) / 2 = 0.85 for even pairs; one order: 0.6 for odd ones.
    await teacherFile('big.parquet', 'CASE WHEN i % 2 = 0 THEN 0.9 ELSE 0.6 END AS p_model_a, CASE WHEN i % 2 = 0 THEN 0.2 ELSE 0.4 END AS p_model_a_swapped');
    await teacherFile('small.csv', 'CASE WHEN i % 2 = 0 THEN 0.5 ELSE 0.1 END AS p_model_a');
    const opts = options([{ name: 'oof', weight: 1 }, { name: 'big', file: 'big.parquet', weight: 2 }, { name: 'small', file: 'small.csv', weight: 1 }]);
    const summary = await softLabels(opts);
    const rows = await readParquet(opts.trainOutput);
    const split = await readParquet(splitTrain);
    assert.deepEqual(rows.map(({ teacher_p, ...rest }) => rest), split);
    // oof: (0.8 + 1 - 0.3) / 2 = 0.75. big: both orders given, (0.9 + 0.8) / 2 = 0.85 (p0, even); p1 (odd): swapped given too, (0.6 + 0.6) / 2 = 0.6.
    const expected = { p0: (0.75 + 2 * 0.85 + 0.5) / 4, p1: (0.75 + 2 * 0.6 + 0.1) / 4 };
    for (const [pair, p] of Object.entries(expected)) {
      const original = rows.find((r) => r['id'] === pair)!;
      const swapped = rows.find((r) => r['id'] === `${pair}#swap`)!;
      assert.ok(Math.abs((original['teacher_p'] as number) - p) < 1e-12, `${pair}: ${original['teacher_p']} vs ${p}`);
      assert.ok(Math.abs((swapped['teacher_p'] as number) - (1 - p)) < 1e-12);
    }
    assert.deepEqual(fs.readFileSync(opts.validOutput), fs.readFileSync(splitValid));
    // The loss weights travel in the file, where the student's trainer reads them and its key covers them.
    const split2 = await readSplit(opts.trainOutput, []);
    assert.deepEqual(split2.softLoss, { alpha: 0.25, temperature: 3 });
    assert.deepEqual(summary.teachers.map((t) => [t.name, t.swap_gap === null ? null : Number(t.swap_gap.toFixed(6))]), [['oof', 0.1], ['big', 0.050794], ['small', null]]);
    assert.equal(summary.train_rows, 126);
  });

  /** The error a bad teacher file gets, with nothing written. */
  async function rejects(file: string, columns: string, message: string, where?: string): Promise<void> {
    await teacherFile(file, columns, where);
    const opts = options([{ name: 'oof' }, { name: 'big', file }]);
    await assert.rejects(softLabels(opts), (err: Error) => {
      assert.ok(err instanceof UserInputError);
      assert.equal(err.message, message);
      return true;
    });
    assert.equal(fs.existsSync(opts.trainOutput), false);
  }
  const big = (file: string) => `teacher 'big' (distill.teachers[1]): ${path.join(dataDir, file)}`;

  test('a file that misses training pairs: how many, and the first few', async () => {
    await rejects('missing.csv', '0.5 AS p_model_a', `${big('missing.csv')}: column "id" misses 6 of the split's 63 training pairs (first: "p10", "p20", "p30"); a teacher must give every training pair`, 'i % 10 <> 0 OR i = 0');
  });

  test('a probability outside [0, 1], empty or not a number: its row, id and column', async () => {
    await rejects('range.csv', 'CASE WHEN i = 4 THEN 1.5 ELSE 0.5 END AS p_model_a', `${big('range.csv')}: row 5, id "p4": column "p_model_a" is 1.5, outside [0, 1]; expected a probability in [0, 1]`);
    await rejects('null.parquet', 'CASE WHEN i = 7 THEN NULL ELSE 0.5 END AS p_model_a', `${big('null.parquet')}: row 8, id "p7": column "p_model_a" is empty; expected a probability in [0, 1]`);
    await rejects('text.csv', "CASE WHEN i = 2 THEN 'high' ELSE '0.5' END AS p_model_a", `${big('text.csv')}: row 3, id "p2": column "p_model_a" is "high", not a number; expected a probability in [0, 1]`);
    await rejects(
      'swapped-range.csv',
      '0.5 AS p_model_a, CASE WHEN i = 9 THEN -0.1 ELSE 0.5 END AS p_model_a_swapped',
      `${big('swapped-range.csv')}: row 10, id "p9": column "p_model_a_swapped" is -0.1, outside [0, 1]; expected a probability in [0, 1]`,
    );
  });

  test('both orders that disagree beyond distill.swap_tolerance: the mean gap and the worst ids', async () => {
    // Gap |p - (1 - ps)|: 0.6 for pairs 0..29, 0 for the others: mean 30 * 0.6 / 63 = 0.286.
    await rejects(
      'swap.parquet',
      'CASE WHEN i < 30 THEN 0.8 ELSE 0.5 END AS p_model_a, CASE WHEN i < 30 THEN 0.8 ELSE 0.5 END AS p_model_a_swapped',
      `${big('swap.parquet')}: columns "p_model_a" and "p_model_a_swapped" disagree: mean |p_model_a - (1 - p_model_a_swapped)| is 0.286 over the training pairs, above distill.swap_tolerance 0.15; worst ids: "p0" (0.600), "p1" (0.600), "p10" (0.600)`,
    );
  });

  test('a missing column, a repeated id', async () => {
    await rejects('columns.csv', '0.5 AS p', `${big('columns.csv')}: missing column "p_model_a" (expected id, p_model_a and optionally p_model_a_swapped)`);
    const file = path.join(dataDir, 'repeat.csv');
    fs.writeFileSync(file, 'id,p_model_a\np0,0.5\np1,0.5\np0,0.4\n');
    await assert.rejects(softLabels(options([{ name: 'big', file: 'repeat.csv' }])), {
      name: 'UserInputError',
      message: `teacher 'big' (distill.teachers[0]): ${file}: row 3, id "p0": column "id" repeats row 1; give each pair once`,
    });
  });

  test("files outside the data roots and the own teachers without an oof stage are refused", async () => {
    const config = runConfigSchema.parse({ name: 'x', distill: { teachers: [{ name: 'big', file: '/etc/passwd' }] } });
    assert.throws(() => resolveTeachers(config, tmp, { ARENA_DATA_DIR: dataDir }), {
      name: 'UserInputError',
      message: `distill.teachers[0].file: '/etc/passwd' is outside the worker's data roots (${fs.realpathSync(path.join(tmp))}/data/raw, ${fs.realpathSync(dataDir)}); an operator can add a folder with ARENA_DATA_ROOTS on the worker`,
    });
    await assert.rejects(softLabels(options([{ name: 'oof' }], { oof: undefined })), {
      name: 'UserInputError',
      message: "teacher 'oof' (distill.teachers[0]): has no file, so it is the pipeline's own k-fold teachers, but this pipeline has no oof stage upstream; give it a file or run distill-pipeline",
    });
  });
});

describe('ensemble', () => {
  test("averages the members' probabilities and reports each beside the ensemble", async () => {
    const other = path.join(tmp, 'model-2');
    const textWeights = new Float32Array(3 * HASH_DIM).map((_, i) => Math.cos(i * 0.9) * 0.9);
    writeLogisticModelDir(other, { hashDim: HASH_DIM, featureColumns: ['len_a', 'len_b'], weights: { textWeights, featureWeights: Float32Array.of(-0.03, 0.06), bias: -0.2 } });
    const outDir = path.join(tmp, 'ensemble');
    const members = [{ name: 'teacher[fold=0]', fold: 0, modelDir }, { name: 'teacher[fold=1]', fold: 1, modelDir: other }];
    const score = (dir: string) => predict({ modelDir: dir, table: splitValid, batchSize: 8, tta: false });
    const metrics = await evaluateEnsemble({ members, predict: (m) => score(m.modelDir), validTable: splitValid, tta: false, synthetic: false, outDir });
    const [a, b] = [await score(modelDir), await score(other)];
    const labels = (await readParquet(splitValid)).map((r) => (r['winner'] === 'model_a' ? 1 : 0));
    const mean = a.pA.map((p, i) => (p + b.pA[i]!) / 2);
    const correct = labels.filter((label, i) => (mean[i]! >= 0.5 ? 1 : 0) === label).length;
    assert.equal(metrics.accuracy, correct / labels.length);
    assert.deepEqual(metrics.members.map((m) => m.name), ['teacher[fold=0]', 'teacher[fold=1]']);
    assert.equal(metrics.ensemble.accuracy, metrics.accuracy);
    const saved = JSON.parse(fs.readFileSync(path.join(outDir, 'metrics.json'), 'utf8'));
    assert.deepEqual(saved, JSON.parse(JSON.stringify(metrics)));
    const report = fs.readFileSync(path.join(outDir, 'report.html'), 'utf8');
    for (const name of ['teacher[fold=0]', 'teacher[fold=1]', 'mean of 2']) assert.ok(report.includes(`<td>${name}</td>`), name);
  });
});
