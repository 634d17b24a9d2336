import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../lib/config/load';
import { runConfigSchema, type RunConfig } from '../lib/config/schema';
import { readFeatureNames } from '../lib/feature-columns';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../trainers/cpu/checkpoint';
import { readSplit } from '../trainers/cpu/data';
import type { TrainerEvent } from '../trainers/cpu/events';
import { mergeCheckpoints } from '../trainers/cpu/merge';
import { paramSpecs } from '../trainers/cpu/model';
import { epochOrder, trainCommand } from '../trainers/cpu/train';
import { SAMPLE_ROWS_SQL, trainSpec } from './fixtures/sample-splits';

const FEATURES = ['len_a', 'len_b'];

/** What one shard's round returns: its output checkpoint and whether its epochs are done. */
interface RoundOutput {
  checkpoint: string;
  finished: boolean;
}

describe('round_steps: K-step rounds of the CPU trainer', () => {
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-steps-'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    // Pairs with both orientations (augment append), so a shard's rows are whole pairs.
    await c.run(`
      CREATE TABLE pairs AS
      SELECT id, prompt, response_a, response_b, winner FROM (${SAMPLE_ROWS_SQL}) WHERE NOT tie ORDER BY id LIMIT 150`);
    await c.run(`
      CREATE TABLE rows AS
      SELECT id, id AS pair_id, false AS swapped, prompt, response_a, response_b, winner FROM pairs
      UNION ALL
      SELECT id || '-swap', id, true, prompt, response_b, response_a, CASE winner WHEN 'model_a' THEN 'model_b' ELSE 'model_a' END FROM pairs`);
    const features = `length(response_a)::DOUBLE AS len_a, length(response_b)::DOUBLE AS len_b`;
    await c.run(`COPY (SELECT *, ${features} FROM rows WHERE pair_id < (SELECT quantile_disc(id, 0.8) FROM pairs) ORDER BY id) TO '${path.join(dir, 'train.parquet')}' (FORMAT parquet)`);
    await c.run(`COPY (SELECT *, ${features} FROM rows WHERE pair_id >= (SELECT quantile_disc(id, 0.8) FROM pairs) ORDER BY id) TO '${path.join(dir, 'valid.parquet')}' (FORMAT parquet)`);
    fs.writeFileSync(path.join(dir, 'feature_columns.json'), JSON.stringify({ columns: FEATURES.map((name) => ({ name, swap: 'keep' })) }));
    c.closeSync();
    db.closeSync();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Odd batch counts and accumulation 2, so that rounds end mid-epoch and steps straddle nothing.
  const config = (overrides: object = {}): RunConfig =>
    runConfigSchema.parse({
      name: 'round-steps-test',
      seed: 9,
      augment: { mode: 'append' },
      model: { text_hash_dim: 256, text_dim: 8, feature_dim: 4, hidden_dim: 8, head_dropout: 0.2 },
      trainer: { epochs: 2, batch_size: 7, grad_accumulation: 2, checkpoint_every_steps: 1000, early_stopping_patience: 0, ...overrides },
    });

  const trainRound = async (name: string, cfg: RunConfig, shard: { index: number; count: number }, round: object, initFrom: string | null): Promise<RoundOutput> => {
    const events: TrainerEvent[] = [];
    await trainCommand(trainSpec(dir, name, cfg, { shard, round, init_from: initFrom }) as never, (e) => events.push(e));
    const done = events.at(-1) as TrainerEvent & { event: 'done' };
    assert.equal(done.event, 'done');
    return { checkpoint: done.checkpoint!, finished: done.finished === true };
  };

  /** The workflow's round loop (workflows/train-rounds.ts runStepRounds), in process. */
  const stepRounds = async (name: string, cfg: RunConfig, shards: number, steps: number): Promise<{ final: Checkpoint; rounds: number }> => {
    let active = Array.from({ length: shards }, (_, k) => k);
    let init: string | null = null;
    let round = 0;
    for (; active.length > 0; round++) {
      const outputs: RoundOutput[] = [];
      for (const index of active) {
        const round_ = { index: round, epoch_start: 0, epoch_end: cfg.trainer.epochs, step_end: (round + 1) * steps };
        outputs.push(await trainRound(`${name}/r${round}/s${index}`, cfg, { index, count: shards }, round_, init));
      }
      if (outputs.length === 1) init = outputs[0]!.checkpoint;
      else {
        init = path.join(dir, name, `r${round}`, 'merge');
        writeCheckpoint(mergeCheckpoints(outputs.map((o) => o.checkpoint)), init, true);
      }
      active = active.filter((_, k) => !outputs[k]!.finished);
      assert.ok(round < 200, 'the rounds end');
    }
    return { final: readCheckpoint(init!), rounds: round };
  };

  it('K-step rounds of 2 shards train every training row exactly once per epoch', async () => {
    const cfg = config();
    const { final, rounds } = await stepRounds('two', cfg, 2, 3);
    const train = await readSplit(path.join(dir, 'train.parquet'), readFeatureNames(path.join(dir, 'feature_columns.json')));
    assert.ok(rounds > 4, `${rounds} rounds`);
    for (let epoch = 0; epoch < cfg.trainer.epochs; epoch++) {
      const seen: string[] = [];
      for (let shard = 0; shard < 2; shard++) {
        const order = epochOrder(trainSpec(dir, 'x', cfg, { shard: { index: shard, count: 2 } }) as never, train, epoch);
        const steps = final.state.history.train.filter((e) => e.shard === shard && e.epoch === epoch).sort((a, b) => a.step - b.step);
        // The steps' micro-batch ranges tile the epoch's order: each starts where the previous ended.
        let next = 0;
        for (const e of steps) {
          assert.equal(e.batches[0], next, `shard ${shard} epoch ${epoch} step ${e.step}`);
          next = e.batches[1];
          for (let b = e.batches[0]; b < e.batches[1]; b++) seen.push(...Array.from(order.subarray(b * 7, (b + 1) * 7), (i) => train.ids[i]!));
        }
        assert.equal(next, Math.ceil(order.length / 7), `shard ${shard} finished epoch ${epoch}`);
      }
      assert.deepEqual([...seen].sort(), [...train.ids].sort(), `epoch ${epoch}: every row once`);
    }
    // Rounds ended mid-epoch and mid-accumulation-free: some round began at a later micro-batch.
    assert.ok(final.state.history.train.some((e) => e.step % 3 === 1 && e.batches[0] > 0), 'a round resumed mid-epoch');
  });

  it('K-step rounds of one shard reach the same weights as one uninterrupted run, dropout RNG included', async () => {
    const cfg = config();
    const whole = readCheckpoint((await trainRound('whole', cfg, { index: 0, count: 1 }, { index: 0, epoch_start: 0, epoch_end: 2 }, null)).checkpoint);
    const { final, rounds } = await stepRounds('one', cfg, 1, 4);
    assert.ok(rounds > 3, `${rounds} rounds`);
    assert.equal(final.state.step, whole.state.step);
    for (const spec of paramSpecs(whole.dims)) assert.deepEqual(final.params[spec.name], whole.params[spec.name], spec.name);
  });

  it('a round start without a data position for the shard is refused, naming the checkpoint', async () => {
    const cfg = config();
    const first = await trainRound('lone', cfg, { index: 0, count: 1 }, { index: 0, epoch_start: 0, epoch_end: 2, step_end: 2 }, null);
    await assert.rejects(
      trainRound('lone/next', cfg, { index: 1, count: 2 }, { index: 1, epoch_start: 0, epoch_end: 2, step_end: 4 }, first.checkpoint),
      { name: 'UserInputError', message: `${first.checkpoint}: checkpoint holds no data position for shard 1 of 2` },
    );
  });

  it('round_steps excludes round_epochs, with one message naming the key', () => {
    assert.throws(() => loadConfig('micro', { overrides: { trainer: { round_steps: 5 } } }), {
      message: "invalid config 'micro':\n(overrides): trainer.round_steps: excludes trainer.round_epochs; set one of them (round_epochs: null unsets an inherited value)",
    });
    assert.equal(loadConfig('micro', { overrides: { trainer: { round_steps: 5, round_epochs: null } } }).trainer.round_steps, 5);
  });

  it('round_steps is refused with parallel: ddp, which has no rounds', () => {
    assert.throws(() => loadConfig('micro', { overrides: { trainer: { round_steps: 5, round_epochs: null, parallel: 'ddp' } } }), {
      message: "invalid config 'micro':\n(overrides): trainer.round_steps: has no effect with trainer.parallel: ddp (it all-reduces every step); unset it",
    });
  });
});
