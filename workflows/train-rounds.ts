import type { RunConfig } from '../lib/config/schema';
import type { ResolvedStage } from '../lib/pipeline/schema';
import type { StageProgress } from '../lib/run-types';
import type { Json, StageResult } from '../lib/stage';
import { roundMetrics, selectionText, selectRound } from './round-selection';
import type { RoundMetrics } from '../lib/round-selection';
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
 * checkpoint while the others go on; a round only ever merges checkpoints of that round. Every
 * round's merged model (with one shard, its checkpoint) is validated; the best round by
 * `trainer.select_metric` is exported, not necessarily the last.
 */
export async function runTrainStage(
  stage: ResolvedStage,
  config: RunConfig,
  upstream: Record<string, StageResult>,
  call: StageCall,
  progress: StageProgress,
  reportMetric: (name: string, value: number) => void,
): Promise<StageResult> {
  const shards = config.trainer.gpus;
  const rounds = Math.ceil(config.trainer.epochs / config.trainer.round_epochs);
  progress.total = rounds * shards + (shards > 1 ? rounds : 0) + 1;
  let roundStart: StageResult | undefined;
  const residuals: RoundResidual[] = [];
  const validated: RoundMetrics[] = [];
  const results: StageResult[] = [];
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
        : await call('mergeShards', `${stage.name}/round-${round}/merge`, { round }, { ...upstream, ...Object.fromEntries(trained.map((r, k) => [`shard-${k}`, r])) });
    results.push(roundStart);
    const metrics = roundMetrics(roundStart.summary, round + 1);
    if (metrics) validated.push(metrics);
    const residual = mergeResidual(roundStart.summary, round + 1);
    if (residual) residuals.push(residual);
    const validAccuracy = (trained[0]!.summary['last_metrics'] as { valid_accuracy?: unknown } | null | undefined)?.valid_accuracy;
    if (typeof validAccuracy === 'number') reportMetric(`shard 0 validation accuracy after round ${round + 1}`, validAccuracy);
    if (roundStart.summary['stopped_early'] === true) {
      progress.total -= (rounds - round - 1) * (shards + (shards > 1 ? 1 : 0));
      break;
    }
  }
  // Histories from before rounds were validated carry no metrics: the last round is exported, as then.
  const selection = validated.length === results.length ? selectRound(validated, config.trainer.select_metric) : undefined;
  const model = selection ? results[selection.exported_round - 1]! : roundStart!;
  progress.detail = selection ? `exporting the model: ${selectionText(selection)}` : 'exporting the model';
  const exported = await call('exportModel', `${stage.name}/export`, selection ? { selection } : {}, { ...upstream, model });
  progress.detail = `${rounds} round(s) of ${shards} shard(s)${selection ? `; ${selectionText(selection)}` : ''}${residualText(residuals)}`;
  const summary = { ...exported.summary };
  if (selection) {
    summary['exported'] = selectionText(selection);
    summary['selection'] = { ...selection, rounds: selection.rounds.map((r) => ({ ...r })) };
  }
  if (residuals.length > 0) summary['merge_residuals'] = residuals.map((r) => ({ ...r }));
  return { ...exported, stage: stage.name, summary };
}
