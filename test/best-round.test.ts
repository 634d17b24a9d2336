import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RoundSelection } from '../lib/round-selection';
import type { PipelineResult } from '../lib/run-types';
import { readCheckpoint } from '../trainers/cpu/checkpoint';
import { sampleData, startRun } from './helpers/temporal';
import { workersSuite } from './helpers/temporal-session';

/** The optimizer step of the checkpoint kept in a stage output folder. */
function stepOf(dir: string): number {
  return readCheckpoint(path.join(dir, 'checkpoint')).state.step;
}

describe('the best round is exported (CPU trainer, two shards, through Temporal)', () => {
  const suite = workersSuite({ taskQueue: 'best-round', devices: 2 });
  const { taskQueue } = suite;

  it('validates every merge and exports round 2 when a learning-rate spike spoils round 3', async (t) => {
    // Round 3 trains at 5000x the learning rate (Adam steps of ~1 per weight at the decayed schedule): its merged model is far worse than round 2's.
    const trainer = { epochs: 3, round_epochs: 1, gpus: 2, round_lr_scale: [1, 1, 5000], early_stopping_patience: 0 };
    const handle = await startRun(suite.env, taskQueue, 'best-round-cpu', { config: 'micro', overrides: { ...sampleData(), trainer } });
    const result = (await handle.result()) as PipelineResult;

    const train = result.stages['train']!;
    const selection = train.summary['selection'] as RoundSelection;
    assert.equal(selection.metric, 'valid_loss');
    assert.deepEqual(selection.rounds.map((r) => r.round), [1, 2, 3]);
    const [r1, r2, r3] = selection.rounds.map((r) => r.valid_loss);
    assert.ok(r2! < r1! && r2! < r3!, `round 2 must be best: ${r1}, ${r2}, ${r3}`);
    assert.equal(selection.exported_round, 2);
    t.diagnostic(`valid_loss per round: ${[r1, r2, r3].map((l) => l!.toFixed(4)).join(', ')}`);
    assert.equal(train.summary['exported'], `exported round 2 of 3: valid_loss ${r2!.toFixed(4)} (last round ${r3!.toFixed(4)})`);
    assert.equal(result.progress.stages['train']!.detail, `3 round(s) of 2 shard(s); exported round 2 of 3: valid_loss ${r2!.toFixed(4)} (last round ${r3!.toFixed(4)})`);

    // The exported checkpoint is round 2's merge (its step), not round 3's, and model.json says so.
    const model = JSON.parse(readFileSync(path.join(train.dir, 'model.json'), 'utf8'));
    assert.equal(stepOf(train.dir), selection.rounds[1]!.step);
    assert.ok(selection.rounds[2]!.step > selection.rounds[1]!.step);
    assert.deepEqual(model.selection, selection);

    // The report draws the merged model's curve and names the exported round.
    const report = readFileSync(path.join(result.stages['evaluate']!.dir, 'report.html'), 'utf8');
    assert.match(report, /Merged model per round: valid_loss/);
    assert.ok(report.includes(`Exported: round 2 of 3, chosen by valid_loss (${r2!.toFixed(4)}; last round ${r3!.toFixed(4)})`));
    assert.match(report, /<tr class="exported"><td>2<\/td>/);
    // The evaluate stage scores the exported model: its log loss is round 2's validation loss (same
    // rows, same weights; the trainer's loss is the mean BCE, the report's the clipped log loss).
    assert.ok(Math.abs((result.stages['evaluate']!.summary['log_loss'] as number) - r2!) < 1e-3);
  });
});
