import fs from 'node:fs';
import { codeFile } from '../../lib/stage-contract/code-file';

/**
 * The per-text counts behind the reference features: each is what Python's `re` (pandas
 * `str.count`, non-overlapping matches) returns for one pattern of the reference project.
 *
 * Why JavaScript and not SQL: DuckDB's regexes (RE2) have ASCII-only \s \d \w, and the exact SQL
 * formulations we measured touch each character once per class at 5-30 ns a time (about 5-6x the
 * Python reference on 2 cores). One pass over the UTF-8 bytes with a per-code-point lookup table
 * does every count at once. The table comes from Python itself (python-char-classes.json), so
 * \s \d \w are the interpreter's, not Node's newer Unicode. The features are still SQL over these
 * counts (text_features.sql).
 */
export const TEXT_COUNT_NAMES = [
  'chars', // len(text): code points
  'spaces', // \s
  'punct', // ,|\.|!
  'question', // \?
  'quotes', // '|"
  'formatting', // \*|\_
  'math', // \-|\+|\=
  'curly_open',
  'curly_close',
  'round_open',
  'round_close',
  'nonword', // \W
  'digits', // \d
  'lower', // [a-z]
  'upper', // [A-Z]
  'cjk_runs', // [\u4e00-\u9fff]+
  'json', // text.lower().count('json')
] as const;

export type TextCountName = (typeof TEXT_COUNT_NAMES)[number];

interface PythonCharClasses {
  python: string;
  unicode: string;
  classes: { space: [number, number][]; digit: [number, number][]; word: [number, number][] };
}

export const PYTHON_CHAR_CLASSES_FILE = codeFile(__dirname, 'python-char-classes.json');

const SPACE = 1;
const DIGIT = 2;
const WORD = 4;
const KINDS = 8;

/** Class bits (SPACE | DIGIT | WORD) of every code point, as Python's `re` sees it. */
export function pythonCharKinds(into: Uint8Array = new Uint8Array(0x110000)): Uint8Array {
  const table = JSON.parse(fs.readFileSync(PYTHON_CHAR_CLASSES_FILE, 'utf8')) as PythonCharClasses;
  const mark = (ranges: [number, number][], bit: number) => {
    for (const [lo, hi] of ranges) for (let cp = lo; cp <= hi; cp++) into[cp] |= bit;
  };
  mark(table.classes.space, SPACE);
  mark(table.classes.digit, DIGIT);
  mark(table.classes.word, WORD);
  return into;
}

const SUMMED = TEXT_COUNT_NAMES.filter((name) => name !== 'chars' && name !== 'cjk_runs' && name !== 'json');
const CHARS_AT = TEXT_COUNT_NAMES.indexOf('chars');
const CJK_RUNS_AT = TEXT_COUNT_NAMES.indexOf('cjk_runs');
const JSON_AT = TEXT_COUNT_NAMES.indexOf('json');

/** Whether a code point, by its Python class bits, is in each summed count; literal patterns are ASCII-only. */
function summedMembership(cp: number, kind: number): boolean[] {
  const ascii = cp < 0x80;
  const is = (chars: string) => ascii && chars.includes(String.fromCharCode(cp));
  const rules: Record<(typeof SUMMED)[number], boolean> = {
    spaces: (kind & SPACE) !== 0,
    punct: is(',.!'),
    question: is('?'),
    quotes: is('\'"'),
    formatting: is('*_'),
    math: is('-+='),
    curly_open: is('{'),
    curly_close: is('}'),
    round_open: is('('),
    round_close: is(')'),
    nonword: (kind & WORD) === 0,
    digits: (kind & DIGIT) !== 0,
    lower: is('abcdefghijklmnopqrstuvwxyz'),
    upper: is('ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  };
  return SUMMED.map((name) => rules[name]);
}

/**
 * Code points grouped by which counts they are in (a few dozen groups): the pass over the text
 * only tallies groups, and each count is then the sum of its groups' tallies.
 */
export interface CharGroups {
  /** The group of every code point. */
  groupOf: Uint8Array;
  groups: number;
  /** For each summed count (SUMMED order), the groups it adds up. */
  members: number[][];
}

export function charGroups(kinds: Uint8Array): CharGroups {
  const bySignature = new Map<string, number>();
  const signatures: boolean[][] = [];
  const groupOfKind = new Uint8Array(KINDS);
  const groupOf = new Uint8Array(0x110000);
  const groupFor = (cp: number, kind: number) => {
    const membership = summedMembership(cp, kind);
    const key = membership.map(Number).join('');
    if (!bySignature.has(key)) {
      bySignature.set(key, signatures.length);
      signatures.push(membership);
    }
    return bySignature.get(key)!;
  };
  // Beyond ASCII only the class bits matter, so each kind is classified once.
  for (let kind = 0; kind < KINDS; kind++) groupOfKind[kind] = groupFor(0x80, kind);
  for (let cp = 0; cp < 0x80; cp++) groupOf[cp] = groupFor(cp, kinds[cp]);
  for (let cp = 0x80; cp < 0x110000; cp++) groupOf[cp] = groupOfKind[kinds[cp]];
  const groupsWith = (at: number) => signatures.flatMap((membership, group) => (membership[at] ? [group] : []));
  return { groupOf, groups: signatures.length, members: SUMMED.map((_, i) => groupsWith(i)) };
}

/**
 * Counts texts given as UTF-8 (DuckDB's own bytes: decoding to a JavaScript string first costs
 * about a third of the time), with Python `re` semantics over code points.
 */
export class TextCounter {
  private readonly tallies: Uint32Array;
  private readonly groupOf: Uint8Array;
  private readonly sums: { at: number; groups: Int32Array }[];

  constructor(kinds: Uint8Array) {
    const groups = charGroups(kinds);
    this.groupOf = groups.groupOf;
    this.tallies = new Uint32Array(groups.groups);
    this.sums = SUMMED.map((name, i) => ({ at: TEXT_COUNT_NAMES.indexOf(name), groups: Int32Array.from(groups.members[i]) }));
  }

  /** Writes the counts of bytes[start, end) to out[at ..], in TEXT_COUNT_NAMES order. */
  countInto(bytes: Uint8Array, start: number, end: number, out: Int32Array, at: number): void {
    const { tallies, groupOf } = this;
    tallies.fill(0);
    let json = 0;
    let cjkRuns = 0;
    // Byte offset just past the last CJK character: a run goes on when the next one starts there.
    let cjkEnd = -1;
    // Bytes beyond the first of multi-byte characters: the length in code points is the rest.
    let trailing = 0;
    let i = start;
    while (i < end) {
      const lead = bytes[i];
      if (lead < 0x80) {
        tallies[groupOf[lead]]++;
        // No code point other than jJsSoOnN lower-cases to a string holding j, s, o or n (checked
        // against Python in the tests), so Python's text.lower().count('json') counts
        // [jJ][sS][oO][nN] in the original text; the word cannot overlap itself.
        if ((lead | 0x20) === 0x6a && i + 3 < end && (bytes[i + 1] | 0x20) === 0x73 && (bytes[i + 2] | 0x20) === 0x6f && (bytes[i + 3] | 0x20) === 0x6e) {
          json++;
        }
        i++;
        continue;
      }
      const first = i;
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
      trailing += i - first - 1;
      tallies[groupOf[cp]]++;
      if (cp >= 0x4e00 && cp <= 0x9fff) {
        if (first !== cjkEnd) cjkRuns++;
        cjkEnd = i;
      }
    }
    out[at + CHARS_AT] = end - start - trailing;
    out[at + CJK_RUNS_AT] = cjkRuns;
    out[at + JSON_AT] = json;
    for (const { at: countAt, groups } of this.sums) {
      let total = 0;
      for (let g = 0; g < groups.length; g++) total += tallies[groups[g]];
      out[at + countAt] = total;
    }
  }
}
