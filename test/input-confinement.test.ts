import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { workersSuite } from './helpers/temporal-session';

/** The activities a run scheduled, in order, from its history. */
async function scheduledActivities(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

async function failureOf(handle: WorkflowHandle): Promise<WorkflowFailedError> {
  const err = await handle.result().then(
    () => assert.fail('the run should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  return err;
}

describe('a workflow input is data, never power (issue 9, through Temporal)', () => {
  const suite = workersSuite({ taskQueue: 'input-confinement', devices: 1 });
  const { store, taskQueue } = suite;
  const scratch = suite.tempDir('confine-scratch');

  it('an argv in the overrides fails the run before any stage executes, and runs nothing', async () => {
    const marker = path.join(scratch, 'x');
    const handle = await suite.env.client.workflow.start('train-pipeline', {
      taskQueue,
      workflowId: 'sh-override',
      args: [{ config: 'micro', overrides: { trainer: { command: ['sh', '-c', `id > ${marker}; env | grep AWS_SECRET`] } } }],
    });
    const err = await failureOf(handle);
    assert.equal(
      (err.cause?.cause as Error | undefined)?.message,
      "invalid config 'micro':\n(overrides): trainer.command: a workflow input cannot name a program; choose one of the worker's trainers with trainer.engine",
    );
    assert.deepEqual(await scheduledActivities(handle), ['resolveRun']);
    assert.equal(existsSync(marker), false, 'the command ran');
    assert.deepEqual(readdirSync(store), [], 'the store has no stage, checkpoint or failed folders');
  });

  it('a __proto__ key in the overrides reaches the worker and is refused by name', async () => {
    const overrides = JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    const handle = await suite.env.client.workflow.start('train-pipeline', { taskQueue, workflowId: 'proto-override', args: [{ config: 'micro', overrides }] });
    const err = await failureOf(handle);
    assert.equal((err.cause?.cause as Error | undefined)?.message, "invalid config 'micro':\n(overrides): __proto__: '__proto__' cannot be a config key");
    assert.deepEqual(await scheduledActivities(handle), ['resolveRun']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  // Each bad input fails the run at once (not a workflow task failing forever), naming the field.
  const badInputs: Array<{ name: string; args: unknown[]; message: string }> = [
    { name: 'no-input', args: [], message: 'invalid workflow input: (input): Invalid input: expected object, received undefined' },
    { name: 'config-number', args: [{ config: 5 }], message: 'invalid workflow input: config: Invalid input: expected string, received number' },
    { name: 'config-path', args: [{ config: '../../etc/passwd' }], message: "invalid workflow input: config: expected a config name: letters, digits, '_', '-' and '.'" },
    { name: 'unknown-key', args: [{ config: 'micro', cache: false }], message: 'invalid workflow input: cache: Unrecognized key: "cache"' },
    { name: 'overrides-list', args: [{ config: 'micro', overrides: [1], noCache: 'yes' }], message: 'invalid workflow input: overrides: Invalid input: expected record, received array; noCache: Invalid input: expected boolean, received string' },
  ];
  for (const bad of badInputs) {
    it(`fails a run started with ${bad.name} at once with a non-retryable error naming the field (row 5)`, async () => {
      const handle = await suite.env.client.workflow.start('train-pipeline', { taskQueue, workflowId: `bad-input-${bad.name}`, args: bad.args });
      const err = await failureOf(handle);
      assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
      assert.equal(err.cause.type, 'InvalidWorkflowInput');
      assert.equal(err.cause.nonRetryable, true);
      assert.equal(err.cause.message, bad.message);
      assert.equal((await handle.describe()).status.name, 'FAILED');
      assert.deepEqual(await scheduledActivities(handle), []);
    });
  }
});
