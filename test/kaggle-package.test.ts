import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { buildFeatures } from '../activities/features/build-features';
import { packageRun } from '../cli/package';
import { DEFAULT_CONFIG_DIR } from '../lib/config/load';
import { queryRows, withDuckDB } from '../lib/duckdb';
import { predict } from '../lib/inference/predict';
import { combineSwapTta } from '../lib/inference/tta';
import type { PipelineResult } from '../lib/run-types';
import { REPO_ROOT } from '../worker';
import { MULTILINGUAL_ROWS, writeWsdmTest } from './fixtures/wsdm-fixtures';
import { SAMPLE_DIR } from './fixtures/sample-splits';
import { removeDir, sampleData, startRun, startTemporal, startWorkers, tempDir, type RunningWorkers } from './helpers/temporal';

const COMPETITION = 'wsdm-cup-multilingual-chatbot-arena';
const DATASET = 'arena-test/arena-tiny';
/** Where Kaggle mounts the default backbone handle (google/gemma-2/transformers/gemma-2-9b-it/2). */
const BASEMODEL_UNDER_INPUT = 'gemma-2/transformers/gemma-2-9b-it/2';

/** id -> every column but id, of a parquet file. */
async function rowsById(file: string, columns: readonly string[]): Promise<Map<string, number[]>> {
  return withDuckDB(async (connection) => {
    const rows = await queryRows(connection, `SELECT id, ${columns.map((c) => `"${c}"::DOUBLE AS "${c}"`).join(', ')} FROM read_parquet('${file}')`);
    return new Map(rows.map((r) => [String(r['id']), columns.map((c) => Number(r[c]))]));
  });
}

/** The largest absolute difference between two feature tables over every row and column; both must hold the same ids. */
async function featureDifference(pipelineFile: string, pythonFile: string, columns: readonly string[]): Promise<{ rows: number; maxAbs: number; worst: string }> {
  const [mine, theirs] = await Promise.all([rowsById(pipelineFile, columns), rowsById(pythonFile, columns)]);
  assert.deepEqual([...theirs.keys()].sort(), [...mine.keys()].sort());
  let maxAbs = 0;
  let worst = '';
  for (const [id, values] of mine) {
    values.forEach((v, i) => {
      const d = Math.abs(v - theirs.get(id)![i]!);
      if (d > maxAbs) [maxAbs, worst] = [d, `${id}.${columns[i]}: ${v} vs ${theirs.get(id)![i]}`];
    });
  }
  return { rows: mine.size, maxAbs, worst };
}

describe('arena package: a tiny Gemma-2 run as an offline Kaggle notebook', () => {
  let env: TestWorkflowEnvironment;
  let workers: RunningWorkers;
  let result: PipelineResult;
  let notebookPython: string;
  const store = tempDir('kaggle-store');
  const models = tempDir('kaggle-model');
  const configDir = tempDir('kaggle-configs');
  // The layout a Kaggle kernel sees under /kaggle/input, and its /kaggle/working.
  const input = tempDir('kaggle-input');
  const working = tempDir('kaggle-working');
  const scratch = tempDir('kaggle-scratch');
  const testFile = path.join(input, COMPETITION, 'test.parquet');
  const taskQueue = 'kaggle-package';

  before(async () => {
    const trainerPython = execFileSync('bash', ['scripts/setup-trainer-env.sh'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    execFileSync(trainerPython, ['trainers/gpu/tests/tiny_gemma2.py', path.join(models, 'gemma2-tiny')], { cwd: REPO_ROOT, env: { ...process.env, PYTHONPATH: 'trainers/gpu' } });
    // A WSDM-format test.parquet from the shared sample: its 3 test rows and 61 training rows
    // without their labels, each conversation's turns joined as ingest joins them.
    mkdirSync(path.dirname(testFile), { recursive: true });
    await withDuckDB(async (connection) => {
      const flat = (c: string) => `array_to_string(list_filter(json_extract_string(${c}, '$[*]'), t -> t IS NOT NULL), chr(10) || chr(10)) AS ${c}`;
      const rows = (file: string, limit: string) => `(SELECT CAST(id AS VARCHAR) AS id, ${['prompt', 'response_a', 'response_b'].map(flat).join(', ')} FROM read_csv('${path.join(SAMPLE_DIR, file)}', all_varchar = true) ${limit})`;
      await connection.run(`COPY (${rows('test.csv', '')} UNION ALL ${rows('train_sample.csv', 'LIMIT 61')}) TO '${testFile}' (FORMAT parquet)`);
    });
    env = await startTemporal();
    cpSync(DEFAULT_CONFIG_DIR, configDir, { recursive: true });
    writeFileSync(path.join(configDir, 'gemma2_tiny_test.yaml'), `extends: gemma2_tiny_cpu\nmodel:\n  basemodel_path: ${JSON.stringify(path.join(models, 'gemma2-tiny'))}\n`);
    process.env['ARENA_DATA_ROOTS'] = [process.env['ARENA_DATA_ROOTS'], input].filter(Boolean).join(path.delimiter);
    workers = await startWorkers(env, { taskQueue, storeDir: store, devices: 1, configDir });
    const overrides = sampleData() as { data: Record<string, unknown> };
    // Half the rows held out: training (most of this test's time) takes half the rows. The assertions
    // compare the package with the pipeline on every ingested row, whatever the model learnt.
    const handle = await startRun(env, taskQueue, 'kaggle-tiny', {
      config: 'gemma2_tiny_test',
      overrides: { data: { ...overrides.data, test: { format: 'wsdm', path: testFile }, validation_size: 0.5 }, trainer: { epochs: 1, round_epochs: 1, gpus: 1 }, kaggle: { dataset: DATASET } },
    });
    result = (await handle.result()) as PipelineResult;
    notebookPython = execFileSync('bash', ['scripts/setup-notebook-env.sh'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    // The notebook's inputs, where Kaggle would mount them: the package dataset and the backbone.
    symlinkSync(path.join(result.stages['package']!.dir, 'dataset'), path.join(input, DATASET.split('/')[1]!));
    mkdirSync(path.dirname(path.join(input, BASEMODEL_UNDER_INPUT)), { recursive: true });
    symlinkSync(path.join(models, 'gemma2-tiny'), path.join(input, BASEMODEL_UNDER_INPUT));
  });

  after(async () => {
    await workers?.stop();
    await env?.teardown();
    for (const dir of [store, models, configDir, input, working, scratch]) removeDir(dir);
  });

  it('the package stage writes the dataset and notebook, with nothing training needs, and shows where', () => {
    const stage = result.stages['package']!;
    assert.equal(stage.summary['packaged'], true);
    assert.equal(result.progress.stages['package']!.detail.endsWith(`in ${stage.dir}`), true, result.progress.stages['package']!.detail);
    const manifest = JSON.parse(readFileSync(path.join(stage.dir, 'dataset', 'manifest.json'), 'utf8'));
    const files = Object.keys(manifest.files);
    for (const file of ['model/weights.safetensors', 'model/feature_columns.json', 'model/shape.json', 'model/settings.json', 'model/tokenizer/tokenizer.json', 'features/plan.json', 'features/sentiment_lexicon.json', 'features/language_names.json', 'arena_trainer/model.py', 'arena_trainer/text.py', 'arena_infer/predict.py', 'arena_infer/language_id.py', 'requirements.txt']) {
      assert.ok(files.includes(file), `${file} in ${files.join(', ')}`);
    }
    assert.deepEqual(files.filter((f) => /optimizer|rng\.safetensors|checkpoint\.json|\.onnx|__pycache__/.test(f)), []);
    // The trainer's model code is vendored as it is in the project, byte for byte.
    assert.equal(readFileSync(path.join(stage.dir, 'dataset', 'arena_trainer', 'text.py'), 'utf8'), readFileSync(path.join(REPO_ROOT, 'trainers/gpu/arena_trainer/text.py'), 'utf8'));
    const kernel = JSON.parse(readFileSync(path.join(stage.dir, 'notebook', 'kernel-metadata.json'), 'utf8'));
    assert.deepEqual(
      { internet: kernel.enable_internet, gpu: kernel.enable_gpu, competitions: kernel.competition_sources, datasets: kernel.dataset_sources, models: kernel.model_sources },
      { internet: false, gpu: true, competitions: [COMPETITION], datasets: [DATASET], models: ['google/gemma-2/transformers/gemma-2-9b-it/2'] },
    );
    assert.equal(JSON.parse(readFileSync(path.join(stage.dir, 'dataset', 'dataset-metadata.json'), 'utf8')).id, DATASET);
    const estimate = stage.summary['estimate'] as { hours: number; passes: number };
    assert.ok(estimate.hours > 0 && estimate.passes === 2, JSON.stringify(estimate));
    console.log(`# package: ${stage.summary['files']} files, ${stage.summary['bytes']} bytes; estimate ${JSON.stringify(estimate)}`);
  });

  it('arena package writes the same package for a finished run, and prints its size, estimate and upload commands', async () => {
    const client = new Client({ connection: env.connection });
    const out = path.join(scratch, 'cli-package');
    const { text } = await packageRun(client.workflow.getHandle('kaggle-tiny'), { workflowId: 'kaggle-tiny', outDir: out, kaggleDataset: 'someone/other-slug', repoRoot: REPO_ROOT });
    assert.match(text, /^package: {2}.*cli-package\/dataset \(\d+ files, [\d.]+ MB;/);
    assert.match(text, /estimated Kaggle run time: [\d.]+ h for 25000 test rows x 2 pass\(es\)/);
    assert.match(text, /kaggle competitions submit wsdm-cup-multilingual-chatbot-arena -k someone\/other-slug-inference/);
    const stageManifest = JSON.parse(readFileSync(path.join(result.stages['package']!.dir, 'dataset', 'manifest.json'), 'utf8'));
    const cliManifest = JSON.parse(readFileSync(path.join(out, 'dataset', 'manifest.json'), 'utf8'));
    assert.deepEqual(cliManifest.files, stageManifest.files);
  });

  it('the packaged Python features equal the pipeline features on every real sample row and on the multilingual fixtures', async () => {
    const columns = (JSON.parse(readFileSync(path.join(result.stages['features']!.dir, 'feature_columns.json'), 'utf8')).columns as { name: string }[]).map((c) => c.name);
    const dataset = path.join(result.stages['package']!.dir, 'dataset');
    const python = (table: string, out: string) => execFileSync(notebookPython, ['-m', 'arena_infer.features', dataset, table, out], { env: { ...process.env, PYTHONPATH: dataset, PYTHONDONTWRITEBYTECODE: '1' } });
    // Every ingested sample row (training and test), as a WSDM test file.
    const ingested = path.join(scratch, 'ingested-rows.parquet');
    await withDuckDB((c) => c.run(`COPY (SELECT id, prompt, response_a, response_b FROM read_parquet('${path.join(result.stages['ingest']!.dir, 'ingested.parquet')}')) TO '${ingested}' (FORMAT parquet)`));
    python(ingested, path.join(scratch, 'py-train.parquet'));
    const train = await featureDifference(path.join(result.stages['features']!.dir, 'features.parquet'), path.join(scratch, 'py-train.parquet'), columns);
    python(testFile, path.join(scratch, 'py-test.parquet'));
    const test = await featureDifference(path.join(result.stages['features']!.dir, 'test_features.parquet'), path.join(scratch, 'py-test.parquet'), columns);
    // The multilingual fixtures, through the features stage's own code.
    const fixtures = path.join(scratch, 'multilingual.parquet');
    await writeWsdmTest(fixtures, MULTILINGUAL_ROWS.map(({ id, prompt, response_a, response_b }) => ({ id, prompt, response_a, response_b })));
    await buildFeatures({ inputs: [{ table: fixtures, output: path.join(scratch, 'ts-multilingual.parquet') }], similarity: true, sentiment: true, featureColumnsFile: path.join(scratch, 'fc.json'), threads: 1 });
    python(fixtures, path.join(scratch, 'py-multilingual.parquet'));
    const multilingual = await featureDifference(path.join(scratch, 'ts-multilingual.parquet'), path.join(scratch, 'py-multilingual.parquet'), columns);
    console.log(`# feature parity (max |pipeline - python| over ${columns.length} columns): sample train ${train.rows} rows ${train.maxAbs}, test ${test.rows} rows ${test.maxAbs}, multilingual ${multilingual.rows} rows ${multilingual.maxAbs}`);
    for (const d of [train, test, multilingual]) assert.ok(d.maxAbs <= 1e-12, d.worst);
    // The language-driven columns vary on the sample, so their equality is not two constant columns.
    const [varied] = await withDuckDB((c) => queryRows(c, `SELECT count(DISTINCT response_a_in_prompt_language) AS language, count(DISTINCT response_a_sentiment_scored) AS scored, count(DISTINCT response_a_script_cyrillic > 0) AS cyrillic FROM read_parquet('${path.join(scratch, 'py-train.parquet')}')`));
    assert.deepEqual([varied!['language'], varied!['scored'], varied!['cyrillic']].map(Number), [2, 2, 2]);
    // The sample's non-tie rows, the 64 test rows, the 5 fixtures: every one compared.
    assert.deepEqual([train.rows > 600, test.rows, multilingual.rows], [true, 64, MULTILINGUAL_ROWS.length]);
  });

  it('the notebook, run headless in a venv of only its requirements, writes the submission the pipeline submitted', async () => {
    const notebook = path.join(result.stages['package']!.dir, 'notebook', 'inference.ipynb');
    const started = Date.now();
    execFileSync(notebookPython, ['-m', 'nbconvert', '--to', 'notebook', '--execute', notebook, '--output-dir', scratch, '--ExecutePreprocessor.timeout=600'], {
      env: { ...process.env, ARENA_KAGGLE_INPUT: input, ARENA_KAGGLE_WORKING: working, PYTHONPATH: '' },
      stdio: 'pipe',
    });
    const seconds = (Date.now() - started) / 1000;
    const read = (file: string) => new Map(readFileSync(file, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',') as [string, string]));
    const notebookWinners = read(path.join(working, 'submission.csv'));
    const pipelineWinners = read(path.join(result.stages['submit']!.dir, 'submission.csv'));
    assert.equal(notebookWinners.size, 64);
    assert.deepEqual(notebookWinners, pipelineWinners);
    // p(model_a) of the pipeline's own inference (the exported model, with swap-TTA) on the same rows.
    const ours = await predict({ modelDir: result.stages['train']!.dir, table: path.join(result.stages['features']!.dir, 'test_features.parquet'), batchSize: 16, tta: true, featureColumnsFile: path.join(result.stages['features']!.dir, 'feature_columns.json') });
    const combined = combineSwapTta(ours.pA, ours.pASwapped!);
    const pipelineP = new Map(ours.ids.map((id, i) => [id, combined[i]!]));
    const notebookP = await rowsById(path.join(working, 'arena-infer-work', 'predictions.parquet'), ['p_a']);
    const maxAbs = Math.max(...[...pipelineP].map(([id, p]) => Math.abs(p - notebookP.get(id)![0]!)));
    console.log(`# notebook: ${notebookWinners.size} rows in ${seconds.toFixed(1)} s on CPU; max |p_a pipeline - notebook| ${maxAbs}`);
    assert.ok(maxAbs < 1e-4, `max |p_a difference| ${maxAbs}`);
  });

  /** A copy of the package with `edit` applied, run by arena_infer: its exit status and stderr. */
  function runEdited(name: string, edit: (dataset: string) => void): { status: number | null; stderr: string } {
    const dataset = path.join(scratch, name);
    cpSync(path.join(result.stages['package']!.dir, 'dataset'), dataset, { recursive: true });
    edit(dataset);
    const run = spawnSync(notebookPython, ['-m', 'arena_infer', '--package', dataset, '--basemodel', path.join(models, 'gemma2-tiny'), '--test', testFile, '--out', path.join(scratch, `${name}.csv`), '--work', path.join(scratch, `${name}-work`)], {
      env: { ...process.env, PYTHONPATH: dataset, PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
    });
    assert.equal(existsSync(path.join(scratch, `${name}.csv`)), false, 'no submission from a refused package');
    assert.equal(existsSync(path.join(scratch, `${name}-work`)), false, 'refused before any work');
    return { status: run.status, stderr: run.stderr };
  }

  it('refuses a package whose weights were changed, before inference', () => {
    const { status, stderr } = runEdited('tampered', (dataset) => {
      const file = path.join(dataset, 'model', 'weights.safetensors');
      const bytes = readFileSync(file);
      bytes[bytes.length - 1] ^= 1;
      writeFileSync(file, bytes);
    });
    const manifest = JSON.parse(readFileSync(path.join(result.stages['package']!.dir, 'dataset', 'manifest.json'), 'utf8'));
    assert.equal(status, 2);
    assert.match(stderr, new RegExp(`^arena_infer: model/weights\\.safetensors: sha256 [0-9a-f]{64} differs from ${manifest.files['model/weights.safetensors'].sha256} in manifest\\.json: the file was changed after \`arena package\` wrote it; refusing to predict\\n$`));
  });

  it('refuses a package whose feature_columns.json does not match the features, before inference', () => {
    const { status, stderr } = runEdited('mismatched', (dataset) => {
      const file = path.join(dataset, 'model', 'feature_columns.json');
      const parsed = JSON.parse(readFileSync(file, 'utf8'));
      parsed.columns = parsed.columns.slice(1);
      writeFileSync(file, JSON.stringify(parsed));
      // A consistent manifest: only the columns disagree.
      const manifestFile = path.join(dataset, 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
      const bytes = readFileSync(file);
      manifest.files['model/feature_columns.json'] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
      writeFileSync(manifestFile, JSON.stringify(manifest));
    });
    const columns = (JSON.parse(readFileSync(path.join(result.stages['features']!.dir, 'feature_columns.json'), 'utf8')).columns as { name: string }[]).map((c) => c.name);
    assert.equal(status, 2);
    assert.equal(stderr, `arena_infer: model/feature_columns.json: ${columns.length - 1} columns do not match the ${columns.length} of model/shape.json: column 1 is '${columns[1]}' there but '${columns[0]}' in model/shape.json; refusing to predict\n`);
  });
});
