import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FaultCampaign, type Baseline } from './helpers/faults';
import { sampleData } from './helpers/temporal';

/**
 * The small fault campaign (bench/faults.ts runs the large one): one run of micro on the real sample
 * struck five times in different stages, against an undisturbed run of the same input.
 */
describe('fault campaign', () => {
  let campaign: FaultCampaign;
  let baseline: Baseline;

  before(async () => {
    // Two rounds of one epoch, slowed a little, so the SIGTERM finds a trainer mid-round.
    const input = { config: 'micro', overrides: { ...sampleData(), trainer: { epochs: 2, round_epochs: 1, step_delay_ms: 60 } } };
    campaign = await FaultCampaign.start(input, (line) => console.log(line));
    baseline = await campaign.baseline();
  });

  after(async () => {
    await campaign?.stop();
  });

  it('a run survives worker kills, a server kill and a SIGTERM with the undisturbed metrics; the SIGTERM costs no step', async () => {
    const outcome = await campaign.run('struck', [
      { mode: 'sigkill-worker', stage: 'ingest', at: 0.3 },
      { mode: 'sigkill-server', stage: 'features', at: 0.3 },
      { mode: 'sigkill-worker', stage: 'augment', at: 0 },
      { mode: 'sigterm-worker', stage: 'train', at: 0, afterCheckpoint: true },
      { mode: 'sigkill-worker', stage: 'evaluate', at: 0.2 },
    ], baseline);
    console.log(JSON.stringify(outcome, null, 2));
    assert.equal(outcome.completed, true, outcome.error);
    assert.equal(outcome.identical, true, 'the metrics of the undisturbed run');
    assert.equal(outcome.faults.length, 5);
    // The SIGTERM: the trainer checkpointed where it stood, the attempt failed as Preempted at once
    // (not after a heartbeat timeout), and the next attempt resumed at that very step.
    assert.ok(outcome.failures['train']?.includes('Preempted'), JSON.stringify(outcome.failures));
    assert.ok(!outcome.failures['train']?.some((f) => f.startsWith('timeout')), JSON.stringify(outcome.failures));
    assert.ok(outcome.stepsRedoneAfterSigterm.length > 0);
    assert.deepEqual(outcome.stepsRedoneAfterSigterm, outcome.stepsRedoneAfterSigterm.map(() => 0));
  });
});
