import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../../lib/errors';
import { MANIFEST_FILE } from '../../lib/inference/model-manifest';
import { roundSelectionSchema } from '../../lib/round-selection';
import { TRAINER_SECTIONS, type RunConfig } from '../../lib/config/schema';
import { defineStage, type Json, type StageContext, type StageResult } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { isResumePoint, type ResumePoint } from './checkpoints';
import type { DevicePool } from './device-pool';
import { runTrainer, type TrainerEvent } from '../../lib/trainer-process';
import { trainSpecSchema, type TrainerSpec } from '../../lib/trainer-spec';

/** What every train sub-step shares: its code, the trainer's config sections, and the trainer it runs. */
const TRAIN_STAGE = {
  source: sourceOf(__filename),
  config: TRAINER_SECTIONS,
  trainer: (config: Pick<RunConfig, 'trainer'>) => config.trainer.engine,
} as const;

type TrainContext = StageContext<(typeof TRAINER_SECTIONS)[number]>;

/** The worker's resolved argv and environment for the config's trainer. */
function trainerArgv(ctx: Pick<StageContext, 'trainer'>): { command: string[]; passEnv: string[] } {
  const trainer = ctx.trainer();
  return { command: trainer.argv, passEnv: trainer.env };
}

function checkpointOf(result: StageResult | undefined, what: string): string {
  if (!result) throw new UserInputError(`${what}: no upstream checkpoint`);
  const dir = path.join(result.dir, 'checkpoint');
  if (!existsSync(dir)) throw new UserInputError(`${what}: ${result.stage} has no checkpoint folder at ${dir}`);
  return dir;
}

/**
 * Heartbeats every trainer event. A checkpoint is first mirrored to the remote store (if any), then
 * named in the heartbeat details, so a retry on any machine can resume from it; only then are the
 * checkpoints older than the last `trainer.keep_checkpoints` pruned. Merges and exports read the
 * checkpoints of stage outputs, never these, so pruning cannot take one from under them.
 */
function trainerEvents(ctx: TrainContext, summary: { [key: string]: Json }) {
  let published = Promise.resolve();
  const onEvent = (event: TrainerEvent) => {
    if (event.event === 'checkpoint') {
      published = published.then(async () => {
        const ref = await ctx.checkpoints.publish(event.path);
        ctx.heartbeat({ checkpoint: ref, step: event.step } satisfies ResumePoint);
        const pruned = await ctx.checkpoints.prune(ctx.config.trainer.keep_checkpoints);
        if (pruned.length > 0) ctx.log(`pruned checkpoints at steps ${pruned.join(', ')}`);
      });
      // Awaited in settled(); until then a failed upload must not count as an unhandled rejection.
      published.catch(() => undefined);
    } else ctx.heartbeat();
    if (event.event === 'metrics') summary['last_metrics'] = event as unknown as Json;
    if (event.event === 'progress') summary['step'] = event.step;
  };
  return { onEvent, settled: () => published };
}

/** Where a retry resumes: the failed attempt's last reported checkpoint, else the newest one stored. */
async function resumePoint(ctx: TrainContext): Promise<{ dir: string; step: number } | undefined> {
  if (isResumePoint(ctx.resumeFrom)) {
    const dir = await ctx.checkpoints.materialize(ctx.resumeFrom.checkpoint);
    if (dir) return { dir, step: ctx.resumeFrom.step };
  }
  const latest = await ctx.checkpoints.latest();
  const dir = latest && (await ctx.checkpoints.materialize(latest.ref));
  return latest && dir ? { dir, step: latest.step } : undefined;
}

/**
 * The trainer's argv for one train activity and the devices it takes. With `trainer.parallel: ddp`
 * that is the trainer's DDP launcher over `trainer.gpus` processes (from the worker's registry,
 * never the config) holding as many devices; else one device for one shard.
 */
async function trainLaunch(ctx: TrainContext, devices: DevicePool): Promise<{ command: string[]; passEnv: string[]; devices: number[] }> {
  const { command, passEnv } = trainerArgv(ctx);
  if (ctx.config.trainer.parallel !== 'ddp') return { command, passEnv, devices: [await devices.acquire()] };
  const launcher = ctx.trainer().ddp_argv;
  if (!launcher) throw new UserInputError(`trainer.parallel: ddp needs a trainer with a DDP launcher; trainer '${ctx.config.trainer.engine}' has none`);
  const gpus = ctx.config.trainer.gpus;
  return { command: [...launcher, String(gpus)], passEnv, devices: await devices.acquireMany(gpus) };
}

/**
 * One shard's part of one round, on its own device, or (`trainer.parallel: ddp`) the whole run over
 * the pod's devices: resumes from its last checkpoint on a retry.
 */
export function trainShardStage(devices: DevicePool) {
  return defineStage({
    ...TRAIN_STAGE,
    activity: 'trainShard',
    outputs: ['checkpoint/'],
    async run(ctx) {
      const resume = await resumePoint(ctx);
      const summary: { [key: string]: Json } = { resumed_from_step: resume?.step ?? 0 };
      if (resume) ctx.log(`resuming from ${resume.dir} at step ${resume.step}`);
      const events = trainerEvents(ctx, summary);
      const launch = await trainLaunch(ctx, devices);
      const ddp = ctx.config.trainer.parallel === 'ddp';
      try {
        const done = await runTrainer({
          command: launch.command,
          passEnv: launch.passEnv,
          verb: 'train',
          spec: {
            config: ctx.config,
            train_data: ctx.input('train.parquet'),
            valid_data: ctx.input('valid.parquet'),
            feature_columns: ctx.input('feature_columns.json'),
            shard: trainSpecSchema.shape.shard.parse(ctx.params['shard']),
            round: trainSpecSchema.shape.round.parse(ctx.params['round']),
            init_from: ctx.upstream['init'] ? checkpointOf(ctx.upstream['init'], 'round start') : null,
            resume_from: resume?.dir ?? null,
            checkpoint_dir: ctx.checkpointDir,
            output_dir: ctx.outDir,
            device_index: ddp ? null : launch.devices[0]!,
          } satisfies TrainerSpec<'train'>,
          workDir: ctx.logDir,
          cwd: ctx.repoRoot,
          deviceIndex: ddp ? launch.devices : launch.devices[0]!,
          signal: ctx.signal,
          preempt: ctx.preempted,
          onEvent: events.onEvent,
        }).catch(async (err: unknown) => {
          // A pre-empted trainer's last act is a checkpoint: it must be in the heartbeat details
          // that the failure carries, so the next attempt resumes from it.
          await events.settled().catch(() => undefined);
          throw err;
        });
        await events.settled();
        summary['stopped_early'] = done.stopped_early === true;
        // A trainer that does not say has trained every epoch it was given: round_steps rounds end.
        summary['finished'] = done.finished ?? true;
        if (done.valid_metrics) summary['valid_metrics'] = { ...done.valid_metrics };
      } finally {
        for (const device of launch.devices) devices.release(device);
      }
      if (ddp) summary['devices'] = launch.devices;
      else summary['device_index'] = launch.devices[0]!;
      return summary;
    },
  });
}

/**
 * Merges the round's shard checkpoints (upstream `shard-<k>`) into the checkpoint every shard of the
 * next round starts from, and validates the merged model on the split's valid.parquet (its metrics
 * pick the exported round and drive early stopping); a LoRA merge's residual (GPU
 * trainer) goes into the summary, where the workflow shows it per round.
 */
export const mergeShardsStage = defineStage({
  ...TRAIN_STAGE,
  activity: 'mergeShards',
  outputs: ['checkpoint/'],
  async run(ctx) {
    const inputs = Object.keys(ctx.upstream)
      .filter((name) => name.startsWith('shard-'))
      .sort()
      .map((name) => checkpointOf(ctx.upstream[name], `merge of ${name}`));
    const summary: { [key: string]: Json } = { merged: inputs.length };
    const done = await runTrainer({
      ...trainerArgv(ctx),
      verb: 'merge',
      spec: {
        config: ctx.config,
        inputs,
        valid_data: ctx.input('valid.parquet'),
        feature_columns: ctx.input('feature_columns.json'),
        output_dir: ctx.outDir,
      } satisfies TrainerSpec<'merge'>,
      workDir: ctx.logDir,
      cwd: ctx.repoRoot,
      signal: ctx.signal,
      preempt: ctx.preempted,
      onEvent: trainerEvents(ctx, summary).onEvent,
    });
    summary['stopped_early'] = done.stopped_early === true;
    if (done.merge_residual) summary['merge_residual'] = { ...done.merge_residual };
    if (done.valid_metrics) summary['valid_metrics'] = { ...done.valid_metrics };
    return summary;
  },
});

/**
 * Exports the selected round's checkpoint as the ONNX model that evaluation and submission run, and
 * keeps the checkpoint beside it (adapters and head only, small) for the trainer's own predict. The
 * workflow's `selection` param (every round's merged-model validation, and which was exported) goes
 * into model.json for the report: the exported checkpoint's own history ends at its round.
 */
export const exportModelStage = defineStage({
  ...TRAIN_STAGE,
  activity: 'exportModel',
  // The GPU trainer also writes its tokenizer, and the weights beside the graph when they are large.
  outputs: ['model.onnx', 'model.json', 'checkpoint/', 'model.onnx.data?', 'tokenizer/?'],
  async run(ctx) {
    const summary: { [key: string]: Json } = {};
    const checkpoint = checkpointOf(ctx.upstream['model'], 'export');
    await runTrainer({
      ...trainerArgv(ctx),
      verb: 'export',
      spec: {
        config: ctx.config,
        checkpoint,
        feature_columns: ctx.input('feature_columns.json'),
        output_dir: ctx.outDir,
      } satisfies TrainerSpec<'export'>,
      workDir: ctx.logDir,
      cwd: ctx.repoRoot,
      signal: ctx.signal,
      preempt: ctx.preempted,
      onEvent: trainerEvents(ctx, summary).onEvent,
    });
    cpSync(checkpoint, path.join(ctx.outDir, 'checkpoint'), { recursive: true });
    if (ctx.params['selection'] !== undefined) {
      const selection = roundSelectionSchema.parse(ctx.params['selection']);
      const manifest = path.join(ctx.outDir, MANIFEST_FILE);
      writeFileSync(manifest, `${JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), selection }, null, 2)}\n`);
    }
    return summary;
  },
});
