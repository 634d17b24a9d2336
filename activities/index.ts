import { augmentStage } from './augment/stage';
import { evaluateStage } from './evaluate/stage';
import { featuresStage } from './features/stage';
import { ingestStage } from './ingest/stage';
import { resolveRun, type ResolveDirs, type ResolveRunInput } from './resolve-run';
import { splitStage } from './split/stage';
import type { StageEnvironment } from './stage-runner';
import { submitStage } from './submit/stage';
import { temporalStage } from './temporal-stage';
import type { DevicePool } from './train/device-pool';
import { exportModelStage, mergeShardsStage, trainShardStage } from './train/stage';

export interface ActivityEnvironment extends StageEnvironment, ResolveDirs {
  devices: DevicePool;
}

/** The worker's activities: each stage's plain function bound to the run store and to Temporal. */
export function createActivities(env: ActivityEnvironment) {
  return {
    resolveRun: async (input: ResolveRunInput) => resolveRun(input, env),
    ingest: temporalStage(ingestStage, env),
    features: temporalStage(featuresStage, env),
    augment: temporalStage(augmentStage, env),
    split: temporalStage(splitStage, env),
    trainShard: temporalStage(trainShardStage(env.devices), env),
    mergeShards: temporalStage(mergeShardsStage, env),
    exportModel: temporalStage(exportModelStage, env),
    evaluate: temporalStage(evaluateStage, env),
    submit: temporalStage(submitStage, env),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Activities a GPU worker serves: only the train sub-steps, which run on the `<queue>-gpu` task queue. */
export const GPU_ACTIVITIES = ['trainShard', 'mergeShards', 'exportModel'] as const satisfies readonly (keyof Activities)[];
