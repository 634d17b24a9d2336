/**
 * The fault campaign (issue 10): N kills spread over every stage of train-pipeline on micro with the
 * real sample, each at a random moment of the stage it aims at, each mode in turn: SIGKILL of the
 * worker's process group, SIGTERM of the worker (graceful pre-emption), SIGKILL of the Temporal
 * server then a restart, and (train only) a GPU worker killed while a second one with an empty disk
 * takes over from the remote store (moto S3). Workers are separate processes; every run is compared
 * with one undisturbed run of the same input.
 *
 *   npm run bench:faults                   # 20 kills, one per run
 *   npx tsx bench/faults.ts 20 2 7         # 20 kills, 2 per run (in different stages), seed 7
 *
 * Prints, per stage hit: kills, completed runs, runs whose metrics equal the undisturbed run's,
 * worst and median time lost, train steps redone after a SIGTERM, and `*.tmp-*` folders left.
 */
import { Mulberry32 } from '../trainers/cpu/rng';
import { FaultCampaign, PIPELINE_STAGES, type Fault, type FaultMode, type RunOutcome } from '../test/helpers/faults';
import { sampleData } from '../test/helpers/temporal';

const KILLS = Number(process.argv[2] ?? 20);
const PER_RUN = Number(process.argv[3] ?? 1);
const SEED = Number(process.argv[4] ?? 1);

const MODES_OF: Record<string, FaultMode[]> = {
  train: ['sigterm-worker', 'gpu-takeover', 'sigkill-worker', 'sigkill-server'],
  other: ['sigkill-worker', 'sigterm-worker', 'sigkill-server'],
};

/** Kill i aims at stage i mod 7; each stage cycles through its modes; the moment is random. */
function schedule(): Fault[][] {
  const rng = new Mulberry32(SEED);
  const faults = Array.from({ length: KILLS }, (_, i): Fault => {
    const stage = PIPELINE_STAGES[i % PIPELINE_STAGES.length]!;
    const modes = MODES_OF[stage === 'train' ? 'train' : 'other']!;
    const mode = modes[Math.floor(i / PIPELINE_STAGES.length) % modes.length]!;
    // A SIGTERM in train aims at a shard mid-round (round 0 is the first ~40% of the stage), so that
    // it measures the steps a pre-empted trainer loses; elsewhere in train it would find a merge or export.
    if (stage === 'train' && mode === 'sigterm-worker') return { mode, stage, at: rng.next() * 0.35, afterCheckpoint: true };
    return { mode, stage, at: rng.next() * 0.9 };
  });
  const runs: Fault[][] = [];
  for (let i = 0; i < faults.length; i += PER_RUN) {
    runs.push(faults.slice(i, i + PER_RUN).sort((a, b) => PIPELINE_STAGES.indexOf(a.stage as never) - PIPELINE_STAGES.indexOf(b.stage as never)));
  }
  return runs;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function report(outcomes: RunOutcome[]): string {
  const rows = new Map<string, { kills: number; modes: string[]; completed: number; identical: number; lost: number[]; redone: number[]; tmp: number }>();
  for (const run of outcomes) {
    for (const fault of run.faults) {
      const key = fault.hit.length > 0 ? fault.hit.join('+') : `(${fault.stage} had ended)`;
      const row = rows.get(key) ?? { kills: 0, modes: [], completed: 0, identical: 0, lost: [], redone: [], tmp: 0 };
      row.kills++;
      row.modes.push(fault.mode);
      if (run.completed) row.completed++;
      if (run.identical) row.identical++;
      // One kill a run: the run's loss is the kill's; several: the loss of the stage it aimed at.
      row.lost.push(run.faults.length === 1 ? run.lostSeconds : (run.stageLost[fault.stage] ?? 0));
      if (fault.mode === 'sigterm-worker') row.redone.push(...run.stepsRedoneAfterSigterm);
      row.tmp += run.tmpLeft.filter((t) => fault.hit.some((stage) => t.includes(`/${stage}/`))).length;
      rows.set(key, row);
    }
  }
  const lines = [
    '| stage hit | kills | modes | completed | identical metrics | time lost worst / median (s) | steps redone after SIGTERM | tmp folders left |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [stage, r] of [...rows].sort()) {
    const modes = [...new Set(r.modes)].map((m) => `${m} ×${r.modes.filter((x) => x === m).length}`).join(', ');
    lines.push(
      `| ${stage} | ${r.kills} | ${modes} | ${r.completed} | ${r.identical} | ${Math.max(...r.lost).toFixed(1)} / ${median(r.lost).toFixed(1)} | ${r.redone.length ? r.redone.join(', ') : '—'} | ${r.tmp} |`,
    );
  }
  const kills = outcomes.reduce((n, r) => n + r.faults.length, 0);
  lines.push('', `${kills} kills in ${outcomes.length} runs: ${outcomes.filter((r) => r.completed).length} completed, ${outcomes.filter((r) => r.identical).length} with the undisturbed metrics`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const input = { config: 'micro', overrides: sampleData() };
  const campaign = await FaultCampaign.start(input, (line) => console.log(line));
  const outcomes: RunOutcome[] = [];
  try {
    const baseline = await campaign.baseline();
    console.log(`undisturbed run: ${baseline.seconds.toFixed(1)} s; stages: ${Object.entries(baseline.stageSeconds).map(([s, t]) => `${s} ${t.toFixed(1)} s`).join(', ')}`);
    for (const [i, faults] of schedule().entries()) {
      const outcome = await campaign.run(`run${i}`, faults, baseline);
      outcomes.push(outcome);
      console.log(
        `${outcome.name}: ${outcome.completed ? 'completed' : `FAILED (${outcome.error})`}, ${outcome.identical ? 'identical' : 'DIFFERENT'} metrics, ${outcome.seconds.toFixed(1)} s (lost ${outcome.lostSeconds.toFixed(1)} s), failures ${JSON.stringify(outcome.failures)}, redone after SIGTERM ${JSON.stringify(outcome.stepsRedoneAfterSigterm)}, tmp left ${outcome.tmpLeft.length}`,
      );
    }
  } finally {
    await campaign.stop();
  }
  console.log(`\nseed ${SEED}, ${PER_RUN} kill(s) a run\n${report(outcomes)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
