import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernelMetadata } from '../activities/package/notebook';
import { describeEstimate, estimateRuntime } from '../activities/package/runtime-estimate';
import { kaggleSchema } from '../lib/config/schema';

const kaggle = kaggleSchema.parse({});

describe('Kaggle package: run-time estimate and kernel metadata', () => {
  it('scales the evaluation throughput to the notebook T4s and warns past 80% of the limit', () => {
    // 1,000 rows x 2 passes in 100 s: 20 rows/s; one T4 at 0.15 of it, two of them: 6 rows/s.
    const fast = estimateRuntime({ rows: 1000, passes: 2, seconds: 100 }, kaggle);
    assert.equal(fast.kaggle_rows_per_s.toFixed(6), '6.000000');
    assert.equal(fast.hours.toFixed(4), ((25000 * 2) / 6 / 3600).toFixed(4));
    assert.equal(fast.warning, null);
    const slow = estimateRuntime({ rows: 1000, passes: 2, seconds: 600 }, kaggle);
    assert.equal(slow.hours.toFixed(2), '13.89');
    assert.equal(slow.warning, 'estimated 13.9 h is over 80% of the 12 h limit: shorten model.max_length, turn submit.tta off or use a faster setup');
    assert.match(describeEstimate(slow), /\nWARNING: estimated 13\.9 h/);
  });

  it('attaches a backbone named by a model handle as a model and one named by owner/slug as a dataset', () => {
    const base = { dataset: 'me/arena-gemma2', competition: 'wsdm-cup-multilingual-chatbot-arena', runId: 'r', estimate: '' };
    const model = kernelMetadata({ ...base, basemodel: kaggle.basemodel }, 'inference.ipynb') as Record<string, unknown>;
    assert.deepEqual([model['id'], model['dataset_sources'], model['model_sources'], model['enable_internet']], ['me/arena-gemma2-inference', ['me/arena-gemma2'], ['google/gemma-2/transformers/gemma-2-9b-it/2'], false]);
    const dataset = kernelMetadata({ ...base, basemodel: 'someone/gemma2-9b-4bit' }, 'inference.ipynb') as Record<string, unknown>;
    assert.deepEqual([dataset['dataset_sources'], dataset['model_sources']], [['me/arena-gemma2', 'someone/gemma2-9b-4bit'], []]);
  });
});
