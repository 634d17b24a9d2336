import { UserInputError } from '../errors';
import { S3ObjectStore } from './s3-object-store';

/**
 * A remote copy of the run store, so that a shard retried on another machine finds the outputs and
 * checkpoints of the one that died. Keys are '/'-separated paths relative to the store's root.
 */
export interface ObjectStore {
  /** Where it points, for logs: never contains credentials. */
  readonly description: string;
  putFile(key: string, file: string): Promise<void>;
  /** Downloads to `file` atomically (temp name + rename); false when the key does not exist. */
  getFile(key: string, file: string): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  /** Every key under the folder `prefix` ('a/b' holds 'a/b/c', not 'a/bc'), all pages, sorted; '' lists the whole store. */
  list(prefix: string): Promise<string[]>;
  /** Uploads every file under a local folder to prefix/<relative path>, with bounded concurrency. */
  putDir(prefix: string, dir: string): Promise<void>;
  /**
   * Downloads every key under the folder `prefix` into `dir`, which must not exist or be empty; the
   * folder appears by rename once every file is in. False when there is no such key.
   */
  getDir(prefix: string, dir: string): Promise<boolean>;
  /** Deletes the keys, in order (a completion marker given first is gone before the files it vouches for); a missing key is no error. */
  deleteKeys(keys: readonly string[]): Promise<void>;
}

export const STORE_URL_VARIABLE = 'ARENA_STORE_URL';

export interface StoreLocation {
  bucket: string;
  /** Without leading or trailing '/'; '' for the bucket's root. */
  prefix: string;
}

/** Parses `s3://bucket/optional/prefix`. */
export function parseStoreUrl(url: string): StoreLocation {
  // A URL with user:password@ would be echoed into logs by the error below, so it is refused unseen.
  if (url.includes('@')) {
    throw new UserInputError(`${STORE_URL_VARIABLE} must not contain credentials or '@'; give them as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or a profile) instead`);
  }
  const bad = (why: string) => new UserInputError(`${STORE_URL_VARIABLE}=${JSON.stringify(url)} is not a valid store URL (${why}); expected s3://bucket/optional/prefix`);
  const match = /^s3:\/\/([^/?#]*)(?:\/([^?#]*))?$/.exec(url);
  if (!match) throw bad(url.startsWith('s3://') ? 'no query or fragment allowed' : 'it must start with s3://');
  const [, bucket, rawPrefix = ''] = match;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw bad(`bucket name ${JSON.stringify(bucket)} must be 3-63 characters of a-z, 0-9, '.' and '-'`);
  const prefix = rawPrefix.replace(/\/+$/, '');
  if (prefix !== '' && prefix.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw bad(`prefix ${JSON.stringify(prefix)} has an empty, '.' or '..' path segment`);
  }
  return { bucket, prefix };
}

/**
 * The remote store named by ARENA_STORE_URL, or undefined when it is unset. Credentials come only
 * from the environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when set in
 * `env`, otherwise the AWS SDK's default chain (profiles, SSO, container and instance roles).
 * AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL points it at MinIO, R2 and the like.
 */
export function objectStoreFromEnv(env: NodeJS.ProcessEnv = process.env): ObjectStore | undefined {
  const url = env[STORE_URL_VARIABLE]?.trim();
  if (!url) return undefined;
  const location = parseStoreUrl(url);
  const endpointVariable = env.AWS_ENDPOINT_URL_S3 ? 'AWS_ENDPOINT_URL_S3' : env.AWS_ENDPOINT_URL ? 'AWS_ENDPOINT_URL' : undefined;
  const endpoint = endpointVariable ? env[endpointVariable]!.trim() : undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/@\s]+(\/\S*)?$/.test(endpoint)) {
    throw new UserInputError(`${endpointVariable} must be an http(s) URL without credentials, like http://127.0.0.1:9000`);
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return new S3ObjectStore({
    ...location,
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined } : undefined,
  });
}
