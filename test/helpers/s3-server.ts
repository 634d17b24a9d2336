import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const MOTO_SERVER = path.join(REPO_ROOT, '.venv', 'bin', 'moto_server');
const REGION = 'us-east-1';

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  region: string;
  bucket: string;
  /** An IAM user's key that may do anything in S3; every request must carry its valid signature. */
  accessKeyId: string;
  secretAccessKey: string;
  /** The environment that points objectStoreFromEnv at `s3://<bucket>/<prefix>` on this server. */
  env(prefix: string): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * moto in server mode on a free loopback port, with IAM authentication switched on after setup:
 * from then on it recomputes each request's SigV4 signature from the stored secret and checks the
 * user's policy, so a wrong key or secret is refused as a real S3 would refuse it.
 */
export async function startS3Server(): Promise<S3TestServer> {
  if (!existsSync(MOTO_SERVER)) throw new Error(`${MOTO_SERVER} is missing: run bash scripts/setup.sh`);
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`moto_server did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      // Kept short: werkzeug logs a line per request for as long as the server runs.
      output = (output + chunk.toString()).slice(-4000);
      const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited with ${code}:\n${output}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const endpoint = `http://127.0.0.1:${port}`;
    const user = 'arena-test';
    await iam(endpoint, { Action: 'CreateUser', UserName: user });
    await iam(endpoint, {
      Action: 'PutUserPolicy',
      UserName: user,
      PolicyName: 's3-all',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
    });
    const keyXml = await iam(endpoint, { Action: 'CreateAccessKey', UserName: user });
    const accessKeyId = xmlText(keyXml, 'AccessKeyId');
    const secretAccessKey = xmlText(keyXml, 'SecretAccessKey');
    const authOn = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
    if (!authOn.ok) throw new Error(`moto refused to switch authentication on: HTTP ${authOn.status}`);

    const bucket = 'arena-store-test';
    const client = new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
    return {
      endpoint,
      region: REGION,
      bucket,
      accessKeyId,
      secretAccessKey,
      env: (prefix) => ({
        ARENA_STORE_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * An IAM query-API call, made while authentication is still off. moto routes a request to a service
 * by the credential scope of its Authorization header, so the header names IAM; nothing checks it yet.
 */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=setup/20240101/${REGION}/iam/aws4_request, SignedHeaders=host, Signature=unchecked`,
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`IAM ${params.Action} on moto failed: HTTP ${response.status}: ${text}`);
  return text;
}

function xmlText(xml: string, tag: string): string {
  const match = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml);
  if (!match) throw new Error(`no <${tag}> in moto's answer: ${xml}`);
  return match[1];
}
