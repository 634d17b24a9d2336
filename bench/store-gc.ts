/**
 * What the store holds after 20 runs of `micro` with different overrides (seed, epochs, head
 * learning rate) on the real sample, four at a time, and what `arena store gc --keep-runs 5` and
 * `--keep-days 7` leave. Prints sizes by the store's own du and the bytes gc frees.
 * Run: npx tsx bench/store-gc.ts
 */
import { gcPolicy, storeGc } from '../cli/store';
import { formatBytes, storeUsage } from '../lib/store/du';
import { sampleData, startRun, tempDir } from '../test/helpers/temporal';
import { TemporalSession } from '../test/helpers/temporal-session';

const RUNS = 20;
const AT_ONCE = 4;

async function main(): Promise<void> {
  process.env['ARENA_DATA_DIR'] = tempDir('no-data');
  const session = new TemporalSession();
  try {
    await session.start();
    const store = session.tempDir('bench-gc');
    await session.startWorkers({ taskQueue: 'bench-gc', storeDir: store, devices: 2 });
    const started = Date.now();
    for (let first = 0; first < RUNS; first += AT_ONCE) {
      await Promise.all(
        Array.from({ length: AT_ONCE }, async (_, j) => {
          const i = first + j;
          const overrides = { ...sampleData(), seed: 100 + (i % 5), trainer: { epochs: 1 + (i % 2), lr: { head: 5e-4 * (1 + Math.floor(i / 10)) } } };
          await (await startRun(session.env, 'bench-gc', `bench-gc-${String(i).padStart(2, '0')}`, { config: 'micro', overrides })).result();
        }),
      );
    }
    console.log(`${RUNS} runs in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const size = () => formatBytes(storeUsage(store).total);
    console.log(`store after ${RUNS} runs: ${size()}`);
    const policies: Record<string, string>[] = [{ 'keep-days': '7' }, { 'keep-runs': '5' }, { 'keep-runs': '1' }];
    for (const flags of policies) {
      const summary = storeGc(store, gcPolicy(flags, new Set()), false).split('\n').at(-1);
      console.log(`gc ${JSON.stringify(flags)}: ${summary}; store now ${size()}`);
    }
  } finally {
    await session.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
