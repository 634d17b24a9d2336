import fs from 'node:fs';
import path from 'node:path';
import { codeFile } from './stage-contract/code-file';

/**
 * Language ID with WSDM's convention: per text and not SQL, so a port (the Kaggle package) redoes it
 * with pycld2 under the rules below and then runs the same feature SQL.
 *
 * The WSDM `language` column was made by FastChat's `detect_language()`: polyglot's
 * `Detector(text).language.name` over CLD2 on the first user turn, "unknown" when CLD2 raises or
 * is unreliable even in best-effort mode. This module reproduces it with the same engine and
 * tables, called as pycld2 calls it (native/cld2, built from the CLD2 sources the `cld` package ships):
 * - pycld2 refuses text that is not interchange-valid UTF-8 (C0/C1 controls other than tab, LF,
 *   FF, CR; DEL; noncharacters): FastChat's `except pycld2.error` gives "unknown";
 * - pycld2 reads the text as HTML unless told otherwise, and polyglot never tells it;
 * - first a normal detection; if not reliable, a best-effort one; if still not reliable, "unknown";
 * - the name is ICU's display name of the top code's language subtag (`Locale(code)
 *   .getDisplayLanguage()`), which leaves codes ICU has no name for as they are ("xx", "zzp", "un").
 * The Kaggle package's Python (activities/package/arena_infer/language_id.py) uses pycld2 with these
 * same rules and `languageNameTable`; test/language-id.test.ts checks the two agree.
 */

/** native/cld2: CLD2 called as pycld2 calls it (HTML mode, no hints, no result chunks, UTF-8 checked). */
interface Cld2Binding {
  /** `valid` is false where pycld2 raises: the text is not interchange-valid UTF-8. */
  detect(text: string, bestEffort: boolean): { valid: boolean; reliable: boolean; code: string };
}

const BINDING = path.join(__dirname, '..', 'native', 'cld2', 'build', 'Release', 'cld2_polyglot.node');
/**
 * What the binary is built from, named through codeFile so that they join the code version of
 * every stage that labels languages: a change to the addon changes those stages' cache keys.
 */
const BINDING_SOURCES = [codeFile(__dirname, '../native/cld2/cld2_polyglot.cc'), codeFile(__dirname, '../native/cld2/binding.gyp')];

let binding: Cld2Binding | undefined;

/** Loaded on first use: a worker that runs no data stage (a GPU pod) needs no build of it. */
function cld2(): Cld2Binding {
  if (!binding) {
    if (!fs.existsSync(BINDING)) throw new Error(`${BINDING} is not built: run scripts/setup.sh (it builds native/cld2 from ${BINDING_SOURCES.map((f) => path.basename(f)).join(' and ')})`);
    binding = require(BINDING) as Cld2Binding;
  }
  return binding;
}

/** The label of a text CLD2 cannot tell, as in WSDM's data. */
export const UNKNOWN_LANGUAGE = 'unknown';

/**
 * ICU's `getDisplayLanguage` names a code as written; `Intl.DisplayNames` first replaces
 * deprecated codes by their successors, which renames one of CLD2's languages: "tl" would become
 * "Filipino", where WSDM's labels say "Tagalog".
 */
const ICU_NAMES_WITHOUT_ALIASES: Record<string, string> = { tl: 'Tagalog' };
const displayNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/** The English name of a CLD2 language code, as polyglot gives it ("zh-Hant" → "Chinese", "xx-Qaai" → "xx"). */
export function languageName(code: string): string {
  const subtag = code.split('-')[0]!;
  return ICU_NAMES_WITHOUT_ALIASES[subtag] ?? displayNames.of(subtag) ?? subtag;
}

/**
 * subtag -> name for every language code CLD2 can return (the `cld` package's list, the same as
 * pycld2's): what a port without ICU (the Kaggle package's Python) names its codes by.
 */
export function languageNameTable(): Record<string, string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const codes = Object.values(require('cld').LANGUAGES as Record<string, string>);
  return Object.fromEntries(codes.map((code) => [code.split('-')[0]!, languageName(code)]));
}

/** CLD2's top language code for `text` under polyglot's rules, or undefined for "unknown". */
export function detectLanguageCode(text: string): string | undefined {
  let result = cld2().detect(text, false);
  if (!result.valid) return undefined;
  if (!result.reliable) {
    result = cld2().detect(text, true);
    if (!result.reliable) return undefined;
  }
  return result.code;
}

/** The WSDM `language` label of a text: the name of its language, or "unknown". */
export function detectLanguage(text: string): string {
  const code = detectLanguageCode(text);
  return code === undefined ? UNKNOWN_LANGUAGE : languageName(code);
}
