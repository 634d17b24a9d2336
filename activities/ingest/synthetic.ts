import fs from 'node:fs';
import path from 'node:path';
import { ident, joinSql, loadSql, setVariables, withDuckDB, writeAtomically } from '../../lib/duckdb';
import { LANGUAGE_BANKS, type LanguageBank, MODEL_NAMES } from './synthetic-text';
import { codeFile } from '../../lib/stage-contract/code-file';

export interface SyntheticOptions {
  rows: number;
  testRows: number;
  seed: number;
  trainPath: string;
  testPath: string;
}

/** How often the good answer wins: the learnable signal, with label noise beside it. */
const GOOD_ANSWER_WIN_RATE = 0.75;

/** mulberry32: a small, fast, seedable generator; the same seed gives the same dataset everywhere. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Row = { id: string; prompt: string; response_a: string; response_b: string; winner: string; model_a: string; model_b: string; language: string };

function generateRows(count: number, seed: number, idPrefix: string): Row[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const shuffle = <T>(items: readonly T[]): T[] => {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  };
  const totalWeight = LANGUAGE_BANKS.reduce((sum, bank) => sum + bank.weight, 0);
  const pickLanguage = (): LanguageBank => {
    let left = next() * totalWeight;
    for (const bank of LANGUAGE_BANKS) {
      left -= bank.weight;
      if (left < 0) return bank;
    }
    return LANGUAGE_BANKS[0]!;
  };
  const goodAnswer = (bank: LanguageBank, topic: string): string => {
    const points = shuffle(bank.points).slice(0, 2 + Math.floor(next() * (bank.points.length - 1)));
    const list = points.map((point, i) => `${i + 1}. ${point(topic)}`).join('\n');
    return `${bank.intro(topic)}\n\n${list}\n\n${bank.conclusion(topic)}`;
  };
  // Sometimes long: length alone must not give the answer away.
  const weakAnswer = (bank: LanguageBank): string =>
    Array.from({ length: 1 + Math.floor(next() * next() * 6) }, () => pick(bank.weak)).join(' ');

  return Array.from({ length: count }, (_, i) => {
    const bank = pickLanguage();
    const topic = pick(bank.topics);
    const good = goodAnswer(bank, topic);
    const weak = weakAnswer(bank);
    const goodIsA = next() < 0.5;
    const goodWins = next() < GOOD_ANSWER_WIN_RATE;
    const modelA = pick(MODEL_NAMES);
    let modelB = pick(MODEL_NAMES);
    if (modelB === modelA) modelB = MODEL_NAMES[(MODEL_NAMES.indexOf(modelA) + 1) % MODEL_NAMES.length]!;
    return {
      id: `${idPrefix}-${String(i + 1).padStart(6, '0')}`,
      prompt: pick(bank.prompts)(topic) + bank.limit(50 + 10 * Math.floor(next() * 46)),
      response_a: goodIsA ? good : weak,
      response_b: goodIsA ? weak : good,
      winner: goodIsA === goodWins ? 'model_a' : 'model_b',
      model_a: modelA,
      model_b: modelB,
      language: bank.name,
    };
  });
}

/** Writes rows as a JSON file that DuckDB turns into parquet carrying the synthetic marker. */
async function writeParquet(rows: Row[], columns: (keyof Row)[], output: string): Promise<void> {
  await writeAtomically([output], ([temp]) =>
    withDuckDB(async (connection) => {
      const json = `${temp}.json`;
      try {
        fs.writeFileSync(json, JSON.stringify(rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c]])))));
        await setVariables(connection, { json_path: json, output_path: temp! });
        await connection.run(loadSql(codeFile(__dirname, 'write-synthetic.sql'), { columns: joinSql(columns.map(ident)) }));
      } finally {
        fs.rmSync(json, { force: true });
      }
    }),
  );
}

/**
 * A small deterministic WSDM-format dataset for runs without real data: train (with winner) and
 * test (without), in seven languages and five scripts. The more structured answer that names the
 * prompt's topic wins 75% of the time. Both files carry the parquet key-value metadata
 * `arena_source=synthetic`, so `ingest` labels their rows source 'synthetic'.
 */
export async function generateSynthetic(opts: SyntheticOptions): Promise<void> {
  fs.mkdirSync(path.dirname(opts.trainPath), { recursive: true });
  fs.mkdirSync(path.dirname(opts.testPath), { recursive: true });
  const trainColumns: (keyof Row)[] = ['id', 'prompt', 'response_a', 'response_b', 'winner', 'model_a', 'model_b', 'language'];
  const testColumns: (keyof Row)[] = ['id', 'prompt', 'response_a', 'response_b', 'language'];
  await writeParquet(generateRows(opts.rows, opts.seed, 'syn'), trainColumns, opts.trainPath);
  // A different stream for the test rows, so that they are not copies of training rows.
  await writeParquet(generateRows(opts.testRows, opts.seed ^ 0x5eed7e57, 'syn-test'), testColumns, opts.testPath);
}
