/**
 * Shard merges against one process (issue 11), on the shared LMSYS sample: the built-in CPU model
 * trained by 1 process, and by 2 shards merged every K optimizer steps (trainer.round_steps) for
 * K in {1, 10, 50} and every epoch (round_epochs: 1). Every variant sees the same examples (all
 * epochs of the train split), so the validation log loss of the final model compares them. The CPU
 * model has no LoRA adapters, so its merge is the plain average and has no residual; the tiny random
 * Gemma-2 half (exact LoRA merge against factor averaging, with residuals) is
 * trainers/gpu/bench/round_steps_bench.py, run after this when the trainer environment exists.
 *
 * Run: npx tsx bench/shard-merge.ts [--no-gemma]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runConfigSchema, type RunConfig } from '../lib/config/schema';
import { readFeatureNames } from '../lib/feature-columns';
import { readCheckpoint, writeCheckpoint } from '../trainers/cpu/checkpoint';
import { readSplit, TextRowCache } from '../trainers/cpu/data';
import type { TrainerEvent } from '../trainers/cpu/events';
import { mergeCheckpoints } from '../trainers/cpu/merge';
import { evaluateSplit, trainCommand } from '../trainers/cpu/train';
import { SAMPLE_ROWS_SQL, trainSpec } from '../test/fixtures/sample-splits';

const REPO = path.resolve(__dirname, '..');
const FEATURES = ['len_a', 'len_b', 'words_a', 'words_b', 'len_prompt'];
const EPOCHS = 3;

/** The sample's non-tie pairs in both orientations; 20% of the pairs (by id) validate, originals only. */
async function buildSplits(dir: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`CREATE TABLE pairs AS SELECT id, prompt, response_a, response_b, winner FROM (${SAMPLE_ROWS_SQL}) WHERE NOT tie`);
  await c.run(`
    CREATE TABLE rows AS
    SELECT id, id AS pair_id, false AS swapped, prompt, response_a, response_b, winner FROM pairs
    UNION ALL
    SELECT id || '-swap', id, true, prompt, response_b, response_a, CASE winner WHEN 'model_a' THEN 'model_b' ELSE 'model_a' END FROM pairs`);
  const features = `length(response_a)::DOUBLE AS len_a, length(response_b)::DOUBLE AS len_b,
    len(string_split(response_a, ' '))::DOUBLE AS words_a, len(string_split(response_b, ' '))::DOUBLE AS words_b,
    length(prompt)::DOUBLE AS len_prompt`;
  const cut = `(SELECT quantile_disc(id, 0.8) FROM pairs)`;
  await c.run(`COPY (SELECT *, ${features} FROM rows WHERE pair_id < ${cut} ORDER BY id) TO '${path.join(dir, 'train.parquet')}' (FORMAT parquet)`);
  await c.run(`COPY (SELECT *, ${features} FROM rows WHERE pair_id >= ${cut} AND NOT swapped ORDER BY id) TO '${path.join(dir, 'valid.parquet')}' (FORMAT parquet)`);
  fs.writeFileSync(path.join(dir, 'feature_columns.json'), JSON.stringify({ columns: FEATURES.map((name) => ({ name, swap: 'keep' })) }));
  c.closeSync();
  db.closeSync();
}

function config(): RunConfig {
  return runConfigSchema.parse({
    name: 'shard-merge-bench',
    seed: 42,
    augment: { mode: 'append' },
    model: { text_hash_dim: 2048, text_dim: 32, feature_dim: 32, hidden_dim: 64 },
    trainer: { epochs: EPOCHS, batch_size: 16, checkpoint_every_steps: 100_000, early_stopping_patience: 0 },
  });
}

async function train(dir: string, name: string, cfg: RunConfig, shard: { index: number; count: number }, round: object, initFrom: string | null) {
  const events: TrainerEvent[] = [];
  await trainCommand(trainSpec(dir, name, cfg, { shard, round, init_from: initFrom }) as never, (e) => events.push(e));
  const done = events.at(-1) as TrainerEvent & { event: 'done' };
  return { checkpoint: done.checkpoint!, finished: done.finished === true, step: done.step ?? 0 };
}

/** The train stage's round loop (workflows/train-rounds.ts) in process; returns the exported checkpoint. */
async function shardRounds(dir: string, name: string, cfg: RunConfig, shards: number, steps: number | 'epoch'): Promise<{ checkpoint: string; rounds: number; merges: number }> {
  let active = Array.from({ length: shards }, (_, k) => k);
  let init: string | null = null;
  let rounds = 0;
  let merges = 0;
  while (active.length > 0) {
    const round =
      steps === 'epoch'
        ? { index: rounds, epoch_start: rounds, epoch_end: rounds + 1 }
        : { index: rounds, epoch_start: 0, epoch_end: cfg.trainer.epochs, step_end: (rounds + 1) * steps };
    const outputs: Awaited<ReturnType<typeof train>>[] = [];
    for (const index of active) outputs.push(await train(dir, `${name}/r${rounds}/s${index}`, cfg, { index, count: shards }, round, init));
    if (outputs.length === 1) init = outputs[0]!.checkpoint;
    else {
      init = path.join(dir, name, `r${rounds}`, 'merge');
      writeCheckpoint(mergeCheckpoints(outputs.map((o) => o.checkpoint)), init, true);
      merges++;
    }
    rounds++;
    active = steps === 'epoch' ? (rounds < cfg.trainer.epochs ? active : []) : active.filter((_, k) => !outputs[k]!.finished);
  }
  return { checkpoint: init!, rounds, merges };
}

async function cpuModel(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-shard-merge-'));
  try {
    await buildSplits(dir);
    const cfg = config();
    const columns = readFeatureNames(path.join(dir, 'feature_columns.json'));
    const valid = await readSplit(path.join(dir, 'valid.parquet'), columns);
    const trainRows = (await readSplit(path.join(dir, 'train.parquet'), columns)).ids.length;
    const validTexts = new TextRowCache(valid, cfg.model.text_hash_dim);
    const lossOf = (checkpoint: string) => evaluateSplit(readCheckpoint(checkpoint), valid, validTexts).loss;
    console.log(`CPU model (cpu_mlp), ${trainRows} train rows (append), ${valid.ids.length} valid rows, ${EPOCHS} epochs, batch ${cfg.trainer.batch_size}: every variant sees ${EPOCHS * trainRows} examples`);
    console.log('| variant | rounds | merges | valid log loss | merge residual | wall s |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    let start = Date.now();
    const single = await train(dir, 'single', cfg, { index: 0, count: 1 }, { index: 0, epoch_start: 0, epoch_end: EPOCHS }, null);
    console.log(`| 1 process, batch ${cfg.trainer.batch_size} | 1 | 0 | ${lossOf(single.checkpoint).toFixed(4)} | - | ${((Date.now() - start) / 1000).toFixed(1)} |`);
    // The 2 shards' global batch (2 × batch_size a step): the same steps and learning rates as theirs.
    start = Date.now();
    const global = { ...cfg, trainer: { ...cfg.trainer, batch_size: 2 * cfg.trainer.batch_size } };
    const wide = await train(dir, 'single-wide', global, { index: 0, count: 1 }, { index: 0, epoch_start: 0, epoch_end: EPOCHS }, null);
    console.log(`| 1 process, batch ${global.trainer.batch_size} | 1 | 0 | ${lossOf(wide.checkpoint).toFixed(4)} | - | ${((Date.now() - start) / 1000).toFixed(1)} |`);
    for (const k of [1, 10, 50, 'epoch'] as const) {
      start = Date.now();
      const run = await shardRounds(dir, `k${k}`, cfg, 2, k);
      const label = k === 'epoch' ? '2 shards, round_epochs 1' : `2 shards, round_steps ${k}`;
      console.log(`| ${label} | ${run.rounds} | ${run.merges} | ${lossOf(run.checkpoint).toFixed(4)} | 0 (no LoRA: plain average) | ${((Date.now() - start) / 1000).toFixed(1)} |`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function tinyGemma(): void {
  const pythonPath = spawnSync('bash', ['scripts/setup-trainer-env.sh'], { cwd: REPO, encoding: 'utf8' }).stdout.trim();
  const env = { ...process.env, PYTHONPATH: [path.join(REPO, 'trainers', 'gpu'), path.join(REPO, 'trainers', 'gpu', 'tests'), path.join(REPO, 'trainers', 'gpu', 'bench')].join(path.delimiter) };
  const result = spawnSync(pythonPath, ['trainers/gpu/bench/round_steps_bench.py'], { cwd: REPO, env, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`round_steps_bench.py exited with ${result.status}`);
}

async function main(): Promise<void> {
  await cpuModel();
  if (!process.argv.includes('--no-gemma')) tinyGemma();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
