import path from 'node:path';
import { stringify } from 'yaml';
import { Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../lib/config/load';
import { checkWorkflowOverrides } from '../lib/config/workflow-overrides';
import { ensureDevServer, stopDevServer } from '../lib/dev-server';
import type { PipelineInput, PipelineResult, RunProgress } from '../lib/run-types';
import { connectClient, connectWorker } from '../lib/temporal-connection';
import { findTemporalCli } from '../lib/temporal-cli';
import { loadPipeline } from '../lib/pipeline/load';
import type { StageResult } from '../lib/stage';
import { createWorkers, defaultStoreDir, REPO_ROOT } from '../worker';
import { explainStage } from './explain';
import { stageLogs } from './logs';
import { packageRun } from './package';
import { resultsOfStage, stageResultsOf } from './run-results';
import { renderProgress } from './progress-bars';
import { parseArgs, parseSetFlags } from './args';
import { listRuns, sweepRuns } from './runs';
import { checkPipeline, gridPoints } from './sweep-grid';
import { renderSweep } from './sweep-table';
import { failureMessage, SWEEP_WORKFLOW, type SweepInput, type SweepResult } from '../lib/sweep';
import { gcPolicy, runningWorkflowIds, storeDu, storeGc } from './store';

const USAGE = `arena: run the arena-pipeline on Temporal

  arena main                          start the dev server and a worker, run train-pipeline on 'micro', print where the results are
  arena dev [stop]                    start (or stop) the local Temporal dev server (UI on :8233) and run a worker
  arena worker                        run a worker against TEMPORAL_ADDRESS (or the local dev server)
  arena run --config NAME [--pipeline train-pipeline] [--id ID] [--wait] [--no-cache] [--set key.path=value ...]
  arena sweep --config NAME --grid key.path=v1,v2 [--grid ...] [--pipeline P] [--id ID] [--wait] [--no-cache] [--set k=v ...]
                                      one run of P per point of the grids' cartesian product, as child workflows
                                      ID/point-<i> of one 'sweep' workflow; they share every stage the grid does not change
  arena status ID                     print a run's progress (a sweep's: its points)
  arena resume ID [--wait]            re-run ID's input: completed stages come from the cache
  arena runs [--limit N]              list runs with their config and metrics
  arena runs --sweep ID               a sweep's points in one table: grid values, metrics, cached and executed stages
  arena config show NAME              print the resolved config
  arena explain STAGE [--config NAME] [--pipeline P] [--set k=v ...] [--run ID]
                                      print what enters the stage's cache key (with --run: that run's input hashes and key)
  arena logs ID STAGE                 print the logs kept beside a run's entries of STAGE (trainer logs, specs)
  arena package ID [--out DIR] [--kaggle-dataset OWNER/SLUG]
                                      write the run's offline Kaggle inference package (dataset/ and notebook/) to DIR
                                      (default .arena/packages/ID) and print its size and estimated Kaggle run time

  arena store gc [--dry-run] [--keep-days N] [--keep-runs K] [--store DIR]
                                      remove orphaned scratch folders, and outputs and checkpoints that no run of
                                      the last N days (default 7) or K runs per config references, nor a running one
  arena store du [--store DIR]        store size by stage and by run`;

async function main(argv: string[]): Promise<number> {
  // The progress bars are the CLI's output; the in-process worker only speaks up about problems.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const args = parseArgs(argv);
  const [command, ...rest] = args.positional;
  switch (command) {
    case 'main':
      return mainJob(args.flags);
    case 'dev':
      return rest[0] === 'stop' ? (console.log(stopDevServer() ? 'dev server stopped' : 'no dev server was started by arena'), 0) : dev();
    case 'worker':
      return worker();
    case 'run':
      return run(args.flags);
    case 'sweep':
      return sweepCommand(args.flags);
    case 'status':
      return status(required(rest[0], 'status needs a workflow id'));
    case 'resume':
      return resume(required(rest[0], 'resume needs a workflow id'), args.flags);
    case 'runs':
      return runs(args.flags);
    case 'explain':
      return explain(required(rest[0], 'explain needs a stage name'), args.flags);
    case 'logs':
      return logs(required(rest[0], 'logs needs a workflow id'), required(rest[1], 'logs needs a stage name'));
    case 'package':
      return packageCommand(required(rest[0], 'package needs a workflow id'), args.flags);
    case 'store':
      if (rest[0] === 'gc') return storeGcCommand(args.flags);
      if (rest[0] === 'du') return (console.log(storeDu(storeRoot(args.flags))), 0);
      break;
    case 'config':
      if (rest[0] !== 'show') break;
      console.log(stringify(loadConfig(required(rest[1], 'config show needs a config name'))));
      return 0;
  }
  console.error(USAGE);
  return command === undefined || command === 'help' ? 0 : 2;
}

function required(value: string | undefined, message: string): string {
  if (!value) throw new UsageError(message);
  return value;
}

class UsageError extends Error {}

async function client(): Promise<{ client: Client; taskQueue: string; close(): Promise<void> }> {
  const { connection, namespace, taskQueue } = await connectClient();
  return { client: new Client({ connection, namespace }), taskQueue, close: () => connection.close() };
}

async function startWorkerInProcess(): Promise<{ stop(): Promise<void> }> {
  const { connection, namespace, taskQueue } = await connectWorker();
  const workers = await createWorkers({ connection, namespace, taskQueue });
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    stop: async () => {
      for (const w of workers) w.shutdown();
      await running;
      await connection.close();
    },
  };
}

async function mainJob(flags: Flags): Promise<number> {
  const server = await ensureDevServer();
  console.log(server.started ? `started the Temporal dev server (log: ${server.logFile})` : 'using the Temporal server already on localhost:7233');
  const worker = await startWorkerInProcess();
  try {
    const code = await run({ ...flags, config: flags['config'] ?? 'micro', wait: true }, server.uiUrl);
    console.log(`\nThe Temporal UI keeps running at ${server.uiUrl} (stop the server with: npx tsx cli/arena.ts dev stop)`);
    return code;
  } finally {
    await worker.stop();
  }
}

async function dev(): Promise<number> {
  const server = await ensureDevServer();
  console.log(`Temporal dev server: localhost:7233, UI ${server.uiUrl} (cli: ${findTemporalCli()}, log: ${server.logFile})`);
  return worker();
}

async function worker(): Promise<number> {
  const { connection, namespace, taskQueue } = await connectWorker();
  const workers = await createWorkers({ connection, namespace, taskQueue });
  console.log(`worker serving '${taskQueue}' and '${taskQueue}-gpu'; store ${defaultStoreDir()}; Ctrl-C stops it`);
  await Promise.all(workers.map((w) => w.run()));
  await connection.close();
  return 0;
}

type Flags = ReturnType<typeof parseArgs>['flags'];

async function run(flags: Flags, uiUrl = 'http://localhost:8233'): Promise<number> {
  const config = required(typeof flags['config'] === 'string' ? flags['config'] : undefined, 'run needs --config NAME');
  const overrides = parseSetFlags(flags['set']);
  // A bad config is reported here, before a run is started for it; the worker checks it again.
  checkWorkflowOverrides(config, overrides);
  loadConfig(config, { overrides });
  const pipeline = typeof flags['pipeline'] === 'string' ? flags['pipeline'] : 'train-pipeline';
  const input: PipelineInput = { config, overrides, noCache: flags['no-cache'] === true };
  const workflowId = typeof flags['id'] === 'string' ? flags['id'] : `${pipeline}-${config}-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}`;
  const c = await client();
  try {
    const handle = await c.client.workflow.start(pipeline, { taskQueue: c.taskQueue, workflowId, args: [input] });
    console.log(`started ${pipeline} as ${workflowId}\nUI: ${uiUrl}/namespaces/${c.client.options.namespace}/workflows/${workflowId}`);
    return flags['wait'] === true ? await watch(handle) : 0;
  } finally {
    await c.close();
  }
}

async function sweepCommand(flags: Flags): Promise<number> {
  const config = required(typeof flags['config'] === 'string' ? flags['config'] : undefined, 'sweep needs --config NAME');
  const pipeline = typeof flags['pipeline'] === 'string' ? flags['pipeline'] : 'train-pipeline';
  const points = gridPoints(config, flags['grid'], flags['set']);
  checkPipeline(pipeline, config, points, flags['set']);
  const input: SweepInput = { pipeline, config, points, ...(flags['no-cache'] === true ? { noCache: true } : {}) };
  const workflowId = typeof flags['id'] === 'string' ? flags['id'] : `sweep-${config}-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}`;
  const c = await client();
  try {
    const handle = await c.client.workflow.start(SWEEP_WORKFLOW, { taskQueue: c.taskQueue, workflowId, args: [input] });
    console.log(`started a sweep of ${points.length} runs of ${pipeline} as ${workflowId} (children ${workflowId}/point-0 … point-${points.length - 1})`);
    if (flags['wait'] !== true) return 0;
    const started = Date.now();
    let last = '';
    const result = handle.result() as Promise<SweepResult>;
    let finished = false;
    result.then(
      () => (finished = true),
      () => (finished = true),
    );
    // Each time a point changes state, the table again (the children's progress bars are per run: `arena status ID/point-<i>`).
    while (!finished) {
      const states = (await sweepRuns(c.client, workflowId)).map((p) => `${p.workflowId}: ${p.status}`).join('\n');
      if (states !== last) console.log(states);
      last = states;
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
    }
    try {
      const outcome = await result;
      console.log(`\n${renderSweep(outcome.points)}\n\nfinished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    } catch (err) {
      console.log(`\n${renderSweep(await sweepRuns(c.client, workflowId))}`);
      console.error(`\nsweep failed: ${failureMessage(err)}`);
      return 1;
    }
  } finally {
    await c.close();
  }
}

/** Redraws the progress bars until the run closes, then prints where its outputs are. */
async function watch(handle: WorkflowHandle): Promise<number> {
  const tty = process.stdout.isTTY;
  let lastLines = 0;
  let lastText = '';
  const draw = (progress: RunProgress) => {
    const text = renderProgress(progress);
    if (text === lastText) return;
    if (tty && lastLines > 0) process.stdout.write(`\x1b[${lastLines}A\x1b[J`);
    process.stdout.write(`${text}\n`);
    lastLines = text.split('\n').length;
    lastText = text;
  };
  const result = handle.result() as Promise<PipelineResult>;
  let finished = false;
  result.then(
    () => (finished = true),
    () => (finished = true),
  );
  const started = Date.now();
  while (!finished) {
    try {
      draw(await handle.query<RunProgress>('progress'));
    } catch {
      // The first workflow task has not run yet.
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, tty ? 500 : 3000))]);
  }
  try {
    const outcome = await result;
    draw(outcome.progress);
    printOutcome(outcome, (Date.now() - started) / 1000);
    return 0;
  } catch (err) {
    const progress = await handle.query<RunProgress>('progress').catch(() => undefined);
    if (progress) draw(progress);
    const cause = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err);
    console.error(`\nrun failed: ${cause}`);
    return 1;
  }
}

function printOutcome(outcome: PipelineResult, seconds: number): void {
  const where = (stage: string, file: string) => (outcome.stages[stage] ? path.join(outcome.stages[stage].dir, file) : '(no such stage)');
  const m = outcome.metrics ?? {};
  const num = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : 'n/a');
  const tta = (m['tta'] ?? {}) as Record<string, unknown>;
  const baseline = (m['baseline_longer'] ?? {}) as Record<string, unknown>;
  console.log(`
finished in ${seconds.toFixed(1)} s${m['synthetic'] === true ? '  (SYNTHETIC DATA: no competition files were found under data/raw)' : ''}
validation accuracy ${num(m['accuracy'])}  log loss ${num(m['log_loss'])}  with swap-TTA ${num(tta['accuracy'])}  longer-answer baseline ${num(baseline['accuracy'])}
submission: ${where('submit', 'submission.csv')}
metrics:    ${where('evaluate', 'metrics.json')}
report:     ${where('evaluate', 'report.html')}${outcome.stages['package']?.summary['packaged'] === true ? `\nkaggle:     ${where('package', 'dataset')} and ${where('package', 'notebook')}` : ''}`);
}

async function explain(stage: string, flags: Flags): Promise<number> {
  const config = loadConfig(typeof flags['config'] === 'string' ? flags['config'] : 'micro', { overrides: parseSetFlags(flags['set']) });
  const pipeline = loadPipeline(typeof flags['pipeline'] === 'string' ? flags['pipeline'] : 'train-pipeline', config);
  let run: Map<string, StageResult> | undefined;
  if (typeof flags['run'] === 'string') {
    const c = await client();
    try {
      run = await stageResultsOf(c.client.workflow.getHandle(flags['run']));
    } finally {
      await c.close();
    }
  }
  console.log(await explainStage(pipeline, config, stage, REPO_ROOT, run));
  return 0;
}

async function logs(workflowId: string, stage: string): Promise<number> {
  const c = await client();
  try {
    const results = resultsOfStage(await stageResultsOf(c.client.workflow.getHandle(workflowId)), stage);
    if (results.length === 0) {
      console.error(`${workflowId} has no completed '${stage}' entry (a failed attempt's folder, logs included, is under ${path.join(defaultStoreDir(), 'failed')})`);
      return 1;
    }
    console.log(stageLogs(defaultStoreDir(), results));
    return 0;
  } finally {
    await c.close();
  }
}

async function packageCommand(workflowId: string, flags: Flags): Promise<number> {
  const c = await client();
  try {
    const { text } = await packageRun(c.client.workflow.getHandle(workflowId), {
      workflowId,
      outDir: path.resolve(typeof flags['out'] === 'string' ? flags['out'] : path.join(REPO_ROOT, '.arena', 'packages', workflowId)),
      ...(typeof flags['kaggle-dataset'] === 'string' ? { kaggleDataset: flags['kaggle-dataset'] } : {}),
      repoRoot: REPO_ROOT,
    });
    console.log(text);
    return 0;
  } finally {
    await c.close();
  }
}

async function status(workflowId: string): Promise<number> {
  const c = await client();
  try {
    const handle = c.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    if (description.type === SWEEP_WORKFLOW) {
      console.log(`${workflowId} (${description.status.name})\n${renderSweep(await sweepRuns(c.client, workflowId))}`);
      return 0;
    }
    // A closed run's result holds its final progress; the query needs a worker to answer.
    const progress =
      description.status.name === 'COMPLETED'
        ? ((await handle.result()) as PipelineResult).progress
        : await handle.query<RunProgress>('progress').catch(() => undefined);
    console.log(`${workflowId} (${description.status.name})`);
    console.log(progress ? renderProgress(progress) : 'no worker is running to answer the progress query: start one with `arena worker`');
    return 0;
  } finally {
    await c.close();
  }
}

async function resume(workflowId: string, flags: Flags): Promise<number> {
  const c = await client();
  try {
    const previous = c.client.workflow.getHandle(workflowId);
    const description = await previous.describe();
    const history = await previous.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = started?.input?.payloads?.[0];
    if (!payload) throw new UsageError(`${workflowId}: its history has no input`);
    const input = c.client.options.loadedDataConverter.payloadConverter.fromPayload<PipelineInput>(payload);
    if (description.status.name === 'RUNNING') throw new UsageError(`${workflowId} is still running`);
    const handle = await c.client.workflow.start(description.type, { taskQueue: description.taskQueue, workflowId, args: [input] });
    console.log(`resumed ${workflowId} (new run ${handle.firstExecutionRunId}); completed stages come from the cache`);
    return flags['wait'] === true ? await watch(handle) : 0;
  } finally {
    await c.close();
  }
}

function storeRoot(flags: Flags): string {
  return typeof flags['store'] === 'string' ? path.resolve(flags['store']) : defaultStoreDir();
}

async function storeGcCommand(flags: Flags): Promise<number> {
  const c = await client();
  try {
    const policy = gcPolicy(flags, await runningWorkflowIds(c.client));
    console.log(storeGc(storeRoot(flags), policy, flags['dry-run'] === true));
    return 0;
  } finally {
    await c.close();
  }
}

async function runs(flags: Flags): Promise<number> {
  const c = await client();
  try {
    if (typeof flags['sweep'] === 'string') {
      const points = await sweepRuns(c.client, flags['sweep']);
      if (points.length === 0) throw new Error(`the server lists no child runs of '${flags['sweep']}': not a sweep's id, or it has started none yet`);
      console.log(renderSweep(points));
      return 0;
    }
    console.log(await listRuns(c.client, Number(flags['limit'] ?? 20)));
    return 0;
  } finally {
    await c.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof UsageError ? `arena: ${err.message}\n\n${USAGE}` : err instanceof Error ? `arena: ${err.message}` : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
