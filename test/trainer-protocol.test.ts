import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseTrainerEvent, PREEMPT_MESSAGE, runTrainer, TrainerFailed, type TrainerEvent } from '../lib/trainer-process';
import { SystemError, UserInputError } from '../lib/errors';
import { removeDir, tempDir, waitFor } from './helpers/temporal';

const SCRIPTED = [process.execPath, path.join(__dirname, 'fixtures', 'scripted-trainer.js')];
const work = tempDir('protocol');
after(() => removeDir(work));

function run(script: string, signal = new AbortController().signal, extra: Record<string, unknown> = {}) {
  const events: TrainerEvent[] = [];
  const workDir = path.join(work, script);
  const pending = runTrainer({ command: SCRIPTED, verb: 'train', spec: { script, ...extra }, workDir, cwd: work, signal, onEvent: (e) => events.push(e), killGraceMs: 500 });
  return { events, workDir, pending };
}

describe('trainer protocol, activity side', () => {
  it('parses events and names what is wrong with a malformed line', () => {
    assert.deepEqual(parseTrainerEvent('{"event":"progress","step":3,"epoch":0,"loss":0.5}'), { event: 'progress', step: 3, epoch: 0, loss: 0.5 });
    assert.deepEqual(parseTrainerEvent('oops'), { malformed: 'not JSON' });
    assert.deepEqual(parseTrainerEvent('[1]'), { malformed: 'not a JSON object' });
    assert.deepEqual(parseTrainerEvent('{"event":"telemetry"}'), { malformed: 'unknown event "telemetry"' });
  });

  it('reports malformed lines in the log and goes on', async () => {
    const { events, workDir, pending } = run('malformed');
    const done = await pending;
    assert.equal(done.checkpoint, '/tmp/ckpt/step-1');
    assert.deepEqual(events.map((e) => e.event), ['progress', 'checkpoint', 'done']);
    const log = readFileSync(path.join(workDir, 'trainer.log'), 'utf8');
    assert.match(log, /ignored a malformed event line \(not JSON\): not json at all/);
    assert.match(log, /ignored a malformed event line \(unknown event "telemetry"\)/);
    assert.match(log, /scripted trainer: train malformed/);
  });

  it('leaves the complete log of a trainer that fails within milliseconds, every time', async () => {
    // A shell trainer starts in about a millisecond: the log's last writes race the caller moving
    // the folder unless runTrainer waits for the log to be flushed. 200 runs catch a 1-in-10 race.
    const lines = Array.from({ length: 20 }, (_, i) => `stderr line ${i}`);
    const script = `for l in ${lines.map((l) => `'${l}'`).join(' ')}; do echo "$l" >&2; done; echo 'not json'; exit 1`;
    for (let i = 0; i < 200; i++) {
      const workDir = path.join(work, 'fast-fail', String(i));
      const pending = runTrainer({ command: ['sh', '-c', script, 'trainer'], verb: 'train', spec: {}, workDir, cwd: work, signal: new AbortController().signal, onEvent: () => undefined });
      await assert.rejects(pending, (err: Error) => err instanceof TrainerFailed && /failed: exit 1/.test(err.message));
      const log = readFileSync(path.join(workDir, 'trainer.log'), 'utf8');
      // stderr and stdout are separate pipes, so only the set of lines is fixed, not their order.
      const expected = [...lines, '[arena] ignored a malformed event line (not JSON): not json'];
      assert.deepEqual(log.split('\n').filter(Boolean).sort(), expected.sort(), `run ${i}`);
    }
  });

  it('classifies a rejected config as a user error, OOM and a kill as system errors, a crash as a trainer failure', async () => {
    await assert.rejects(run('user-error').pending, (err: Error) => err instanceof UserInputError && /rejected its input: config\.trainer\.batch_size: must be even/.test(err.message));
    await assert.rejects(run('oom').pending, (err: Error) => err instanceof SystemError && err.name === 'OutOfMemory');
    await assert.rejects(run('crash').pending, (err: Error) => err instanceof TrainerFailed && /failed: exit 1/.test(err.message));
  });

  it('on pre-emption writes the preempt request to stdin and fails as Preempted after the checkpoint', async () => {
    const preempt = new AbortController();
    const script = [
      `echo '{"event":"start","step":0}'`,
      'read request',
      'echo "request: $request" >&2',
      `echo '{"event":"checkpoint","step":7,"path":"/tmp/c/step-7"}'`,
      `echo '{"event":"error","kind":"preempted","message":"pre-empted at step 7; checkpoint written"}'`,
      'exit 4',
    ].join('\n');
    const workDir = path.join(work, 'preempted');
    const events: TrainerEvent[] = [];
    const pending = runTrainer({
      command: ['sh', '-c', script, 'trainer'],
      verb: 'train',
      spec: {},
      workDir,
      cwd: work,
      signal: new AbortController().signal,
      preempt: preempt.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.event === 'start') preempt.abort();
      },
    });
    await assert.rejects(pending, (err: Error) => {
      assert.ok(err instanceof SystemError);
      assert.equal(err.name, 'Preempted');
      assert.equal(err.message, `trainer train (log: ${path.join(workDir, 'trainer.log')}) checkpointed and stopped: pre-empted at step 7; checkpoint written`);
      return true;
    });
    assert.deepEqual(events.map((e) => e.event), ['start', 'checkpoint', 'error']);
    assert.equal(readFileSync(path.join(workDir, 'trainer.log'), 'utf8'), `request: ${PREEMPT_MESSAGE}`);
  });

  it('kills the trainer process group when cancelled', async () => {
    const controller = new AbortController();
    const pidFile = path.join(work, 'hang.pid');
    const { pending } = run('hang', controller.signal, { pid_file: pidFile });
    const pid = Number(await waitFor('the trainer to start', () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : undefined), 20_000));
    controller.abort(new Error('cancelled by the workflow'));
    await assert.rejects(pending, /cancelled by the workflow/);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  });
});
