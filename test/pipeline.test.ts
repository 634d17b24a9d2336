import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadPipeline } from '../lib/pipeline/load';

const dir = mkdtempSync(path.join(os.tmpdir(), 'arena-pipeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('pipeline validation', () => {
  it('loads train-pipeline in dependency order with defaults applied', () => {
    const pipeline = loadPipeline('train-pipeline');
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
    assert.throws(() => loadPipeline('typos', dir), {
      name: 'PipelineError',
      message: `invalid pipeline 'typos':\n${file}:3: stages[0].activity: unknown activity 'ingset' (known: ingest, features, augment, split, train, evaluate, submit, package)\n${file}:6: stages[1].needs[1]: unknown stage 'c'`,
    });
  });

  it('names a dependency cycle', () => {
    const file = write('cycle', 'stages:\n  - name: a\n    activity: ingest\n    needs: [c]\n  - name: b\n    activity: features\n    needs: [a]\n  - name: c\n    activity: augment\n    needs: [b]\n');
    assert.throws(() => loadPipeline('cycle', dir), {
      message: `invalid pipeline 'cycle':\n${file}:4: stages[0].needs: dependency cycle a -> b -> c -> a`,
    });
  });

  it('names a duplicate stage', () => {
    const file = write('dup', 'stages:\n  - name: a\n    activity: ingest\n  - name: a\n    activity: features\n');
    assert.throws(() => loadPipeline('dup', dir), {
      message: `invalid pipeline 'dup':\n${file}:4: stages[1].name: duplicate stage 'a' (first at stages[0])`,
    });
  });

  it('names a bad duration and an unknown key', () => {
    const file = write('durations', 'stages:\n  - name: a\n    activity: ingest\n    heartbeat_timeout: 10 seconds\n    retries: 3\n');
    assert.throws(() => loadPipeline('durations', dir), {
      message: `invalid pipeline 'durations':\n${file}:4: stages[0].heartbeat_timeout: expected a duration such as '500ms', '30s', '5m', '2h' or '1d'\n${file}:5: stages[0].retries: Unrecognized key: "retries"`,
    });
  });

  it('rejects a pipeline name that is not a file name', () => {
    assert.throws(() => loadPipeline('../etc', dir), { message: "no pipeline '../etc': names are lower-case letters, digits and '-'" });
  });
});
