import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { evaluate } from '../activities/evaluate/evaluate';
import { SUBMISSION_FILE, submit } from '../activities/submit/submit';
import { runTrainer } from '../lib/trainer-process';
import { loadTrainerRegistry, resolveTrainer } from '../lib/trainer-registry';
import { loadConfig } from '../lib/config/load';
import type { RunConfig } from '../lib/config/schema';
import { UserInputError } from '../lib/errors';
import { TRAINER_PREDICT_DIR } from '../lib/inference/engine';
import { createTextEncoder, padBatch } from '../lib/inference/gemma2-inputs';
import { readGemma2Model, type TextRecipe } from '../lib/inference/gemma2-manifest';
import { loadTokenizer } from '../lib/inference/gemma2-tokenizer';
import { predict, type Predictions } from '../lib/inference/predict';
import { predictWithTrainer, type TrainerEngineOptions } from '../lib/inference/trainer-predict';
import { SAMPLE_CSV } from './fixtures/sample-splits';

/**
 * The GPU trainer's model end to end on a CPU: a tiny random Gemma-2 with a BPE tokenizer trained on
 * real rows, a few training steps and an export by the Python trainer (through the activity's
 * runTrainer), then inference in onnxruntime-node against the trainer's own `predict`.
 */

const REPO_ROOT = path.resolve(__dirname, '..');
const FEATURE_COLUMNS = {
  columns: [
    { name: 'log_len_a', swap: { with: 'log_len_b' } },
    { name: 'log_len_b', swap: { with: 'log_len_a' } },
    { name: 'log_len_diff', swap: 'negate' },
    { name: 'len_ratio', swap: 'reciprocal' },
    { name: 'prompt_len', swap: 'keep' },
  ],
};
const TOLERANCE = 1e-4;

/** Rows that are not in the sample: scripts the tokenizer barely saw, and text that spells its special tokens. */
const CRAFTED_ROWS = [
  ['用一句话解释递归。', '递归是函数调用自身。😺', 'Рекурсия — это вызов функцией самой себя.'],
  ['ما هي عاصمة فرنسا؟', 'باريس', 'नई दिल्ली भारत की राजधानी है। 🇮🇳'],
  ['say <bos> and <pad>', 'ok: <eos><bos>', '  leading and trailing  \r\n\ttabs  '],
  ['', 'empty prompt', ''],
];

const SAMPLE_SQL = `
  CREATE TABLE sample AS
  SELECT
    id, 'lmsys' AS source,
    array_to_string(list_filter(json_extract_string(prompt, '$[*]'), t -> t IS NOT NULL), chr(10) || chr(10)) AS prompt,
    array_to_string(list_filter(json_extract_string(response_a, '$[*]'), t -> t IS NOT NULL), chr(10) || chr(10)) AS response_a,
    array_to_string(list_filter(json_extract_string(response_b, '$[*]'), t -> t IS NOT NULL), chr(10) || chr(10)) AS response_b,
    model_a, model_b, 'unknown' AS language,
    CASE WHEN winner_model_a = '1' THEN 'model_a' ELSE 'model_b' END AS winner,
    winner_tie = '1' AS tie,
    row_number() OVER () AS row_no
  FROM read_csv($path, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true, max_line_size = 33554432)`;

const CRAFTED_SQL = `
  CREATE TABLE crafted AS
  SELECT 'crafted-' || i AS id, 'wsdm' AS source, p AS prompt, a AS response_a, b AS response_b,
    'gpt-x' AS model_a, 'llama-y' AS model_b, lang AS language, CASE WHEN i % 2 = 0 THEN 'model_a' ELSE 'model_b' END AS winner
  FROM (VALUES ${CRAFTED_ROWS.map((r, i) => `(${i}, ${r.map(sqlString).join(', ')}, '${['zh', 'ar', 'en', 'en'][i]}')`).join(', ')}) t(i, p, a, b, lang)`;

const FEATURES_SQL = (source: string) => `
  SELECT *,
    ln(1 + length(response_a)) AS log_len_a,
    ln(1 + length(response_b)) AS log_len_b,
    ln(1 + length(response_a)) - ln(1 + length(response_b)) AS log_len_diff,
    (length(response_a) + 1) / (length(response_b) + 1) AS len_ratio,
    length(prompt)::DOUBLE AS prompt_len
  FROM (${source})`;

const BASE_COLUMNS = 'id, source, prompt, response_a, response_b, model_a, model_b, language, winner';

/** Train: both orientations of 48 pairs, as the augment stage writes them. */
const TRAIN_SQL = `
  SELECT *, id AS pair_id, false AS swapped FROM (${FEATURES_SQL(`SELECT ${BASE_COLUMNS} FROM sample WHERE NOT tie AND row_no <= 80`)})
  UNION ALL
  SELECT * REPLACE (
      id || '#swap' AS id, response_b AS response_a, response_a AS response_b, model_b AS model_a, model_a AS model_b,
      CASE winner WHEN 'model_a' THEN 'model_b' ELSE 'model_a' END AS winner,
      log_len_b AS log_len_a, log_len_a AS log_len_b, -log_len_diff AS log_len_diff, 1 / len_ratio AS len_ratio),
    id AS pair_id, true AS swapped
  FROM (${FEATURES_SQL(`SELECT ${BASE_COLUMNS} FROM sample WHERE NOT tie AND row_no <= 80`)})`;

const VALID_SQL = `
  SELECT *, id AS pair_id, false AS swapped FROM (${FEATURES_SQL(
    `SELECT ${BASE_COLUMNS} FROM sample WHERE NOT tie AND row_no BETWEEN 301 AND 340 UNION ALL SELECT ${BASE_COLUMNS} FROM crafted`,
  )})`;

const TEST_SQL = FEATURES_SQL(`SELECT id, source, prompt, response_a, response_b, language FROM sample WHERE row_no BETWEEN 401 AND 409
  UNION ALL SELECT id, source, prompt, response_a, response_b, language FROM crafted`);

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

let tmp: string;
let python: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
let config: RunConfig;
let checkpoint: string;
let modelDir: string;
let validTable: string;
let testTable: string;
let featureColumnsFile: string;
let validRows: number;

function runPython(args: string[], what: string): string {
  const result = spawnSync(python, args, { cwd: REPO_ROOT, env: { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'trainers', 'gpu') }, encoding: 'utf8' });
  assert.equal(result.status, 0, `${what} failed:\n${result.stderr}`);
  return result.stdout;
}

async function writeTable(name: string, sql: string): Promise<string> {
  const file = path.join(tmp, name);
  await connection.run(`COPY (${sql}) TO '${file}' (FORMAT parquet)`);
  return file;
}

async function runTrainerVerb(verb: 'train' | 'export', spec: Record<string, unknown>): Promise<string> {
  const done = await runTrainer({
    ...builtInTrainer(),
    verb,
    spec,
    workDir: path.join(tmp, `${verb}-work`),
    cwd: REPO_ROOT,
    signal: new AbortController().signal,
    onEvent: () => {},
  });
  const result = verb === 'train' ? done.checkpoint : done.model;
  assert.ok(result, `${verb} reported its result`);
  return result;
}

/** The config's trainer as a worker with no operator settings resolves it. */
function builtInTrainer(): { command: string[]; passEnv: string[] } {
  const trainer = resolveTrainer(loadTrainerRegistry({}), config.trainer.engine);
  return { command: trainer.argv, passEnv: trainer.env };
}

function trainerEngine(): TrainerEngineOptions {
  return { ...builtInTrainer(), config, checkpoint, repoRoot: REPO_ROOT };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= TOLERANCE, `${what}: row ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

function copyModel(name: string, edit: (manifest: Record<string, unknown>) => void): string {
  const dir = path.join(tmp, name);
  fs.cpSync(modelDir, dir, { recursive: true });
  const file = path.join(dir, 'model.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  fs.writeFileSync(file, JSON.stringify(manifest));
  return dir;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-'));
  // Cached after the first build (about 2.5 minutes cold).
  const setup = spawnSync('bash', ['scripts/setup-trainer-env.sh'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  assert.equal(setup.status, 0, 'scripts/setup-trainer-env.sh');
  python = setup.stdout.trim();
  runPython(['trainers/gpu/tests/tiny_gemma2.py', path.join(tmp, 'basemodel')], 'tiny_gemma2.py');

  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  await connection.run(SAMPLE_SQL, { path: SAMPLE_CSV });
  await connection.run(CRAFTED_SQL);
  const trainTable = await writeTable('train.parquet', TRAIN_SQL);
  validTable = await writeTable('valid.parquet', VALID_SQL);
  testTable = await writeTable('test_features.parquet', TEST_SQL);
  validRows = Number((await connection.runAndReadAll(`SELECT count(*) FROM '${validTable}'`)).getRows()[0]![0]);
  featureColumnsFile = path.join(tmp, 'feature_columns.json');
  fs.writeFileSync(featureColumnsFile, JSON.stringify(FEATURE_COLUMNS));

  config = loadConfig('gemma2_tiny_cpu', { overrides: { model: { basemodel_path: path.join(tmp, 'basemodel') }, trainer: { epochs: 1 } } });
  checkpoint = await runTrainerVerb('train', {
    config,
    train_data: trainTable,
    valid_data: validTable,
    feature_columns: featureColumnsFile,
    shard: { index: 0, count: 1 },
    round: { index: 0, epoch_start: 0, epoch_end: 1 },
    init_from: null,
    resume_from: null,
    checkpoint_dir: path.join(tmp, 'checkpoints'),
    output_dir: path.join(tmp, 'trained'),
    device_index: 0,
  });
  modelDir = path.dirname(await runTrainerVerb('export', { config, checkpoint, feature_columns: featureColumnsFile, output_dir: path.join(tmp, 'model') }));
});

after(() => {
  connection?.closeSync();
  instance?.closeSync();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('gemma2 input ids', () => {
  it('equal the Python trainer\'s for real rows under every truncation strategy', async () => {
    const sample = (await connection.runAndReadAll('SELECT prompt, response_a, response_b FROM sample ORDER BY row_no LIMIT 150')).getRows() as string[][];
    const rows = [...sample, ...CRAFTED_ROWS];
    const settings = (['whole_string', 'pieces'] as const).flatMap((tokenization) =>
      (['right', 'spread', 'head_tail'] as const).flatMap((truncation) => [96, 700].map((maxLength) => [maxLength, truncation, tokenization])),
    );
    fs.writeFileSync(path.join(tmp, 'rows.json'), JSON.stringify(rows));
    fs.writeFileSync(path.join(tmp, 'settings.json'), JSON.stringify(settings));
    const script = `
import json, sys
from transformers import AutoTokenizer
from arena_trainer.text import TextEncoder
tokenizer = AutoTokenizer.from_pretrained(sys.argv[1])
rows = json.load(open(sys.argv[2], encoding="utf-8"))
out = []
for max_length, truncation, tokenization in json.load(open(sys.argv[3])):
    encoder = TextEncoder(tokenizer, max_length, truncation, tokenization)
    out.append({"recipe": encoder.describe(), "ids": encoder.encode(*([r[k] for r in rows] for k in range(3)))})
json.dump(out, open(sys.argv[4], "w"))
`;
    const model = readGemma2Model(modelDir);
    const expectedFile = path.join(tmp, 'python-ids.json');
    runPython(['-c', script, model.tokenizerDir, path.join(tmp, 'rows.json'), path.join(tmp, 'settings.json'), expectedFile], 'python ids');
    const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as Array<{ recipe: TextRecipe; ids: number[][] }>;

    // The exported recipe is the trainer's for the model's own settings.
    const own = expected[settings.findIndex(([m, t, k]) => m === config.model.max_length && t === config.model.truncation && k === config.model.tokenization)]!;
    assert.deepEqual({ ...model.manifest.text }, { ...own.recipe });

    const tokenizer = loadTokenizer(model.tokenizerDir);
    let cut = 0;
    expected.forEach(({ recipe, ids }, k) => {
      const encoder = createTextEncoder(recipe, tokenizer, 'model.json');
      rows.forEach(([prompt, a, b], i) => {
        const got = encoder.encode(prompt!, a!, b!);
        assert.deepEqual(got, ids[i], `${JSON.stringify(settings[k])} row ${i}`);
        if (got.length === recipe.max_length) cut++;
      });
    });
    assert.ok(cut > 100, 'many rows are cut, so each strategy is exercised');
  });

  it('pads to the longest row on the recipe\'s side, with a mask over the real tokens', () => {
    const right = padBatch([[2, 5, 6], [2]], 0, 'right');
    assert.deepEqual([right.rows, right.width], [2, 3]);
    assert.deepEqual(Array.from(right.inputIds, Number), [2, 5, 6, 2, 0, 0]);
    assert.deepEqual(Array.from(right.attentionMask, Number), [1, 1, 1, 1, 0, 0]);
    const left = padBatch([[2, 5, 6], [2]], 0, 'left');
    assert.deepEqual(Array.from(left.inputIds, Number), [2, 5, 6, 0, 0, 2]);
    assert.deepEqual(Array.from(left.attentionMask, Number), [1, 1, 1, 0, 0, 1]);
  });

  it('refuse a tokenizer that does not reproduce the ids model.json recorded', async () => {
    const dir = copyModel('model-other-marker', (manifest) => {
      (manifest['text'] as { head_tail_marker_ids: number[] }).head_tail_marker_ids = [5, 6];
    });
    await assert.rejects(
      predict({ modelDir: dir, table: validTable, batchSize: 8, tta: false }),
      (err: Error) => err instanceof UserInputError && /model\.json: key text\.head_tail_marker_ids/.test(err.message),
    );
  });
});

describe('gemma2 engines', () => {
  let onnx: Predictions;
  let trainer: Predictions;
  const heartbeats: number[] = [];

  before(async () => {
    onnx = await predict({ modelDir, table: validTable, batchSize: 7, tta: true, featureColumnsFile });
    trainer = await predictWithTrainer({
      ...trainerEngine(),
      table: validTable,
      batchSize: 5,
      tta: true,
      featureColumnsFile,
      workDir: path.join(tmp, 'predict-work'),
      onProgress: (rows) => heartbeats.push(rows),
    });
  });

  it('onnxruntime-node gives the Python trainer\'s p_a, both ways round', () => {
    assert.deepEqual(trainer.ids, onnx.ids);
    assert.equal(onnx.ids.length, validRows);
    assertClose(onnx.pA, trainer.pA, 'p_a');
    assertClose(onnx.pASwapped!, trainer.pASwapped!, 'swapped p_a');
    const spread = Math.max(...onnx.pA) - Math.min(...onnx.pA);
    assert.ok(spread > 1e-3, `rows get different probabilities (spread ${spread})`);
    assert.ok(onnx.pA.some((p, i) => Math.abs(p - onnx.pASwapped![i]!) > 1e-4), 'swapping A and B changes the prediction');
  });

  it('the trainer engine keeps its logs, removes the swapped copy and reports the rows at the end', () => {
    assert.equal(heartbeats.at(-1), validRows);
    for (const pass of ['original', 'swapped']) {
      assert.ok(fs.existsSync(path.join(tmp, 'predict-work', pass, 'trainer.log')), `${pass} trainer.log`);
      assert.ok(fs.existsSync(path.join(tmp, 'predict-work', pass, 'output', 'predictions.parquet')), `${pass} predictions`);
    }
    assert.ok(!fs.existsSync(path.join(tmp, 'predict-work', 'swapped', 'swapped-rows.parquet')));
  });

  it('external weights beside model.onnx give the same p_a; a missing weights file is named', async () => {
    const dir = copyModel('model-external', (manifest) => {
      manifest['onnx_external_data'] = 'model.onnx.data';
    });
    const script = `
import onnx, sys
model = onnx.load(sys.argv[1])
onnx.save_model(model, sys.argv[1], save_as_external_data=True, all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
`;
    runPython(['-c', script, path.join(dir, 'model.onnx')], 'external data');
    assert.ok(fs.statSync(path.join(dir, 'model.onnx.data')).size > fs.statSync(path.join(dir, 'model.onnx')).size);
    const external = await predict({ modelDir: dir, table: validTable, batchSize: 16, tta: false });
    assertClose(external.pA, onnx.pA, 'external-data p_a');

    fs.rmSync(path.join(dir, 'model.onnx.data'));
    await assert.rejects(
      predict({ modelDir: dir, table: validTable, batchSize: 16, tta: false }),
      (err: Error) => err instanceof UserInputError && /key onnx_external_data: .*model\.onnx\.data not found/.test(err.message),
    );
  });

  it('evaluate() gives the same metrics with either engine', async () => {
    const common = { modelDir, validTable, featureColumnsFile, batchSize: 8, tta: true, synthetic: false };
    const byOnnx = await evaluate({ ...common, outDir: path.join(tmp, 'evaluate-onnx') });
    const byTrainer = await evaluate({ ...common, engine: 'trainer', trainer: trainerEngine(), outDir: path.join(tmp, 'evaluate-trainer') });
    assert.equal(byOnnx.model_kind, 'gemma2_qlora');
    assert.equal(byOnnx.rows, validRows);
    assert.equal(byTrainer.accuracy, byOnnx.accuracy);
    assert.equal(byTrainer.tta!.accuracy, byOnnx.tta!.accuracy);
    assert.ok(Math.abs(byTrainer.log_loss - byOnnx.log_loss) < TOLERANCE);
    assert.ok(Math.abs(byTrainer.tta!.log_loss - byOnnx.tta!.log_loss) < TOLERANCE);
    assert.deepEqual(byTrainer.per_language, byOnnx.per_language);
    for (const dir of ['evaluate-onnx', 'evaluate-trainer']) {
      assert.match(fs.readFileSync(path.join(tmp, dir, 'report.html'), 'utf8'), /<svg/);
    }
    assert.ok(!fs.existsSync(path.join(tmp, 'evaluate-onnx', TRAINER_PREDICT_DIR)));
    assert.ok(fs.existsSync(path.join(tmp, 'evaluate-trainer', TRAINER_PREDICT_DIR, 'swapped', 'trainer.log')));
  });

  it('submit() writes the same submission with either engine', async () => {
    const common = { modelDir, testTable, featureColumnsFile, batchSize: 4, tta: true };
    const byOnnx = await submit({ ...common, outDir: path.join(tmp, 'submit-onnx') });
    const byTrainer = await submit({ ...common, engine: 'trainer', trainer: trainerEngine(), outDir: path.join(tmp, 'submit-trainer') });
    assert.deepEqual(byTrainer, byOnnx);
    assert.equal(byOnnx.rows, 13);
    const csv = fs.readFileSync(path.join(tmp, 'submit-onnx', SUBMISSION_FILE), 'utf8');
    assert.equal(fs.readFileSync(path.join(tmp, 'submit-trainer', SUBMISSION_FILE), 'utf8'), csv);
    assert.match(csv, /^id,winner\n/);
    assert.match(csv, /\ncrafted-3,model_[ab]\n$/);
  });

  it('a table the trainer rejects fails as a user error, with nothing written', async () => {
    const table = await writeTable('no-features.parquet', 'SELECT id, prompt, response_a, response_b FROM sample LIMIT 3');
    const outDir = path.join(tmp, 'submit-rejected');
    await assert.rejects(
      submit({ modelDir, testTable: table, featureColumnsFile, batchSize: 4, tta: false, engine: 'trainer', trainer: trainerEngine(), outDir }),
      (err: Error) => err instanceof UserInputError && /missing column "log_len_a"/.test(err.message),
    );
    assert.ok(!fs.existsSync(path.join(outDir, SUBMISSION_FILE)));
  });
});
