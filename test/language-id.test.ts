import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { queryRows, withDuckDB } from '../lib/duckdb';
import { detectLanguage, detectLanguageCode, languageName, languageNameTable } from '../lib/language-id';

const REPO_ROOT = path.resolve(__dirname, '..');
/** pycld2 0.42, installed into .venv by scripts/test.sh as a test-only tool. */
const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
/** The Kaggle package's language ID (python -m arena_infer.language_id), the one Python copy of the rules. */
const PACKAGE_GLUE = path.join(REPO_ROOT, 'activities', 'package');
const SAMPLE = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'lmsys-sample', 'train_sample.csv');
const WSDM_LANGUAGES = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'wsdm-facts', 'language_counts.json');

/** Texts in the scripts and shapes that decide a label: each script, mixes, very short ones, HTML, refused bytes. */
const FIXTURES = [
  'Расскажи мне, пожалуйста, как работает двигатель внутреннего сгорания.',
  'Привет',
  'Як справи? Що ти робиш сьогодні ввечері?',
  '请用简单的语言解释一下量子计算的基本原理。',
  '這是一個繁體中文的句子，用來測試語言識別。',
  '日本の首都はどこですか？教えてください。',
  '한국어로 간단한 시를 써 주세요.',
  'ما هي عاصمة المملكة العربية السعودية؟ أرجو الإجابة باختصار.',
  'لطفاً یک شعر کوتاه درباره بهار به فارسی بنویسید.',
  'कृपया मुझे भारत की राजधानी के बारे में बताइए।',
  'Xin chào, bạn có thể giải thích trí tuệ nhân tạo là gì không?',
  'Explain the word 人工知能 and translate Привет into English, please.',
  'Write a Python function: def f(x): return x**2 # квадрат',
  'hi',
  'ok',
  '?',
  '1234567890',
  '',
  '<b>Bonjour</b>, comment allez-vous aujourd&#39;hui ? Je voudrais réserver une table.',
  'Hello\u0001 world, this text holds a control character',
  'Wie geht es dir heute? Ich möchte ein Buch über Geschichte lesen.',
  '¿Cuál es la capital de España y cuántos habitantes tiene?',
  'Kannst du mir helfen? I need help with my homework, bitte.',
  'שלום, מה שלומך היום?',
  'สวัสดีครับ วันนี้อากาศดีมาก',
];

/** The first user turn and the first turn of each response of every row of the shared LMSYS sample. */
async function sampleTexts(): Promise<string[]> {
  return withDuckDB(async (connection) => {
    const rows = await queryRows(
      connection,
      `SELECT json_extract_string(prompt, '$[0]') AS p, json_extract_string(response_a, '$[0]') AS a, json_extract_string(response_b, '$[0]') AS b
       FROM read_csv('${SAMPLE}', all_varchar = true) ORDER BY id`,
    );
    return rows.flatMap((row) => [row.p, row.a, row.b]).filter((t): t is string => typeof t === 'string');
  });
}

function pythonCodes(texts: string[]): (string | null)[] {
  const out = execFileSync(PYTHON, ['-m', 'arena_infer.language_id'], { cwd: PACKAGE_GLUE, env: { ...process.env, PYTHONPATH: PACKAGE_GLUE, PYTHONDONTWRITEBYTECODE: '1' }, input: texts.map((t) => JSON.stringify(t)).join('\n') + '\n', maxBuffer: 1 << 26 });
  return out.toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as string | null);
}

describe('language ID matches pycld2 under polyglot Detector rules', () => {
  test('on the multilingual fixtures', () => {
    const expected = pythonCodes(FIXTURES);
    assert.deepEqual(FIXTURES.map((t) => detectLanguageCode(t) ?? null), expected);
  });

  test('on the real sample rows', async () => {
    const texts = await sampleTexts();
    assert.ok(texts.length >= 2900, `${texts.length} texts`);
    const expected = pythonCodes(texts);
    const mismatches = texts.flatMap((text, i) => {
      const got = detectLanguageCode(text) ?? null;
      return got === expected[i] ? [] : [{ i, got, expected: expected[i], text: text.slice(0, 60) }];
    });
    console.log(`language ID parity: ${texts.length} texts compared, ${mismatches.length} mismatches`);
    assert.deepEqual(mismatches, []);
  });
});

describe('language names', () => {
  test('are the WSDM labels', () => {
    assert.deepEqual(
      FIXTURES.slice(0, 11).map(detectLanguage),
      ['Russian', 'Russian', 'Ukrainian', 'Chinese', 'Chinese', 'Japanese', 'Korean', 'Arabic', 'Persian', 'Hindi', 'Vietnamese'],
    );
    assert.equal(detectLanguage('Hello\u0001 world, this text holds a control character'), 'unknown');
    assert.equal(detectLanguage(''), 'unknown');
  });

  test("every one of WSDM's 128 labels but 'unknown' is the name of a CLD2 language", () => {
    const codes = Object.values(require('cld').LANGUAGES as Record<string, string>);
    const names = new Set(codes.map(languageName));
    const labels = Object.keys(JSON.parse(fs.readFileSync(WSDM_LANGUAGES, 'utf8')) as Record<string, number>);
    assert.equal(labels.length, 128);
    assert.deepEqual(labels.filter((label) => label !== 'unknown' && !names.has(label)), []);
    assert.deepEqual(['zh-Hant', 'tl', 'bn', 'xx-Qaai', 'iw'].map(languageName), ['Chinese', 'Tagalog', 'Bangla', 'xx', 'Hebrew']);
  });

  test("the package's name table names every code pycld2 can return, as languageName does", () => {
    const pythonCodes = JSON.parse(execFileSync(PYTHON, ['-c', 'import json, pycld2; print(json.dumps([code for _, code in pycld2.LANGUAGES]))'], { encoding: 'utf8' })) as string[];
    const table = languageNameTable();
    assert.ok(pythonCodes.length > 250, `${pythonCodes.length} codes`);
    assert.deepEqual(pythonCodes.filter((code) => table[code.split('-')[0]!] !== languageName(code)), []);
    assert.deepEqual(['en', 'zh', 'tl', 'xx'].map((subtag) => table[subtag]), ['English', 'Chinese', 'Tagalog', 'xx']);
  });
});
