import type { StageDefinition } from '../lib/stage';
import { augmentStage } from './augment/stage';
import { evaluateStage } from './evaluate/stage';
import { featuresStage } from './features/stage';
import { ingestStage } from './ingest/stage';
import { packageStage } from './package/stage';
import { splitStage } from './split/stage';
import { submitStage } from './submit/stage';
import type { DevicePool } from './train/device-pool';
import { exportModelStage, mergeShardsStage, trainShardStage } from './train/stage';

/** Every stage definition by activity name: what the worker binds and what `arena explain` reads. */
export function stageDefinitions(devices: DevicePool) {
  return {
    ingest: ingestStage,
    features: featuresStage,
    augment: augmentStage,
    split: splitStage,
    trainShard: trainShardStage(devices),
    mergeShards: mergeShardsStage,
    exportModel: exportModelStage,
    evaluate: evaluateStage,
    submit: submitStage,
    package: packageStage,
  } satisfies Record<string, StageDefinition>;
}
