import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UserInputError } from '../lib/errors';
import { listFiles } from '../lib/store/hash';
import { objectStoreFromEnv, parseStoreUrl, type ObjectStore } from '../lib/store/object-store';
import { S3ObjectStore } from '../lib/store/s3-object-store';
import { startS3Server, type S3TestServer } from './helpers/s3-server';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('ARENA_STORE_URL', () => {
  test('no store when the variable is unset or blank', () => {
    assert.equal(objectStoreFromEnv({}), undefined);
    assert.equal(objectStoreFromEnv({ ARENA_STORE_URL: '  ' }), undefined);
  });

  test('bucket and prefix are read from s3://bucket/prefix', () => {
    assert.deepEqual(parseStoreUrl('s3://my-bucket/runs/team.a/'), { bucket: 'my-bucket', prefix: 'runs/team.a' });
    assert.deepEqual(parseStoreUrl('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
  });

  test('a malformed URL is refused with a message naming the variable and the URL', () => {
    for (const url of ['my-bucket/runs', 'http://my-bucket/runs', 's3://', 's3://My_Bucket/runs', 's3://my-bucket//runs', 's3://my-bucket/a/../b', 's3://my-bucket/runs?v=1']) {
      assert.throws(
        () => objectStoreFromEnv({ ARENA_STORE_URL: url }),
        (error: Error) => error instanceof UserInputError && error.message.includes('ARENA_STORE_URL') && error.message.includes(JSON.stringify(url)),
        url,
      );
    }
  });

  test('credentials written into the URL or the endpoint are refused without being echoed', () => {
    const url = 's3://AKIAEXAMPLEKEYID:wJalrXUtnFEMIexamplesecret@my-bucket/runs';
    assert.throws(() => objectStoreFromEnv({ ARENA_STORE_URL: url }), (error: Error) => {
      assert.ok(error instanceof UserInputError && error.message.includes('ARENA_STORE_URL'));
      assert.ok(!error.message.includes('AKIAEXAMPLEKEYID') && !error.message.includes('wJalrXUtnFEMIexamplesecret'), error.message);
      return true;
    });
    assert.throws(
      () => objectStoreFromEnv({ ARENA_STORE_URL: 's3://my-bucket', AWS_ENDPOINT_URL_S3: 'http://user:wJalrXUtnFEMIexamplesecret@127.0.0.1:9000' }),
      (error: Error) => error.message.includes('AWS_ENDPOINT_URL_S3') && !error.message.includes('wJalrXUtnFEMIexamplesecret'),
    );
  });
});

describe('S3 object store against a real S3-compatible server', () => {
  let server: S3TestServer;
  let store: ObjectStore;
  let tmp: string;

  before(async () => {
    server = await startS3Server();
    store = objectStoreFromEnv(server.env('runs/main'))!;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'arena-'));
  });

  after(async () => {
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const scratch = (name: string) => {
    const dir = path.join(tmp, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  test('the description names bucket, prefix and endpoint, and no credential', () => {
    assert.equal(store.description, `s3://${server.bucket}/runs/main at ${server.endpoint}`);
    assert.ok(!store.description.includes(server.accessKeyId) && !store.description.includes(server.secretAccessKey));
  });

  test('files round-trip byte for byte: binary, empty, 20 MB in parts, a non-Latin key', async () => {
    const dir = scratch('files');
    const sources: Record<string, Buffer> = {
      'bin/all-bytes.bin': Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      'bin/empty.bin': Buffer.alloc(0),
      'bin/large.bin': randomBytes(20 * 1024 * 1024),
      'текст/回答 b.txt': Buffer.from('Привет, 世界\n'),
    };
    for (const [key, content] of Object.entries(sources)) {
      const file = path.join(dir, 'src', key.replace(/\//g, '_'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      await store.putFile(key, file);
      const copy = path.join(dir, 'copy', key);
      assert.equal(await store.getFile(key, copy), true, key);
      assert.equal(sha256(copy), createHash('sha256').update(content).digest('hex'), key);
      assert.equal(readFileSync(copy).length, content.length, key);
    }
    assert.deepEqual(readdirSync(path.join(dir, 'copy', 'bin')).sort(), ['all-bytes.bin', 'empty.bin', 'large.bin']);
    // A multipart ETag ends in -<parts>: the large file went up in parts, not as one buffer.
    const client = new S3Client({ region: server.region, endpoint: server.endpoint, forcePathStyle: true, credentials: server });
    const head = await client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: 'runs/main/bin/large.bin' }));
    client.destroy();
    assert.match(head.ETag ?? '', /-3"$/);
  });

  test('getFile of a missing key returns false and leaves no file behind', async () => {
    const dir = scratch('missing');
    assert.equal(await store.getFile('no/such/key.bin', path.join(dir, 'out', 'key.bin')), false);
    assert.deepEqual(readdirSync(dir), []);
  });

  test('exists tells a key from a missing one and from a longer or shorter key', async () => {
    const file = path.join(scratch('exists'), 'x.txt');
    writeFileSync(file, 'x');
    await store.putFile('exists/abc', file);
    assert.equal(await store.exists('exists/abc'), true);
    assert.equal(await store.exists('exists/ab'), false);
    assert.equal(await store.exists('exists/abcd'), false);
  });

  test('folders round-trip with nested paths, and a missing folder downloads nothing', async () => {
    const src = scratch('dir-src');
    const files: Record<string, string | Buffer> = {
      'manifest.json': '{"files":{}}',
      'model/weights.bin': randomBytes(300_000),
      'model/deep/er/still.txt': 'nested',
      'logs/empty.log': '',
    };
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
      writeFileSync(path.join(src, rel), content);
    }
    await store.putDir('stages/train/key1', src);
    assert.deepEqual(await store.list('stages/train/key1'), Object.keys(files).map((rel) => `stages/train/key1/${rel}`).sort());
    // A folder prefix, not a string prefix: key1 is not under key.
    assert.deepEqual(await store.list('stages/train/key'), []);

    const dest = path.join(tmp, 'dir-dest', 'key1');
    assert.equal(await store.getDir('stages/train/key1', dest), true);
    assert.deepEqual(listFiles(dest), Object.keys(files).sort());
    for (const rel of Object.keys(files)) assert.equal(sha256(path.join(dest, rel)), sha256(path.join(src, rel)), rel);
    assert.deepEqual(readdirSync(path.dirname(dest)), ['key1'], 'no temporary folder is left beside it');

    const none = path.join(tmp, 'dir-dest', 'none');
    assert.equal(await store.getDir('stages/train/none', none), false);
    assert.equal(existsSync(none), false);
    await assert.rejects(store.getDir('stages/train/key1', dest), /already has files/);
  });

  test('getDir refuses a listed key that would climb out of the folder', async () => {
    const client = new S3Client({ region: server.region, endpoint: server.endpoint, forcePathStyle: true, credentials: server });
    await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'runs/main/climb/a/../../../escaped.txt', Body: 'x' }));
    client.destroy();
    const dest = path.join(tmp, 'climb', 'out');
    await assert.rejects(store.getDir('climb', dest), /not a safe path/);
    assert.equal(existsSync(path.join(tmp, 'climb')), false, 'refused before anything is written');
    assert.equal(existsSync(path.join(tmp, 'escaped.txt')), false);
  });

  test('list follows continuation tokens across pages', async () => {
    const src = scratch('paged');
    const names = Array.from({ length: 23 }, (_, i) => `f${String(i).padStart(2, '0')}.txt`);
    for (const name of names) writeFileSync(path.join(src, name), name);
    const paged = new S3ObjectStore({
      bucket: server.bucket,
      prefix: 'runs/paged',
      region: server.region,
      endpoint: server.endpoint,
      credentials: server,
      listPageSize: 7,
    });
    await paged.putDir('many', src);
    // The server really pages at this size, so a list that ignored the token would come up short.
    const client = new S3Client({ region: server.region, endpoint: server.endpoint, forcePathStyle: true, credentials: server });
    const firstPage = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'runs/paged/many/', MaxKeys: 7 }));
    client.destroy();
    assert.equal(firstPage.IsTruncated, true);
    assert.equal(firstPage.Contents?.length, 7);
    assert.deepEqual(await paged.list('many'), names.map((name) => `many/${name}`));
  });

  test('stores under different prefixes of one bucket do not see each other', async () => {
    const other = objectStoreFromEnv(server.env('runs/other'))!;
    const file = path.join(scratch('isolated'), 'x.txt');
    writeFileSync(file, 'other');
    await other.putFile('only-here.txt', file);
    assert.deepEqual(await other.list(''), ['only-here.txt']);
    assert.equal(await store.exists('only-here.txt'), false);
  });

  test('a wrong secret, an unknown key id or a missing bucket fail with errors that carry no credential', async () => {
    const file = path.join(scratch('denied'), 'x.txt');
    writeFileSync(file, 'x');
    const wrongSecret = 'wrongSecretwJalrXUtnFEMIK7MDENGbPxRfiCY';
    const unknownKeyId = 'AKIAUNKNOWNKEY123456';
    const cases: { env: NodeJS.ProcessEnv; code: string }[] = [
      { env: { ...server.env('runs/main'), AWS_SECRET_ACCESS_KEY: wrongSecret }, code: 'SignatureDoesNotMatch' },
      { env: { ...server.env('runs/main'), AWS_ACCESS_KEY_ID: unknownKeyId }, code: 'InvalidAccessKeyId' },
      { env: { ...server.env('runs/main'), ARENA_STORE_URL: 's3://no-such-bucket/runs' }, code: 'NoSuchBucket' },
    ];
    const credentials = [server.accessKeyId, server.secretAccessKey, wrongSecret, unknownKeyId];
    for (const { env, code } of cases) {
      const denied = objectStoreFromEnv(env)!;
      const attempts: [string, () => Promise<unknown>][] = [
        ['putFile', () => denied.putFile('x.txt', file)],
        ['getFile', () => denied.getFile('x.txt', path.join(tmp, 'denied', 'copy.txt'))],
        ['exists', () => denied.exists('x.txt')],
        ['list', () => denied.list('')],
      ];
      for (const [operation, attempt] of attempts) {
        await assert.rejects(attempt, (error: Error) => {
          assert.ok(error instanceof UserInputError, `${code} ${operation}: ${error.name}`);
          assert.ok(error.message.includes(code), error.message);
          const everything = `${error.message}\n${error.stack}\n${inspect(error, { depth: 10 })}\n${denied.description}`;
          for (const credential of credentials) assert.ok(!everything.includes(credential), `${code} ${operation} leaks a credential: ${everything}`);
          return true;
        });
      }
      assert.equal(existsSync(path.join(tmp, 'denied', 'copy.txt')), false);
    }
  });
});
