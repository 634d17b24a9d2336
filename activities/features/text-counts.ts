import fs from 'node:fs';
import path from 'node:path';
import {
  BLOB,
  DuckDBBlobVector,
  DuckDBConnection,
  DuckDBIntegerVector,
  DuckDBScalarFunction,
  DuckDBStructVector,
  INTEGER,
  STRUCT,
} from '@duckdb/node-api';

/**
 * The per-text counts behind the reference features: each is what Python's `re` (pandas
 * `str.count`, non-overlapping matches) returns for one pattern of the reference project.
 *
 * Why a scalar function and not pure SQL: DuckDB's regexes (RE2) have ASCII-only \s \d \w, and
 * the exact SQL formulations we measured touch each character once per class at 5-30 ns a time:
 * unnest(string_split(text, '')) joined to a class table cannot pass about 5x the Python reference
 * on 2 cores, a chain of translate/regexp_replace over Python's class ranges reached 6x. One pass
 * over the UTF-8 bytes with a per-code-point lookup table does every count at once: about 20x for
 * this step (bench/features.ts). The table comes from Python itself (python-char-classes.json), so
 * \s \d \w are the interpreter's, not Node's newer Unicode. The features are still SQL over these
 * counts (text_features.sql).
 */
export interface TextCounts {
  /** len(text): code points */
  chars: number;
  /** \s */
  spaces: number;
  /** ,|\.|! */
  punct: number;
  /** \? */
  question: number;
  /** '|" */
  quotes: number;
  /** \*|\_ */
  formatting: number;
  /** \-|\+|\= */
  math: number;
  curly_open: number;
  curly_close: number;
  round_open: number;
  round_close: number;
  /** \W */
  nonword: number;
  /** \d */
  digits: number;
  /** [a-z] */
  lower: number;
  /** [A-Z] */
  upper: number;
  /** [\u4e00-\u9fff]+ */
  cjk_runs: number;
  /** text.lower().count('json') */
  json: number;
}

export const TEXT_COUNT_NAMES: readonly (keyof TextCounts)[] = [
  'chars', 'spaces', 'punct', 'question', 'quotes', 'formatting', 'math', 'curly_open', 'curly_close',
  'round_open', 'round_close', 'nonword', 'digits', 'lower', 'upper', 'cjk_runs', 'json',
];

interface PythonCharClasses {
  python: string;
  unicode: string;
  classes: { space: [number, number][]; digit: [number, number][]; word: [number, number][] };
}

export const PYTHON_CHAR_CLASSES_FILE = path.join(__dirname, 'python-char-classes.json');

const SPACE = 1;
const DIGIT = 2;
const WORD = 4;
const KINDS = 8;

/** Class bits of every code point, as Python's `re` sees it. */
const kindOf = (() => {
  const table = JSON.parse(fs.readFileSync(PYTHON_CHAR_CLASSES_FILE, 'utf8')) as PythonCharClasses;
  const kinds = new Uint8Array(0x110000);
  const mark = (ranges: [number, number][], bit: number) => {
    for (const [lo, hi] of ranges) for (let cp = lo; cp <= hi; cp++) kinds[cp] |= bit;
  };
  mark(table.classes.space, SPACE);
  mark(table.classes.digit, DIGIT);
  mark(table.classes.word, WORD);
  return kinds;
})();

const code = (ch: string) => ch.charCodeAt(0);
const codes = (chars: string) => Array.from(chars, code);
const asciiWith = (bit: number, present: boolean) =>
  Array.from({ length: 128 }, (_, c) => c).filter((c) => ((kindOf[c] & bit) !== 0) === present);
const kindsWith = (bit: number, present: boolean) =>
  Array.from({ length: KINDS }, (_, k) => k).filter((k) => ((k & bit) !== 0) === present);

/** Which ASCII characters / non-ASCII kinds each count sums; literal patterns are ASCII-only. */
const SUMS: Record<Exclude<keyof TextCounts, 'chars' | 'cjk_runs' | 'json'>, { ascii: number[]; kinds: number[] }> = {
  spaces: { ascii: asciiWith(SPACE, true), kinds: kindsWith(SPACE, true) },
  punct: { ascii: codes(',.!'), kinds: [] },
  question: { ascii: codes('?'), kinds: [] },
  quotes: { ascii: codes('\'"'), kinds: [] },
  formatting: { ascii: codes('*_'), kinds: [] },
  math: { ascii: codes('-+='), kinds: [] },
  curly_open: { ascii: codes('{'), kinds: [] },
  curly_close: { ascii: codes('}'), kinds: [] },
  round_open: { ascii: codes('('), kinds: [] },
  round_close: { ascii: codes(')'), kinds: [] },
  nonword: { ascii: asciiWith(WORD, false), kinds: kindsWith(WORD, false) },
  digits: { ascii: asciiWith(DIGIT, true), kinds: kindsWith(DIGIT, true) },
  lower: { ascii: codes('abcdefghijklmnopqrstuvwxyz'), kinds: [] },
  upper: { ascii: codes('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), kinds: [] },
};
const SUM_ENTRIES = Object.entries(SUMS) as [keyof typeof SUMS, { ascii: number[]; kinds: number[] }][];


const asciiCounts = new Uint32Array(128);
const kindCounts = new Uint32Array(KINDS);

/**
 * The counts of one text given as UTF-8 (DuckDB's own bytes: decoding to a JavaScript string
 * first costs about a third of the time), with Python `re` semantics over code points.
 */
export function countUtf8(bytes: Uint8Array): TextCounts {
  asciiCounts.fill(0);
  kindCounts.fill(0);
  let cjkRuns = 0;
  // Byte offset just past the last CJK character: a run goes on when the next one starts there.
  let cjkEnd = -1;
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const lead = bytes[i];
    if (lead < 0x80) {
      asciiCounts[lead]++;
      i++;
      continue;
    }
    const start = i;
    let cp: number;
    if (lead < 0xe0) {
      cp = ((lead & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
      i += 2;
    } else if (lead < 0xf0) {
      cp = ((lead & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      i += 3;
    } else {
      cp = ((lead & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      i += 4;
    }
    kindCounts[kindOf[cp]]++;
    if (cp >= 0x4e00 && cp <= 0x9fff) {
      if (start !== cjkEnd) cjkRuns++;
      cjkEnd = i;
    }
  }
  let chars = 0;
  for (let c = 0; c < 128; c++) chars += asciiCounts[c];
  for (let k = 0; k < KINDS; k++) chars += kindCounts[k];
  const counts = { chars, cjk_runs: cjkRuns, json: countJson(bytes) } as TextCounts;
  for (const [name, sum] of SUM_ENTRIES) {
    let total = 0;
    for (const c of sum.ascii) total += asciiCounts[c];
    for (const k of sum.kinds) total += kindCounts[k];
    counts[name] = total;
  }
  return counts;
}

// No code point other than jJsSoOnN lower-cases to a string holding j, s, o or n (checked against
// Python in the tests), so Python's text.lower().count('json') counts [jJ][sS][oO][nN] in the
// original text; the word cannot overlap itself, so counting every occurrence is the same.
function countJson(bytes: Uint8Array): number {
  if (asciiCounts[0x6a] + asciiCounts[0x4a] === 0 || asciiCounts[0x6e] + asciiCounts[0x4e] === 0) return 0;
  let found = 0;
  for (let i = 0; i + 3 < bytes.length; i++) {
    if ((bytes[i] | 0x20) === 0x6a && (bytes[i + 1] | 0x20) === 0x73 && (bytes[i + 2] | 0x20) === 0x6f && (bytes[i + 3] | 0x20) === 0x6e) {
      found++;
      i += 3;
    }
  }
  return found;
}

/**
 * Registers `text_counts(VARCHAR) -> STRUCT(<TEXT_COUNT_NAMES> INTEGER)` on the connection (NULL in,
 * NULL out): a macro handing the text's UTF-8 bytes to the JavaScript counter.
 */
export async function registerTextCounts(connection: DuckDBConnection): Promise<void> {
  const returnType = STRUCT(Object.fromEntries(TEXT_COUNT_NAMES.map((name) => [name, INTEGER])));
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: 'text_counts_utf8',
      returnType,
      parameterTypes: [BLOB],
      mainFunction: (_info, input, output) => {
        const texts = input.getColumnVector(0) as DuckDBBlobVector;
        const result = output as DuckDBStructVector;
        const fields = TEXT_COUNT_NAMES.map((_, i) => result.entryVectorAt(i) as DuckDBIntegerVector);
        for (let row = 0; row < input.rowCount; row++) {
          const bytes = texts.getItemBytes(row);
          if (bytes === null) {
            result.setItem(row, null);
            continue;
          }
          const counts = countUtf8(bytes);
          for (let i = 0; i < fields.length; i++) fields[i].setItem(row, counts[TEXT_COUNT_NAMES[i]]);
        }
        result.flush();
      },
    }),
  );
  await connection.run('CREATE OR REPLACE TEMP MACRO text_counts(text) AS text_counts_utf8(encode(text))');
}
