import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RoundSelection } from '../lib/round-selection';
import type { PipelineResult } from '../lib/run-types';
import { saveHistoryIfAsked } from './helpers/histories';
import { sampleData, startRun } from './helpers/temporal';
import { workersSuite } from './helpers/temporal-session';
import { tinyGemmaConfigs } from './helpers/tiny-gemma';

describe('train-pipeline with the Python Gemma-2 trainer, through Temporal', () => {
  const configDir = tinyGemmaConfigs();
  const suite = workersSuite({ taskQueue: 'gemma2-tiny', devices: 2, configDir });

  // One run covers the whole path (two shards per round, exact LoRA merges, the merged model
  // validated each round, ONNX export, evaluate, submit) and the choice of the exported round.
  it('trains two shards per round on a tiny random Gemma-2, validates every merge and exports round 2 of 3 when a learning-rate spike spoils round 3', async (t) => {
    // Round 3 trains at 1000x the learning rate: the head's Adam steps grow to ~1 per weight.
    const trainer = { epochs: 3, round_epochs: 1, gpus: 2, round_lr_scale: [1, 1, 1000], early_stopping_patience: 0 };
    // Shards split the pairs (no per_gpu copies of the whole set): a round is then short enough that
    // round 2 still improves on round 1, which the choice of round 2 needs.
    const augment = { mode: 'none' };
    const handle = await startRun(suite.env, suite.taskQueue, 'gemma2-tiny-best-round', { config: 'gemma2_tiny_test', overrides: { ...sampleData(), augment, trainer } });
    const result = (await handle.result()) as PipelineResult;
    await saveHistoryIfAsked(handle, 'gemma2-tiny');

    assert.equal(result.progress.stages['train']!.executed, 3 * 2 + 3 + 1, 'three rounds of two shards, three merges, one export');
    // Each round's LoRA merge reports its relative residual, in the stage summary and the progress table.
    const residuals = result.stages['train']!.summary['merge_residuals'] as { round: number; max: number; mean: number }[];
    assert.deepEqual(residuals.map((r) => r.round), [1, 2, 3]);
    for (const r of residuals) assert.ok(r.mean > 0 && r.max >= r.mean && r.max <= 1, JSON.stringify(r));
    assert.match(
      result.progress.stages['train']!.detail,
      /^3 round\(s\) of 2 shard\(s\); exported round 2 of 3: valid_loss \d\.\d{4} \(last round \d+\.\d{4}\); LoRA merge residual \(max\/mean\) per round: 1: [01]\.\d{3}\/[01]\.\d{3}, 2: [01]\.\d{3}\/[01]\.\d{3}, 3: [01]\.\d{3}\/[01]\.\d{3}$/,
    );
    const metrics = JSON.parse(readFileSync(path.join(result.stages['evaluate']!.dir, 'metrics.json'), 'utf8'));
    assert.equal(metrics.model_kind, 'gemma2_qlora');
    const submission = readFileSync(path.join(result.stages['submit']!.dir, 'submission.csv'), 'utf8').trim().split('\n');
    assert.equal(submission[0], 'id,winner');
    assert.equal(submission.length, 1 + 3);

    const train = result.stages['train']!;
    const selection = train.summary['selection'] as RoundSelection;
    const [r1, r2, r3] = selection.rounds.map((r) => r.valid_loss);
    assert.ok(r2! < r1! && r2! < r3!, `round 2 must be best: ${r1}, ${r2}, ${r3}`);
    assert.equal(selection.exported_round, 2);
    t.diagnostic(`valid_loss per round: ${[r1, r2, r3].map((l) => l!.toFixed(4)).join(', ')}`);
    assert.equal(train.summary['exported'], `exported round 2 of 3: valid_loss ${r2!.toFixed(4)} (last round ${r3!.toFixed(4)})`);
    // The export is round 2's merged checkpoint: its step, and the report marks it.
    const exported = JSON.parse(readFileSync(path.join(train.dir, 'model.json'), 'utf8'));
    assert.equal(exported.kind, 'gemma2_qlora');
    assert.equal(exported.step, selection.rounds[1]!.step);
    assert.ok(selection.rounds[2]!.step > exported.step);
    const report = readFileSync(path.join(result.stages['evaluate']!.dir, 'report.html'), 'utf8');
    assert.ok(report.includes(`Exported: round 2 of 3, chosen by valid_loss (${r2!.toFixed(4)}; last round ${r3!.toFixed(4)})`));
    // The ONNX export scores the validation split as the trainer's validation of round 2 did.
    assert.ok(Math.abs((result.stages['evaluate']!.summary['log_loss'] as number) - r2!) < 1e-3);
  });
});
