import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dataSchema, runConfigSchema } from '../lib/config/schema';
import { resolveDataFiles } from '../lib/data-files';
import { dataRoots } from '../lib/data-roots';
import { UserInputError } from '../lib/errors';
import { ingestStage } from '../activities/ingest/stage';

/** Issue 9 row 2: a run names files only inside the worker's data roots; row 7: literal paths. */

let repo: string;
let outside: string;
let env: NodeJS.ProcessEnv;
let roots: string;
before(() => {
  // A project folder with data/raw, an operator's extra root, and a folder outside both.
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'arena-roots-')));
  repo = path.join(tmp, 'repo');
  fs.mkdirSync(path.join(repo, 'data', 'raw', 'lmsys'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'data', 'raw', 'lmsys', 'train.csv'), 'x\n');
  fs.writeFileSync(path.join(repo, 'data', 'raw', 'lmsys', 'test.csv'), 'x\n');
  fs.mkdirSync(path.join(tmp, 'kaggle'));
  fs.writeFileSync(path.join(tmp, 'kaggle', 'train.parquet'), 'x');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, '.env'), 'AWS_SECRET_ACCESS_KEY=abc\n');
  fs.symlinkSync(path.join(outside, '.env'), path.join(repo, 'data', 'raw', 'lmsys', 'link.csv'));
  env = { ARENA_DATA_ROOTS: path.join(tmp, 'kaggle') };
  roots = `${path.join(repo, 'data', 'raw')}, ${path.join(tmp, 'kaggle')}`;
});
after(() => fs.rmSync(path.dirname(repo), { recursive: true, force: true }));

const data = (value: object) => dataSchema.parse(value);

function rejects(config: object, message: string): void {
  assert.throws(() => resolveDataFiles(data(config), repo, env), (error: unknown) => {
    assert.ok(error instanceof UserInputError, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

const outsideMessage = (key: string, file: string) =>
  `${key}: '${file}' is outside the worker's data roots (${roots}); an operator can add a folder with ARENA_DATA_ROOTS on the worker`;

describe('data roots', () => {
  test('the roots are data/raw, ARENA_DATA_DIR and each ARENA_DATA_ROOTS entry', () => {
    assert.deepEqual(dataRoots(repo, { ARENA_DATA_DIR: 'elsewhere', ARENA_DATA_ROOTS: `/a${path.delimiter}${path.delimiter}/b/c` }), [
      path.join(repo, 'data', 'raw'),
      path.join(repo, 'elsewhere'),
      '/a',
      '/b/c',
    ]);
  });

  test('relative paths resolve under data.dir; files inside the roots are accepted', () => {
    const files = resolveDataFiles(data({ train: [{ format: 'lmsys', path: 'lmsys/train.csv' }, { format: 'wsdm', path: path.join(path.dirname(env['ARENA_DATA_ROOTS']!), 'kaggle', 'train.parquet') }], test: 'auto' }), repo, env);
    assert.deepEqual(files.train.map((s) => s.path), [path.join(repo, 'data', 'raw', 'lmsys', 'train.csv'), path.join(env['ARENA_DATA_ROOTS']!, 'train.parquet')]);
    assert.equal(files.test?.path, path.join(repo, 'data', 'raw', 'lmsys', 'test.csv'));
  });

  test('a train, test or data.dir path outside the roots is refused, naming the key', () => {
    rejects({ train: [{ format: 'lmsys', path: 'lmsys/train.csv' }, { format: 'lmsys', path: '/etc/passwd' }] }, outsideMessage('data.train[1].path', '/etc/passwd'));
    rejects({ test: { format: 'lmsys', path: '../../../outside/.env' } }, outsideMessage('data.test.path', path.join(outside, '.env')));
    rejects({ dir: '/etc' }, outsideMessage('data.dir', '/etc'));
    // A file that does not exist is refused the same way: the error does not tell what exists outside.
    rejects({ train: [{ format: 'lmsys', path: '/etc/no-such-file' }] }, outsideMessage('data.train[0].path', '/etc/no-such-file'));
  });

  test('a symlink inside a root that leads outside is refused', () => {
    rejects({ train: [{ format: 'lmsys', path: 'lmsys/link.csv' }] }, outsideMessage('data.train[0].path', path.join(repo, 'data', 'raw', 'lmsys', 'link.csv')));
  });

  test('row 7: a glob character in a path is refused, naming the key', () => {
    rejects(
      { train: [{ format: 'lmsys', path: 'data/t*.csv' }] },
      `data.train[0].path: '${path.join(repo, 'data', 'raw', 'data', 't*.csv')}' holds the glob character '*'; data paths are literal file names`,
    );
    for (const glob of ['?', '[', '{']) {
      rejects({ test: { format: 'lmsys', path: `lmsys/t${glob}.csv` } }, `data.test.path: '${path.join(repo, 'data', 'raw', 'lmsys', `t${glob}.csv`)}' holds the glob character '${glob}'; data paths are literal file names`);
    }
  });

  test('the ingest stage refuses before it hashes a file for its cache key', () => {
    const config = runConfigSchema.parse({ name: 'x', data: { train: [{ format: 'lmsys', path: '/etc/passwd' }] } });
    const before = process.env['ARENA_DATA_ROOTS'];
    process.env['ARENA_DATA_ROOTS'] = env['ARENA_DATA_ROOTS'];
    try {
      assert.throws(() => ingestStage.externalInputs!(config, repo), { name: 'UserInputError', message: outsideMessage('data.train[0].path', '/etc/passwd') });
    } finally {
      if (before === undefined) delete process.env['ARENA_DATA_ROOTS'];
      else process.env['ARENA_DATA_ROOTS'] = before;
    }
  });
});
