import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { augmentStage } from '../activities/augment/stage';
import { explainStage } from '../cli/explain';
import { loadPipeline } from '../lib/pipeline/load';
import { evaluateStage } from '../activities/evaluate/stage';
import { featuresStage } from '../activities/features/stage';
import { ingestStage } from '../activities/ingest/stage';
import { splitStage } from '../activities/split/stage';
import { submitStage } from '../activities/submit/stage';
import { runStage } from '../activities/stage-runner';
import { DevicePool } from '../activities/train/device-pool';
import { exportModelStage, mergeShardsStage, trainShardStage } from '../activities/train/stage';
import { loadConfig } from '../lib/config/load';
import type { RunConfig } from '../lib/config/schema';
import { defineStage, type StageDefinition } from '../lib/stage';
import { contractOf } from '../lib/stage-contract/code-contract';
import { moduleClosure, type ModuleClosure } from '../lib/stage-contract/module-closure';
import { sourceOf } from '../lib/stage-contract/source-of';
import { configSlice, stageCodeSet } from '../lib/stage-contract/stage-code';
import { RunStore } from '../lib/store/run-store';
import { removeDir, tempDir } from './helpers/temporal';
import { loadTrainerRegistry } from '../lib/trainer-registry';

/** The built-in trainers, as a worker without ARENA_TRAINERS has them. */
const TRAINERS = loadTrainerRegistry({});

const REPO_ROOT = path.resolve(__dirname, '..');

const STAGES: Record<string, StageDefinition> = {
  ingest: ingestStage,
  features: featuresStage,
  augment: augmentStage,
  split: splitStage,
  trainShard: trainShardStage(new DevicePool(1)),
  mergeShards: mergeShardsStage,
  exportModel: exportModelStage,
  evaluate: evaluateStage,
  submit: submitStage,
};

/** The configs whose code sets differ: the CPU trainer, and the GPU trainer with the trainer engine for scoring. */
const CONFIGS: Record<string, RunConfig> = {
  cpu: loadConfig('micro'),
  gpu: loadConfig('gemma2_tiny_cpu', { overrides: { evaluate: { engine: 'trainer' }, submit: { engine: 'trainer' } } }),
};

interface CodeSet {
  name: string;
  closure: ModuleClosure;
  files: string[];
}

/** A copy of the tracked files of the repo (node_modules linked), where files can be changed freely. */
function copyRepo(): string {
  const root = tempDir('contract-repo');
  for (const file of execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter(Boolean)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    cpSync(path.join(REPO_ROOT, file), path.join(root, file));
  }
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  return root;
}

/** Runs `fn` while `file` (in `root`) has one more byte, then restores it. */
function withChanged<T>(root: string, file: string, fn: () => T): T {
  const abs = path.join(root, file);
  const original = readFileSync(abs);
  appendFileSync(abs, '\n');
  try {
    return fn();
  } finally {
    writeFileSync(abs, original);
  }
}

describe('stage code versions are derived from the code', () => {
  let root: string;
  let sets: CodeSet[];
  const version = (root: string, set: CodeSet) => contractOf(root, set.closure, set.files).version;

  before(() => {
    root = copyRepo();
    sets = [];
    for (const [configName, config] of Object.entries(CONFIGS)) {
      for (const [stage, def] of Object.entries(STAGES)) {
        const code = stageCodeSet(def, config, root, TRAINERS);
        sets.push({ name: `${stage} (${configName})`, closure: moduleClosure(root, code.entries), files: code.files });
      }
    }
  });

  after(() => removeDir(root));

  it('changes the code version of exactly the stages whose closure holds a changed file', () => {
    const base = new Map(sets.map((s) => [s.name, version(root, s)]));
    const allFiles = [...new Set(sets.flatMap((s) => [...s.closure.files, ...s.files]))].sort();
    for (const file of allFiles) {
      withChanged(root, file, () => {
        for (const set of sets) {
          const inClosure = set.closure.files.includes(file) || set.files.includes(file);
          assert.equal(version(root, set) !== base.get(set.name), inClosure, `${file} ${inClosure ? 'must' : 'must not'} change the code version of ${set.name}`);
        }
      });
    }
    // Every stage's own files, its SQL and the trainers' code are in: spot checks of the closures themselves.
    const filesOf = (name: string) => new Set([...sets.find((s) => s.name === name)!.closure.files, ...sets.find((s) => s.name === name)!.files]);
    for (const file of ['activities/ingest/read-csv.sql', 'lib/data-files.ts', 'lib/duckdb.ts']) assert.ok(filesOf('ingest (cpu)').has(file), `ingest: ${file}`);
    for (const file of ['activities/features/python-char-classes.json', 'activities/features/text-measure-worker.ts', 'activities/features/sentiment.sql']) {
      assert.ok(filesOf('features (cpu)').has(file), `features: ${file}`);
    }
    // The language-ID addon is built from its sources: they key both stages that label languages.
    for (const stage of ['ingest (cpu)', 'features (cpu)']) for (const file of ['native/cld2/cld2_polyglot.cc', 'native/cld2/binding.gyp']) assert.ok(filesOf(stage).has(file), `${stage}: ${file}`);
    for (const file of ['lib/feature-columns.ts', 'activities/augment/augment.sql']) assert.ok(filesOf('augment (cpu)').has(file), `augment: ${file}`);
    assert.ok(filesOf('trainShard (cpu)').has('trainers/cpu/read-split.sql'));
    assert.ok(filesOf('trainShard (gpu)').has('trainers/gpu/arena_trainer/train.py'));
    assert.ok(filesOf('evaluate (gpu)').has('trainers/gpu/requirements.txt'));
    assert.ok(!filesOf('evaluate (cpu)').has('trainers/cpu/main.ts'), 'the onnx engine runs no trainer');
    assert.ok(![...filesOf('trainShard (gpu)')].some((f) => f.startsWith('trainers/gpu/tests/')), 'trainer tests are not trainer code');
    console.log(`# ${allFiles.length} files changed one at a time across ${sets.length} stage code sets`);
  });

  it('changes no key for files outside every closure: docs, tests, benches, configs', () => {
    const base = sets.map((s) => version(root, s));
    for (const file of ['README.md', 'docs/trainer-protocol.md', 'test/workflow.test.ts', 'trainers/gpu/tests/test_train.py', 'bench/train.ts', 'cli/arena.ts']) {
      withChanged(root, file, () => assert.deepEqual(sets.map((s) => version(root, s)), base, file));
    }
  });

  it('changes the code version when a locked package version changes', () => {
    const lockFile = path.join(root, 'package-lock.json');
    const original = readFileSync(lockFile, 'utf8');
    const lock = JSON.parse(original);
    const before = sets.map((s) => version(root, s));
    lock.packages['node_modules/@duckdb/node-api'].version = '0.0.0-test';
    writeFileSync(lockFile, JSON.stringify(lock));
    try {
      sets.forEach((set, i) => assert.equal(version(root, set) !== before[i], set.closure.packages.includes('@duckdb/node-api'), set.name));
      assert.ok(sets.find((s) => s.name === 'augment (cpu)')!.closure.packages.includes('@duckdb/node-api'));
    } finally {
      writeFileSync(lockFile, original);
    }
  });

  it('gives augment and the stages after it that apply the swap rule a new code version when the negate rule changes', () => {
    const file = path.join(root, 'lib/feature-columns.ts');
    const original = readFileSync(file, 'utf8');
    // Freshly derived, closures included, as a new worker process would.
    const versions = () => Object.fromEntries(sets.filter((s) => s.name.endsWith('(cpu)')).map((s) => [s.name, contractOf(root, moduleClosure(root, stageCodeSet(STAGES[s.name.split(' ')[0]!]!, CONFIGS['cpu']!, root, TRAINERS).entries)).version]));
    const before = versions();
    const edited = original.replace("if (swap === 'negate') return `-${name}`;", "if (swap === 'negate') return `(0 - ${name})`;");
    assert.notEqual(edited, original, 'the negate rule is where this test expects it');
    writeFileSync(file, edited);
    try {
      const after = versions();
      const changed = Object.keys(before).filter((name) => before[name] !== after[name]).sort();
      // Every stage whose closure holds lib/feature-columns.ts: features writes feature_columns.json
      // through it, augment and the scoring stages apply the rule, the CPU trainer reads the file
      // through it. split is not among them: its key moves through its input's hash instead.
      assert.deepEqual(changed, ['augment (cpu)', 'evaluate (cpu)', 'exportModel (cpu)', 'features (cpu)', 'mergeShards (cpu)', 'submit (cpu)', 'trainShard (cpu)']);
    } finally {
      writeFileSync(file, original);
    }
  });

  it("types and hands a stage only the config sections it declares", () => {
    const stage = defineStage({
      activity: 'probe',
      source: sourceOf(__filename),
      config: ['augment'],
      outputs: [],
      async run(ctx) {
        // @ts-expect-error: trainer is not among the sections this stage declares
        void ctx.config.trainer;
        return { mode: ctx.config.augment.mode };
      },
    });
    assert.deepEqual(Object.keys(configSlice(stage, CONFIGS['cpu']!)), ['augment']);
    assert.deepEqual(Object.keys(configSlice(evaluateStage, CONFIGS['cpu']!)).sort(), ['augment', 'evaluate', 'model', 'seed', 'trainer']);
  });
});

describe('arena explain', () => {
  it('explains every stage of train-pipeline: code files, packages, config slice, inputs', async () => {
    const pipeline = loadPipeline('train-pipeline', CONFIGS['cpu']!);
    for (const stage of pipeline.stages) {
      const text = await explainStage(pipeline, CONFIGS['cpu']!, stage.name, REPO_ROOT);
      assert.match(text, new RegExp(`^stage ${stage.name} of train-pipeline, config micro`));
      assert.match(text, /code version [0-9a-f]{16}: \d+ files/);
      assert.match(text, /config slice \(/);
      assert.match(text, /inputs: the content hashes of the outputs of /);
    }
    const augment = await explainStage(pipeline, CONFIGS['cpu']!, 'augment', REPO_ROOT);
    assert.match(augment, /[0-9a-f]{12} {2}lib\/feature-columns\.ts/);
    assert.match(augment, /@duckdb\/node-api \d/);
    assert.doesNotMatch(augment, /trainer:/);
    const train = await explainStage(pipeline, CONFIGS['cpu']!, 'train', REPO_ROOT);
    for (const step of ['trainShard', 'mergeShards', 'exportModel']) assert.match(train, new RegExp(`\\n${step} \\(sub-step of train\\)`));
    assert.match(train, /trainers\/cpu\/main\.ts/);
    await assert.rejects(explainStage(pipeline, CONFIGS['cpu']!, 'nope', REPO_ROOT), {
      message: 'no stage \'nope\' in pipeline train-pipeline; its stages: ingest, features, augment, split, train, evaluate, submit, package',
    });
  });
});

describe('declared outputs', () => {
  const store = new RunStore(tempDir('declared-store'));
  after(() => removeDir(store.root));
  const hooks = { heartbeat: () => undefined, signal: new AbortController().signal, preempted: new AbortController().signal, log: () => undefined };
  const probe = (outputs: string[], write: (ctx: { outDir: string; logDir: string }) => void) =>
    defineStage({
      activity: 'probe',
      source: augmentStage.source,
      config: ['augment'],
      outputs,
      async run(ctx) {
        write(ctx);
        return {};
      },
    });
  const request = (stageId: string) => ({ stageId, params: {}, config: CONFIGS['cpu']!, upstream: {}, cache: false });

  it('hashes and hands on only the declared outputs; logs stay in logs/ beside them', async () => {
    const stage = probe(['table.parquet', 'checkpoint/', 'extra.bin?'], (ctx) => {
      writeFileSync(path.join(ctx.outDir, 'table.parquet'), 'rows');
      mkdirSync(path.join(ctx.outDir, 'checkpoint'));
      writeFileSync(path.join(ctx.outDir, 'checkpoint', 'tensors.bin'), 'weights');
      writeFileSync(path.join(ctx.logDir, 'trainer.log'), `took ${Math.random()} s`);
    });
    const first = await runStage(stage, request('declared'), { store, repoRoot: REPO_ROOT, trainers: TRAINERS }, hooks);
    assert.deepEqual(Object.keys(first.files).sort(), ['checkpoint/tensors.bin', 'table.parquet']);
    assert.ok(readFileSync(path.join(first.dir, 'logs', 'trainer.log'), 'utf8').startsWith('took '));
  });

  it('fails a stage that writes an undeclared output, naming it, and commits nothing', async () => {
    const stage = probe(['table.parquet'], (ctx) => {
      writeFileSync(path.join(ctx.outDir, 'table.parquet'), 'rows');
      writeFileSync(path.join(ctx.outDir, 'stray.json'), '{}');
    });
    await assert.rejects(runStage(stage, request('undeclared'), { store, repoRoot: REPO_ROOT, trainers: TRAINERS }, hooks), (err: Error) => {
      assert.match(err.message, /^undeclared: wrote 'stray\.json', not among its declared outputs \(table\.parquet\); logs and diagnostics belong in .*\/logs$/);
      return true;
    });
    assert.ok(!existsSync(path.join(store.root, 'stages', 'undeclared')) || readdirSync(path.join(store.root, 'stages', 'undeclared')).length === 0);
  });

  it('fails a stage whose declared output is missing at commit, naming it', async () => {
    const stage = probe(['table.parquet', 'checkpoint/'], (ctx) => writeFileSync(path.join(ctx.outDir, 'table.parquet'), 'rows'));
    await assert.rejects(runStage(stage, request('missing'), { store, repoRoot: REPO_ROOT, trainers: TRAINERS }, hooks), { message: "missing: declared output 'checkpoint/' missing at commit" });
  });
});
