import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { UserInputError } from '../errors';
import { checkStoreKey } from './store-key';
import { listFiles } from './hash';
import type { ObjectStore } from './object-store';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Root of this store inside the bucket, without leading or trailing '/'; '' for the bucket's root. */
  prefix: string;
  region: string;
  /** An S3-compatible server (MinIO, R2, ...): addressed path-style, as most of them need. */
  endpoint?: string;
  /** Undefined: the AWS SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Files in flight at once in putDir / getDir. */
  concurrency?: number;
  /** Keys per ListObjectsV2 page; the server's own limit (1000 on AWS) when unset. */
  listPageSize?: number;
}

// Multipart parts are buffered whole, so one upload holds at most PART_BYTES * PARTS_IN_FLIGHT.
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
const DEFAULT_CONCURRENCY = 4;

/** Errors that the same request with the same configuration will hit again: not worth a retry. */
const CONFIGURATION_ERRORS = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'InvalidBucketName',
  'InvalidToken',
  'NoSuchBucket',
  'SignatureDoesNotMatch',
  'CredentialsProviderError',
]);

export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly root: string;
  private readonly concurrency: number;
  private readonly listPageSize: number | undefined;
  /** ' at <endpoint>' for an S3-compatible server, '' for AWS. */
  private readonly where: string;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.root = options.prefix;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.listPageSize = options.listPageSize;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.endpoint !== undefined,
      credentials: options.credentials,
      followRegionRedirects: true,
    });
    this.where = options.endpoint === undefined ? '' : ` at ${withoutUserInfo(options.endpoint)}`;
    this.description = `s3://${this.bucket}${this.root ? `/${this.root}` : ''}${this.where}`;
  }

  async putFile(key: string, file: string): Promise<void> {
    const objectKey = this.objectKey(key);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: createReadStream(file) },
      partSize: PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      throw await this.failure('upload', objectKey, error);
    }
  }

  async getFile(key: string, file: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    let body: Readable;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }))).Body as Readable;
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return false;
      throw await this.failure('download', objectKey, error);
    }
    mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.tmp-${randomUUID()}`;
    try {
      await pipeline(body, createWriteStream(partial));
      renameSync(partial, file);
    } catch (error) {
      rmSync(partial, { force: true });
      throw await this.failure('download', objectKey, error);
    }
    return true;
  }

  // A one-key listing rather than HeadObject: a 404 from HEAD cannot tell a missing key from a missing bucket.
  async exists(key: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    try {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: objectKey, MaxKeys: 1 }));
      return page.Contents?.[0]?.Key === objectKey;
    } catch (error) {
      throw await this.failure('look up', objectKey, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const rootPrefix = this.root ? `${this.root}/` : '';
    const folder = prefix === '' ? rootPrefix : `${this.objectKey(prefix)}/`;
    const keys: string[] = [];
    let continuationToken: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ContinuationToken: continuationToken, MaxKeys: this.listPageSize }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) keys.push(object.Key.slice(rootPrefix.length));
        }
        continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (continuationToken !== undefined);
    } catch (error) {
      throw await this.failure('list', folder, error);
    }
    return keys.sort();
  }

  async putDir(prefix: string, dir: string): Promise<void> {
    await forEachLimited(listFiles(dir), this.concurrency, (rel) => this.putFile(prefix ? `${prefix}/${rel}` : rel, path.join(dir, rel)));
  }

  async getDir(prefix: string, dir: string): Promise<boolean> {
    if (existsSync(dir)) {
      if (readdirSync(dir).length > 0) throw new Error(`getDir: ${dir} already has files; download into a new folder`);
      rmdirSync(dir);
    }
    const base = prefix ? `${prefix}/` : '';
    // Keys ending in '/' are the empty "folder" objects that some consoles create.
    const files = (await this.list(prefix)).filter((key) => !key.endsWith('/')).map((key) => ({ key, rel: safeRelativePath(key, base) }));
    if (files.length === 0) return false;
    mkdirSync(path.dirname(dir), { recursive: true });
    const partial = `${dir}.tmp-${randomUUID()}`;
    try {
      await forEachLimited(files, this.concurrency, async ({ key, rel }) => {
        if (!(await this.getFile(key, path.join(partial, rel)))) throw new Error(`${key} was listed under ${this.description} but vanished before it was downloaded`);
      });
      renameSync(partial, dir);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      // Another worker downloaded the same folder first: its copy is as good as ours.
      if (isRenameOntoFolder(error) && existsSync(dir)) return true;
      throw error;
    }
    return true;
  }

  // One request per key, in order: DeleteObjects batches would not keep the order callers rely on.
  async deleteKeys(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const objectKey = this.objectKey(key);
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      } catch (error) {
        throw await this.failure('delete', objectKey, error);
      }
    }
  }

  private objectKey(key: string): string {
    checkStoreKey(key, 'Object store key');
    return this.root ? `${this.root}/${key}` : key;
  }

  /**
   * An error that names the operation, the object and the server's answer, built only from those:
   * the SDK error itself is not attached, and any credential text is scrubbed from the server's message.
   */
  private async failure(action: string, objectKey: string, error: unknown): Promise<Error> {
    const name = errorName(error) ?? 'Error';
    const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
    const detail = (await this.redact(error instanceof Error ? error.message : String(error))).replace(/\.+$/, '');
    const message = `Could not ${action} s3://${this.bucket}/${objectKey}${this.where}: ${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${detail}`;
    return CONFIGURATION_ERRORS.has(name)
      ? new UserInputError(`${message}. Check ARENA_STORE_URL, the endpoint and the AWS credentials.`)
      : new Error(message);
  }

  private async redact(text: string): Promise<string> {
    let secrets: string[] = [];
    try {
      const credentials = await this.client.config.credentials();
      secrets = [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? ''];
    } catch {
      // No credentials could be loaded, so none can be in the text.
    }
    for (const secret of secrets.filter((s) => s.length >= 4)) text = text.split(secret).join('[redacted]');
    return text;
  }
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function isRenameOntoFolder(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOTEMPTY' || code === 'EEXIST';
}

function withoutUserInfo(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(an endpoint that is not a valid URL)';
  }
}

/** A listed key as a path under the download folder; a key that would climb out of it is refused. */
function safeRelativePath(key: string, base: string): string {
  const rel = key.slice(base.length);
  if (!key.startsWith(base) || rel.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`Object store key ${JSON.stringify(key)} is not a safe path under ${JSON.stringify(base)}`);
  }
  return rel;
}

/** Runs `work` over `items`, `limit` at a time; after a failure starts no more and rethrows it once all in flight have ended. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw firstError;
}
