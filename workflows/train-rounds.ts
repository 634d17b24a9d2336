import type { Json, StageResult } from '../lib/stage';
import { roundMetrics, selectionText, selectRound } from './round-selection';
import type { RoundMetrics } from '../lib/round-selection';
import type { RoundsRun } from './rounds-run';
import { runDdpTrainStage } from './train-ddp';

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
 * after every round a merge combines their checkpoints (the GPU trainer's LoRA adapters exactly,
 * everything else averaged; its residual is collected per round), and the next round starts every
 * shard from it (the handoff), at the place in its data order where it stopped. A round is
 * `round_epochs` epochs, or with `round_steps` K optimizer steps (see `runStepRounds`). A crashed
 * shard retries from its own last checkpoint while the others go on; a round only ever merges
 * checkpoints of that round. Every round's merged model (with one shard, its checkpoint) is
 * validated; the best round by `trainer.select_metric` is exported, not necessarily the last.
 */
export async function runTrainStage(run: RoundsRun): Promise<StageResult> {
  const { stage, steps, config, upstream, call, progress, reportMetric } = run;
  // Histories from before trainer.parallel carry configs without it: shards.
  if (config.trainer.parallel === 'ddp') return runDdpTrainStage(run);
  if (config.trainer.round_steps !== undefined) return runStepRounds(run, config.trainer.round_steps);
  const shards = config.trainer.gpus;
  const roundEpochs = config.trainer.round_epochs ?? 1;
  const rounds = Math.ceil(config.trainer.epochs / roundEpochs);
  progress.total = rounds * shards + (shards > 1 ? rounds : 0) + 1;
  let roundStart: StageResult | undefined;
  const residuals: RoundResidual[] = [];
  const validated: RoundMetrics[] = [];
  const results: StageResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const epochStart = round * roundEpochs;
    const epochEnd = Math.min(config.trainer.epochs, epochStart + roundEpochs);
    progress.detail = `round ${round + 1}/${rounds}, ${shards} shard(s), epochs ${epochStart}-${epochEnd - 1}${residualText(residuals)}`;
    const init: Record<string, StageResult> = roundStart ? { init: roundStart } : {};
    const trained = await Promise.all(
      Array.from({ length: shards }, (_, index) =>
        call(
          steps.shard,
          `${stage.name}/round-${round}/shard-${index}`,
          { ...stage.params, shard: { index, count: shards }, round: { index: round, epoch_start: epochStart, epoch_end: epochEnd } },
          { ...upstream, ...init },
        ),
      ),
    );
    roundStart =
      shards === 1
        ? trained[0]!
        : await call(steps.merge, `${stage.name}/round-${round}/merge`, { round }, { ...upstream, ...Object.fromEntries(trained.map((r, k) => [`shard-${k}`, r])) });
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
  return exportBestRound(run, results, validated, residuals, `${rounds} round(s) of ${shards} shard(s)`);
}

/**
 * Exports the best validated round (`trainer.select_metric`). Histories from before rounds were
 * validated carry no metrics, and neither does a lone shard's mid-epoch round: unless every round
 * was validated, the last round is exported, as before.
 */
async function exportBestRound(
  { stage, steps, config, upstream, call, progress }: RoundsRun,
  results: StageResult[],
  validated: RoundMetrics[],
  residuals: RoundResidual[],
  done: string,
): Promise<StageResult> {
  const selection = validated.length === results.length ? selectRound(validated, config.trainer.select_metric) : undefined;
  const model = selection ? results[selection.exported_round - 1]! : results.at(-1)!;
  progress.detail = selection ? `exporting the model: ${selectionText(selection)}` : 'exporting the model';
  const exported = await call(steps.export, `${stage.name}/export`, selection ? { selection } : {}, { ...upstream, model });
  progress.detail = `${done}${selection ? `; ${selectionText(selection)}` : ''}${residualText(residuals)}`;
  const summary = { ...exported.summary };
  if (selection) {
    summary['exported'] = selectionText(selection);
    summary['selection'] = { ...selection, rounds: selection.rounds.map((r) => ({ ...r })) };
  }
  if (residuals.length > 0) summary['merge_residuals'] = residuals.map((r) => ({ ...r }));
  return { ...exported, stage: stage.name, summary };
}

/**
 * Rounds of `roundSteps` optimizer steps (local SGD). Each shard trains K steps a round (until its step
 * count, which a merge carries over, reaches (round + 1) * K, so a retried shard resumed mid-round
 * stops at the same step) from the data position and RNG stream it stopped at, over all
 * `trainer.epochs`, and says when its epochs are done
 * (`finished` in its summary); the rounds go on until every shard has finished or the merged model
 * stops early. Shards hold different row counts (pairs are sharded by a hash), so their step totals
 * differ by a few steps; rather than predict them here (the workflow never sees the rows), a
 * finished shard sits out later rounds and the merge averages the shards still training, which is
 * local SGD over the shards that have data. The number of rounds is known only as they run, so
 * progress counts the next round as the last.
 */
async function runStepRounds(run: RoundsRun, roundSteps: number): Promise<StageResult> {
  const { stage, steps, config, upstream, call, progress } = run;
  const shards = config.trainer.gpus;
  let active = Array.from({ length: shards }, (_, index) => index);
  let roundStart: StageResult | undefined;
  const residuals: RoundResidual[] = [];
  const validated: RoundMetrics[] = [];
  const results: StageResult[] = [];
  let calls = 0;
  let round = 0;
  for (; active.length > 0; round++) {
    const merging = active.length > 1;
    progress.total = calls + active.length + (merging ? 1 : 0) + 1;
    progress.detail = `round ${round + 1}, ${active.length} of ${shards} shard(s), ${roundSteps} step(s) a round${residualText(residuals)}`;
    const init: Record<string, StageResult> = roundStart ? { init: roundStart } : {};
    const trained = await Promise.all(
      active.map((index) =>
        call(
          steps.shard,
          `${stage.name}/round-${round}/shard-${index}`,
          { ...stage.params, shard: { index, count: shards }, round: { index: round, epoch_start: 0, epoch_end: config.trainer.epochs, step_end: (round + 1) * roundSteps } },
          { ...upstream, ...init },
        ),
      ),
    );
    roundStart = merging
      ? await call(steps.merge, `${stage.name}/round-${round}/merge`, { round }, { ...upstream, ...Object.fromEntries(trained.map((r, k) => [`shard-${active[k]}`, r])) })
      : trained[0]!;
    calls += active.length + (merging ? 1 : 0);
    results.push(roundStart);
    // A lone shard validates at epoch ends only: its metrics describe this round's checkpoint once it has finished.
    const metrics = merging || trained[0]!.summary['finished'] === true ? roundMetrics(roundStart.summary, round + 1) : undefined;
    if (metrics) validated.push(metrics);
    const residual = mergeResidual(roundStart.summary, round + 1);
    if (residual) residuals.push(residual);
    if (roundStart.summary['stopped_early'] === true) {
      round++;
      break;
    }
    active = active.filter((_, k) => trained[k]!.summary['finished'] !== true);
  }
  return exportBestRound(run, results, validated, residuals, `${round} round(s) of ${roundSteps} step(s), ${shards} shard(s)`);
}
