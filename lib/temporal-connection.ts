import { Connection, type ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

/** Default task queue of the pipeline workflows; the train shards use `<queue>-gpu`. */
export const DEFAULT_TASK_QUEUE = 'arena';

/**
 * Connection settings from the standard Temporal environment variables and profiles
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, TEMPORAL_PROFILE), via envconfig.
 * With none set: the local dev server on localhost:7233, namespace `default`.
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env) {
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  return {
    connectionOptions: { ...connectionOptions, address: connectionOptions.address ?? 'localhost:7233' },
    namespace: namespace ?? 'default',
    taskQueue: env['ARENA_TASK_QUEUE'] || DEFAULT_TASK_QUEUE,
  };
}

export async function connectClient(env: NodeJS.ProcessEnv = process.env): Promise<{ connection: Connection; namespace: string; taskQueue: string }> {
  const settings = temporalSettings(env);
  const connection = await Connection.connect(settings.connectionOptions as ConnectionOptions);
  return { connection, namespace: settings.namespace, taskQueue: settings.taskQueue };
}

export async function connectWorker(env: NodeJS.ProcessEnv = process.env): Promise<{ connection: NativeConnection; namespace: string; taskQueue: string }> {
  const settings = temporalSettings(env);
  const connection = await NativeConnection.connect(settings.connectionOptions);
  return { connection, namespace: settings.namespace, taskQueue: settings.taskQueue };
}
