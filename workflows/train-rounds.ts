import type { RunConfig } from '../lib/config/schema';
import type { ResolvedStage } from '../lib/pipeline/schema';
import type { StageProgress } from '../lib/run-types';
import type { Json, StageResult } from '../lib/stage';
import type { StageCall } from './run-pipeline';

interface RoundResidual {
  round: number;
  max: number;
  mean: number;
}

/** The LoRA merge residual of a merge's summary; absent for trainers (and histories) without one. */
function mergeResidual(summary: { [key: string]: Json }, round: number): RoundResidual | undefined {
  const value = summary['merge_residual'] as { max?: unknown; mean?: unknown } | null | undefined;
  if (typeof value?.max !== 'number' || typeof value.mean !== 'number') return undefined;
  return { round, max: value.max, mean: value.mean };
}

function residualText(residuals: RoundResidual[]): string {
  if (residuals.length === 0) return '';
  return `; LoRA merge residual (max/mean) per round: ${residuals.map((r) => `${r.round}: ${r.max.toFixed(3)}/${r.mean.toFixed(3)}`).join(', ')}`;
}

/**
 * The composite train stage: `trainer.gpus` shards train in parallel, one activity per device;
 * after every `round_epochs` epochs a merge combines their checkpoints (the GPU trainer's LoRA
 * adapters exactly, everything else averaged; its residual is collected per round), and the next
 * round starts every shard from it (the handoff). A crashed shard retries from its own last
 * checkpoint while the others go on; a round only ever merges checkpoints of that round.
 */
export async function runTrainStage(
  stage: ResolvedStage,
  config: RunConfig,
  upstream: Record<string, StageResult>,
  call: StageCall,
  progress: StageProgress,
  reportMetric: (name: string, value: number) => void,
): Promise<StageResult> {
  // Histories from before trainer.parallel carry configs without it: shards.
  if (config.trainer.parallel === 'ddp') return runDdpTrainStage(stage, config, upstream, call, progress, reportMetric);
  const shards = config.trainer.gpus;
  const rounds = Math.ceil(config.trainer.epochs / config.trainer.round_epochs);
  progress.total = rounds * shards + (shards > 1 ? rounds : 0) + 1;
  let roundStart: StageResult | undefined;
  const residuals: RoundResidual[] = [];
  for (let round = 0; round < rounds; round++) {
    const epochStart = round * config.trainer.round_epochs;
    const epochEnd = Math.min(config.trainer.epochs, epochStart + config.trainer.round_epochs);
    progress.detail = `round ${round + 1}/${rounds}, ${shards} shard(s), epochs ${epochStart}-${epochEnd - 1}${residualText(residuals)}`;
    const init: Record<string, StageResult> = roundStart ? { init: roundStart } : {};
    const trained = await Promise.all(
      Array.from({ length: shards }, (_, index) =>
        call(
          'trainShard',
          `${stage.name}/round-${round}/shard-${index}`,
          { ...stage.params, shard: { index, count: shards }, round: { index: round, epoch_start: epochStart, epoch_end: epochEnd } },
          { ...upstream, ...init },
        ),
      ),
    );
    roundStart =
      shards === 1
        ? trained[0]!
        : await call('mergeShards', `${stage.name}/round-${round}/merge`, { round }, Object.fromEntries(trained.map((r, k) => [`shard-${k}`, r])));
    const residual = mergeResidual(roundStart.summary, round + 1);
    if (residual) residuals.push(residual);
    const validAccuracy = (trained[0]!.summary['last_metrics'] as { valid_accuracy?: unknown } | null | undefined)?.valid_accuracy;
    if (typeof validAccuracy === 'number') reportMetric(`shard 0 validation accuracy after round ${round + 1}`, validAccuracy);
    if (roundStart.summary['stopped_early'] === true) {
      progress.total -= (rounds - round - 1) * (shards + (shards > 1 ? 1 : 0));
      break;
    }
  }
  progress.detail = 'exporting the model';
  const exported = await call('exportModel', `${stage.name}/export`, {}, { ...upstream, model: roundStart! });
  progress.detail = `${rounds} round(s) of ${shards} shard(s)${residualText(residuals)}`;
  if (residuals.length === 0) return { ...exported, stage: stage.name };
  return { ...exported, stage: stage.name, summary: { ...exported.summary, merge_residuals: residuals.map((r) => ({ ...r })) } };
}

/**
 * `trainer.parallel: ddp`: one train activity runs every epoch on one pod, the trainer launched
 * over `trainer.gpus` processes that all-reduce gradients every step, so there is nothing to merge
 * and no rounds; a retry resumes from its last checkpoint like a shard's. Then the export.
 */
async function runDdpTrainStage(
  stage: ResolvedStage,
  config: RunConfig,
  upstream: Record<string, StageResult>,
  call: StageCall,
  progress: StageProgress,
  reportMetric: (name: string, value: number) => void,
): Promise<StageResult> {
  const processes = config.trainer.gpus;
  progress.total = 2;
  progress.detail = `DDP over ${processes} process(es), epochs 0-${config.trainer.epochs - 1}`;
  const trained = await call(
    'trainShard',
    `${stage.name}/ddp`,
    { ...stage.params, shard: { index: 0, count: 1 }, round: { index: 0, epoch_start: 0, epoch_end: config.trainer.epochs } },
    upstream,
  );
  const validAccuracy = (trained.summary['last_metrics'] as { valid_accuracy?: unknown } | null | undefined)?.valid_accuracy;
  if (typeof validAccuracy === 'number') reportMetric('DDP validation accuracy', validAccuracy);
  progress.detail = 'exporting the model';
  const exported = await call('exportModel', `${stage.name}/export`, {}, { ...upstream, model: trained });
  progress.detail = `DDP over ${processes} process(es)`;
  return { ...exported, stage: stage.name };
}
