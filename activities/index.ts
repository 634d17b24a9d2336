import { resolveRun, type ResolveDirs, type ResolveRunInput } from './resolve-run';
import { stageDefinitions } from './stage-definitions';
import type { StageEnvironment } from './stage-runner';
import { temporalStage } from './temporal-stage';
import type { DevicePool } from './train/device-pool';

export interface ActivityEnvironment extends StageEnvironment, ResolveDirs {
  devices: DevicePool;
}

/** The worker's activities: each stage's plain function bound to the run store and to Temporal. */
export function createActivities(env: ActivityEnvironment) {
  const stages = stageDefinitions(env.devices);
  return {
    resolveRun: async (input: ResolveRunInput) => resolveRun(input, env),
    ingest: temporalStage(stages.ingest, env),
    features: temporalStage(stages.features, env),
    augment: temporalStage(stages.augment, env),
    split: temporalStage(stages.split, env),
    trainShard: temporalStage(stages.trainShard, env),
    mergeShards: temporalStage(stages.mergeShards, env),
    exportModel: temporalStage(stages.exportModel, env),
    evaluate: temporalStage(stages.evaluate, env),
    submit: temporalStage(stages.submit, env),
    package: temporalStage(stages.package, env),
    folds: temporalStage(stages.folds, env),
    fold_split: temporalStage(stages.fold_split, env),
    oof: temporalStage(stages.oof, env),
    soft_labels: temporalStage(stages.soft_labels, env),
    ensemble: temporalStage(stages.ensemble, env),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Activities a GPU worker serves: only the train sub-steps, which run on the `<queue>-gpu` task queue. */
export const GPU_ACTIVITIES = ['trainShard', 'mergeShards', 'exportModel'] as const satisfies readonly (keyof Activities)[];
