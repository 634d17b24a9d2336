import type { StageDefinition } from '../lib/stage';
import { augmentStage } from './augment/stage';
import { ensembleStage } from './ensemble/stage';
import { evaluateStage } from './evaluate/stage';
import { featuresStage } from './features/stage';
import { foldSplitStage } from './fold-split/stage';
import { foldsStage } from './folds/stage';
import { ingestStage } from './ingest/stage';
import { oofStage } from './oof/stage';
import { packageStage } from './package/stage';
import { softLabelsStage } from './soft-labels/stage';
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
    folds: foldsStage,
    fold_split: foldSplitStage,
    oof: oofStage,
    soft_labels: softLabelsStage,
    ensemble: ensembleStage,
  } satisfies Record<string, StageDefinition>;
}
