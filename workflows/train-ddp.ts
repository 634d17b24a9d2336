import type { StageResult } from '../lib/stage';
import type { RoundsRun } from './rounds-run';

/**
 * `trainer.parallel: ddp`: one train activity runs every epoch on one pod, the trainer launched
 * over `trainer.gpus` processes that all-reduce gradients every step, so there is nothing to merge
 * and no rounds; a retry resumes from its last checkpoint like a shard's. Then the export.
 */
export async function runDdpTrainStage({ stage, steps, config, upstream, call, progress, reportMetric }: RoundsRun): Promise<StageResult> {
  const processes = config.trainer.gpus;
  progress.total = 2;
  progress.detail = `DDP over ${processes} process(es), epochs 0-${config.trainer.epochs - 1}`;
  const trained = await call(
    steps.shard,
    `${stage.name}/ddp`,
    { ...stage.params, shard: { index: 0, count: 1 }, round: { index: 0, epoch_start: 0, epoch_end: config.trainer.epochs } },
    upstream,
  );
  const validAccuracy = (trained.summary['last_metrics'] as { valid_accuracy?: unknown } | null | undefined)?.valid_accuracy;
  if (typeof validAccuracy === 'number') reportMetric('DDP validation accuracy', validAccuracy);
  progress.detail = 'exporting the model';
  const exported = await call(steps.export, `${stage.name}/export`, {}, { ...upstream, model: trained });
  progress.detail = `DDP over ${processes} process(es)`;
  return { ...exported, stage: stage.name };
}
