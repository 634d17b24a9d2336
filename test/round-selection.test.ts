import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RoundMetrics } from '../lib/round-selection';
import { roundMetrics, selectionText, selectRound } from '../workflows/round-selection';
import { recordEvaluation } from '../trainers/cpu/selection';

const round = (n: number, loss: number, accuracy: number): RoundMetrics => ({ round: n, step: 10 * n, epoch: n - 1, valid_loss: loss, valid_accuracy: accuracy });

describe('round selection', () => {
  it('exports the lowest validation loss, or the highest accuracy, keeping the earlier round on a tie', () => {
    const rounds = [round(1, 0.69, 0.55), round(2, 0.61, 0.6), round(3, 0.61, 0.66)];
    assert.equal(selectRound(rounds, 'valid_loss')!.exported_round, 2);
    assert.equal(selectRound(rounds, 'valid_accuracy')!.exported_round, 3);
    assert.equal(selectionText(selectRound(rounds, 'valid_loss')!), 'exported round 2 of 3: valid_loss 0.6100 (last round 0.6100)');
    assert.equal(selectRound([], 'valid_loss'), undefined);
  });

  it('reads a round from a stage summary, and nothing from a summary without valid_metrics', () => {
    assert.deepEqual(roundMetrics({ valid_metrics: { step: 5, epoch: 0, valid_loss: 0.7, valid_accuracy: 0.5 } }, 1), { round: 1, step: 5, epoch: 0, valid_loss: 0.7, valid_accuracy: 0.5 });
    assert.equal(roundMetrics({ merge_residual: { max: 0.1, mean: 0.05 } }, 1), undefined);
  });

  it('stops after `patience` evaluations of the merged model without a gain in the selected metric', () => {
    const es = { best: null as number | null, badEpochs: 0, stopped: false };
    const m = (loss: number, accuracy: number) => ({ step: 1, epoch: 0, valid_loss: loss, valid_accuracy: accuracy });
    assert.equal(recordEvaluation(es, 'valid_accuracy', m(0.7, 0.6), 2), undefined);
    // A lower loss is no gain when accuracy is the metric.
    assert.equal(recordEvaluation(es, 'valid_accuracy', m(0.5, 0.6), 2), undefined);
    assert.equal(recordEvaluation(es, 'valid_accuracy', m(0.4, 0.59), 2), 'early stopping: no valid_accuracy gain for 2 evaluations');
    assert.deepEqual(es, { best: 0.6, badEpochs: 2, stopped: true });
  });
});
