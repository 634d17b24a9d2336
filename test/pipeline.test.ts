import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../lib/config/load';
import { loadPipeline } from '../lib/pipeline/load';

const dir = mkdtempSync(path.join(os.tmpdir(), 'arena-pipeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const micro = loadConfig('micro');

function write(name: string, text: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('pipeline validation', () => {
  it('loads train-pipeline in dependency order with defaults applied', () => {
    const pipeline = loadPipeline('train-pipeline', micro);
    assert.deepEqual(
      pipeline.stages.map((s) => s.name),
      ['ingest', 'features', 'augment', 'split', 'train', 'evaluate', 'submit', 'package'],
    );
    const train = pipeline.stages.find((s) => s.name === 'train')!;
    assert.equal(train.queue, 'gpu');
    assert.equal(train.heartbeatTimeout, '15s');
    // Every stage heartbeats every 2 s while it works: a lost worker is noticed within 15 s anywhere.
    for (const stage of pipeline.stages) assert.equal(stage.heartbeatTimeout, '15s', stage.name);
    assert.equal(train.retry.system_attempts, 10);
    assert.equal(train.retry.initial_interval, '1s');
    assert.deepEqual(train.retry.non_retryable, ['UserInputError', 'ConfigError', 'PipelineError']);
  });

  it('names file and line of an unknown activity and an unknown dependency', () => {
    const file = write('typos', 'stages:\n  - name: a\n    activity: ingset\n  - name: b\n    activity: features\n    needs: [a, c]\n');
    assert.throws(() => loadPipeline('typos', micro, dir), {
      name: 'PipelineError',
      message: `invalid pipeline 'typos':\n${file}:3: stages[0].activity: unknown activity 'ingset' (known: ingest, features, augment, split, evaluate, submit, package, folds, fold_split, oof, soft_labels, ensemble)\n${file}:6: stages[1].needs[1]: unknown stage 'c'`,
    });
  });

  it('names a dependency cycle', () => {
    const file = write('cycle', 'stages:\n  - name: a\n    activity: ingest\n    needs: [c]\n  - name: b\n    activity: features\n    needs: [a]\n  - name: c\n    activity: augment\n    needs: [b]\n');
    assert.throws(() => loadPipeline('cycle', micro, dir), {
      message: `invalid pipeline 'cycle':\n${file}:4: stages[0].needs: dependency cycle a -> b -> c -> a`,
    });
  });

  it('names a duplicate stage', () => {
    const file = write('dup', 'stages:\n  - name: a\n    activity: ingest\n  - name: a\n    activity: features\n');
    assert.throws(() => loadPipeline('dup', micro, dir), {
      message: `invalid pipeline 'dup':\n${file}:4: stages[1].name: duplicate stage 'a' (first at stages[0])`,
    });
  });

  it('names a bad duration and an unknown key', () => {
    const file = write('durations', 'stages:\n  - name: a\n    activity: ingest\n    heartbeat_timeout: 10 seconds\n    retries: 3\n');
    assert.throws(() => loadPipeline('durations', micro, dir), {
      message: `invalid pipeline 'durations':\n${file}:4: stages[0].heartbeat_timeout: expected a duration such as '500ms', '30s', '5m', '2h' or '1d'\n${file}:5: stages[0].retries: Unrecognized key: "retries"`,
    });
  });

  it('rejects a pipeline name that is not a file name', () => {
    assert.throws(() => loadPipeline('../etc', micro, dir), { message: "no pipeline '../etc': names are lower-case letters, digits and '-'" });
  });
});

describe('fan-out (foreach)', () => {
  const fanOut = [
    'stages:',
    '  - name: data',
    '    activity: split',
    '  - name: fold_data',
    '    activity: split',
    '    foreach:',
    '      fold: { range: distill.folds }',
    '    needs: [data]',
    '  - name: teacher',
    '    rounds: { shard: trainShard, merge: mergeShards, export: exportModel }',
    '    foreach:',
    '      fold: { range: distill.folds }',
    '    params: { role: teacher }',
    '    needs:',
    '      - fold_data[fold]',
    '      - data',
    '  - name: oof',
    '    activity: evaluate',
    // In a flow list YAML reads '[' as a nested list: a selector there is quoted.
    '    needs: [teacher, "fold_data[fold=1]"]',
    '',
  ].join('\n');

  it('expands each instance with its own id and params, and needs by group, instance and own value', () => {
    write('fan-out', fanOut);
    const pipeline = loadPipeline('fan-out', micro, dir);
    assert.deepEqual(
      pipeline.stages.map((s) => [s.name, s.needs]),
      [
        ['data', []],
        ['fold_data[fold=0]', ['data']],
        ['fold_data[fold=1]', ['data']],
        ['fold_data[fold=2]', ['data']],
        ['teacher[fold=0]', ['fold_data[fold=0]', 'data']],
        ['teacher[fold=1]', ['fold_data[fold=1]', 'data']],
        ['teacher[fold=2]', ['fold_data[fold=2]', 'data']],
        ['oof', ['teacher[fold=0]', 'teacher[fold=1]', 'teacher[fold=2]', 'fold_data[fold=1]']],
      ],
    );
    const teacher = pipeline.stages.find((s) => s.name === 'teacher[fold=2]')!;
    assert.deepEqual(teacher.params, { role: 'teacher', fold: 2 });
    assert.deepEqual(teacher.rounds, { shard: 'trainShard', merge: 'mergeShards', export: 'exportModel' });
    assert.equal(teacher.activity, undefined);
    assert.equal(teacher.queue, 'gpu', 'a composite runs where its steps are registered');
    // The range follows the config: 5 folds, 5 instances.
    const five = loadPipeline('fan-out', { ...micro, distill: { ...micro.distill, folds: 5 } }, dir);
    assert.equal(five.stages.filter((s) => s.name.startsWith('teacher[')).length, 5);
  });

  it('labels list items by value or name, and crosses several variables', () => {
    write('grid', 'stages:\n  - name: point\n    activity: split\n    foreach:\n      teacher: { in: distill.teachers }\n      seed: { in: [7, 8] }\n');
    const config = { ...micro, distill: { ...micro.distill, teachers: [{ name: 'oof', weight: 1 }, { name: 'qwen', file: 'q.csv', weight: 2 }] } };
    const pipeline = loadPipeline('grid', config, dir);
    assert.deepEqual(pipeline.stages.map((s) => s.name), ['point[teacher=oof,seed=7]', 'point[teacher=oof,seed=8]', 'point[teacher=qwen,seed=7]', 'point[teacher=qwen,seed=8]']);
    assert.deepEqual(pipeline.stages[3]!.params, { teacher: { name: 'qwen', file: 'q.csv', weight: 2 }, seed: 8 });
  });

  it('names file and line of unknown references: stage, variable, own variable, instance', () => {
    const file = write(
      'refs',
      'stages:\n  - name: a\n    activity: split\n    foreach:\n      fold: { range: 2 }\n  - name: b\n    activity: evaluate\n    needs: ["a[seed]", "a[fold]", c, "a[fold=x"]\n',
    );
    assert.throws(() => loadPipeline('refs', micro, dir), {
      name: 'PipelineError',
      message: [
        `invalid pipeline 'refs':`,
        `${file}:8: stages[1].needs[0]: stage 'a' has no foreach variable 'seed'`,
        `${file}:8: stages[1].needs[1]: 'a[fold]' takes this stage's own 'fold', but stage 'b' has no foreach variable 'fold'`,
        `${file}:8: stages[1].needs[2]: unknown stage 'c'`,
        `${file}:8: stages[1].needs[3]: 'a[fold=x' is not a stage, 'stage[variable]' or 'stage[variable=label]'`,
      ].join('\n'),
    });
    const missing = write('missing', 'stages:\n  - name: a\n    activity: split\n    foreach:\n      fold: { range: 2 }\n  - name: b\n    activity: evaluate\n    needs:\n      - a[fold=2]\n');
    assert.throws(() => loadPipeline('missing', micro, dir), {
      message: `invalid pipeline 'missing':\n${missing}:9: stages[1].needs[0]: 'a[fold=2]' selects no instance of stage 'a' for b (its instances: a[fold=0], a[fold=1])`,
    });
  });

  it('names empty lists, unset config values and clashing instance names', () => {
    const file = write(
      'empty',
      'stages:\n  - name: a\n    activity: split\n    foreach:\n      x: { in: [] }\n  - name: b\n    activity: split\n    foreach:\n      fold: { range: distill.fold }\n',
    );
    assert.throws(() => loadPipeline('empty', micro, dir), {
      message: `invalid pipeline 'empty':\n${file}:5: stages[0].foreach.x.in: an empty list has no instances`,
    });
    const unset = write('unset', 'stages:\n  - name: b\n    activity: split\n    foreach:\n      fold: { range: distill.fold }\n      t: { in: data.train }\n');
    assert.throws(() => loadPipeline('unset', micro, dir), {
      message: [
        `invalid pipeline 'unset':`,
        `${unset}:5: stages[0].foreach.fold.range: config key distill.fold is not set, expected a positive integer`,
        `${unset}:6: stages[0].foreach.t.in: config key data.train is "auto", expected a non-empty list`,
      ].join('\n'),
    });
    const clash = write('clash', 'stages:\n  - name: a\n    activity: split\n    foreach:\n      seed: { in: [1, "1"] }\n      who: { in: [{ name: "x/y" }] }\n');
    assert.throws(() => loadPipeline('clash', micro, dir), {
      message: [
        `invalid pipeline 'clash':`,
        `${clash}:5: stages[0].foreach.seed.in: items 0 and 1 share the label '1': instance ids must differ`,
        `${clash}:6: stages[0].foreach.who.in: value {"name":"x/y"} cannot label an instance: a label is letters, digits, '_', '.' and '-' (give an object a name)`,
      ].join('\n'),
    });
  });

  it('refuses activity: train with the composite to declare, a stage with both or neither, a hidden param', () => {
    const file = write(
      'composite',
      'stages:\n  - name: a\n    activity: train\n  - name: b\n    activity: split\n    rounds: { shard: trainShard, merge: mergeShards, export: exportModel }\n  - name: c\n    activity: split\n    params: { fold: 1 }\n    foreach:\n      fold: { range: 2 }\n  - name: d\n    rounds: { shard: trainShard, merge: mergeShards, export: exportModel }\n    queue: main\n',
    );
    assert.throws(() => loadPipeline('composite', micro, dir), {
      message: [
        `invalid pipeline 'composite':`,
        `${file}:3: stages[0].activity: 'train' is a composite: declare it as rounds: { shard: trainShard, merge: mergeShards, export: exportModel }`,
        `${file}:4: stages[1]: set exactly one of activity (one activity) and rounds (the train composite)`,
        `${file}:11: stages[2].foreach.fold: variable 'fold' would hide params.fold`,
        `${file}:14: stages[3].queue: a rounds composite runs on the gpu queue, where its steps are registered`,
      ].join('\n'),
    });
  });
});
