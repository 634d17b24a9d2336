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

/**
 * What a simulated judge values in an answer, on a logit scale: being in the prompt's language,
 * formatting, not refusing, and length with diminishing returns (the log of the number of points).
 * The judge prefers A with probability sigmoid(utility(A) - utility(B)), which is the noise.
 */
const JUDGE = { inPromptLanguage: 3.0, formatted: 1.2, refusal: -3.5, logPoints: 0.8 };
/** How often an answer is in another language than the prompt's, a refusal, formatted. */
const ANSWER_MIX = { otherLanguage: 0.25, refusal: 0.12, formatted: 0.5 };

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
  /** One answer and the judge's utility of it. The topic is the same one, in the answer's language. */
  const answer = (promptBank: LanguageBank, topicIndex: number): { text: string; utility: number } => {
    const bank = next() < ANSWER_MIX.otherLanguage ? pick(LANGUAGE_BANKS.filter((b) => b !== promptBank)) : promptBank;
    const topic = bank.topics[topicIndex % bank.topics.length]!;
    const inLanguage = bank === promptBank ? JUDGE.inPromptLanguage : 0;
    if (next() < ANSWER_MIX.refusal) return { text: bank.refusal(topic), utility: inLanguage + JUDGE.refusal };
    // 0 points: a weak one-liner; more points, longer answers, each worth less than the one before.
    const points = Math.floor(next() * (bank.points.length + 1));
    if (points === 0) return { text: pick(bank.weak), utility: inLanguage };
    const chosen = shuffle(bank.points).slice(0, points).map((point) => point(topic));
    const formatted = next() < ANSWER_MIX.formatted;
    const text = formatted
      ? `${bank.intro(topic)}\n\n${chosen.map((point, i) => `${i + 1}. ${point}`).join('\n')}\n\n${bank.conclusion(topic)}`
      : [bank.intro(topic).replaceAll('**', ''), ...chosen, bank.conclusion(topic)].join(' ');
    return { text, utility: inLanguage + (formatted ? JUDGE.formatted : 0) + JUDGE.logPoints * Math.log1p(points) };
  };

  return Array.from({ length: count }, (_, i) => {
    const bank = pickLanguage();
    const topicIndex = Math.floor(next() * bank.topics.length);
    const a = answer(bank, topicIndex);
    const b = answer(bank, topicIndex);
    const pA = 1 / (1 + Math.exp(b.utility - a.utility));
    const modelA = pick(MODEL_NAMES);
    let modelB = pick(MODEL_NAMES);
    if (modelB === modelA) modelB = MODEL_NAMES[(MODEL_NAMES.indexOf(modelA) + 1) % MODEL_NAMES.length]!;
    return {
      id: `${idPrefix}-${String(i + 1).padStart(6, '0')}`,
      prompt: pick(bank.prompts)(bank.topics[topicIndex]!) + bank.limit(50 + 10 * Math.floor(next() * 46)),
      response_a: a.text,
      response_b: b.text,
      winner: next() < pA ? 'model_a' : 'model_b',
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
 * test (without), in 13 of WSDM's languages at its proportions (English about half) and in their
 * scripts. A simulated judge (JUDGE) prefers answers in the prompt's language, formatted, not
 * refusals, and longer with diminishing returns, with noise: a longer answer (a refusal, one in
 * another language) often loses, so "the longer answer wins" is a weak baseline. Both files carry the parquet key-value metadata
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
