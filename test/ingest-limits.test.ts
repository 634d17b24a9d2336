import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildFeatures } from '../activities/features/build-features';
import { ingest, type InputFile } from '../activities/ingest/ingest';
import { UserInputError } from '../lib/errors';
import { MULTILINGUAL_ROWS, writeWsdmTest, writeWsdmTrain } from './fixtures/wsdm-fixtures';

/** Issue 9: what ingest does with empty, huge, oddly typed and glob-named inputs. */

const LMSYS_HEADER = ',id,model_a,model_b,prompt,response_a,response_b,winner_model_a,winner_model_b,winner_tie';
const cell = (value: string): string => `"${value.replace(/"/g, '""')}"`;
const line = (index: number, id: string, a: string, winner = '1,0,0'): string =>
  `${index},${id},m-x,m-y,${cell(JSON.stringify([`prompt ${id}`]))},${cell(JSON.stringify([a]))},${cell(JSON.stringify([`b ${id}`]))},${winner}`;

let tmp: string;
let goodTrain: InputFile;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arena-limits-'));
  const file = path.join(tmp, 'good.csv');
  fs.writeFileSync(file, `${[LMSYS_HEADER, line(0, '11', 'a1'), line(1, '12', 'a2', '0,1,0')].join('\n')}\n`);
  goodTrain = { format: 'lmsys', path: file };
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function sql(statement: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(statement)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function expectFailure(name: string, train: InputFile[], test: InputFile | null, message: string): Promise<void> {
  const outDir = path.join(tmp, name);
  await assert.rejects(ingest({ train, test, turnSeparator: '\n\n', outDir }), (error: unknown) => {
    assert.ok(error instanceof UserInputError, String(error));
    assert.equal(error.message, message);
    return true;
  });
  assert.deepEqual(fs.existsSync(outDir) ? fs.readdirSync(outDir) : [], [], 'no files, temporary or final, are left');
}

describe('ingest limits (issue 9)', () => {
  test('row 3: a header-only test CSV and a 0-row test parquet fail naming the file', async () => {
    const csv = path.join(tmp, 'empty-test.csv');
    fs.writeFileSync(csv, 'id,prompt,response_a,response_b\n');
    await expectFailure('empty-csv', [goodTrain], { format: 'lmsys', path: csv }, `${csv}: the test file has no rows; a submission needs at least one`);
    const parquet = path.join(tmp, 'empty-test.parquet');
    await writeWsdmTest(parquet, []);
    await expectFailure('empty-parquet', [goodTrain], { format: 'wsdm', path: parquet }, `${parquet}: the test file has no rows; a submission needs at least one`);
  });

  test('row 7: a path with a glob character is refused, even when a file of that literal name exists', async () => {
    for (const name of ['t*.csv', 't?.csv', 't[1].csv', 't{1}.csv']) {
      const file = path.join(tmp, name);
      fs.copyFileSync(goodTrain.path, file);
      await expectFailure(`glob-${name.length}`, [{ format: 'lmsys', path: file }], null, `${file}: the path holds the glob character '${/[*?[{]/.exec(name)![0]}'; input paths are literal file names`);
    }
  });

  test('row 8: a 50 MB text in a CSV names the row, the id, the column and the limit', async () => {
    const file = path.join(tmp, 'huge-cell.csv');
    const hugeLine = line(1, '4242', 'x'.repeat(50_000_000));
    fs.writeFileSync(file, `${[LMSYS_HEADER, line(0, '11', 'a1'), hugeLine, line(2, '13', 'a3')].join('\r\n')}\r\n`);
    await expectFailure(
      'huge-csv-cell',
      [{ format: 'lmsys', path: file }],
      null,
      `${file}: row 2 (id 4242), column 'response_a': the row is ${Buffer.byteLength(hugeLine)} bytes, over the limit of 33554432 bytes (32 MiB) per CSV row`,
    );
  });

  test('row 9: a parquet id of type LIST fails naming the file and column', async () => {
    const file = path.join(tmp, 'list-id.parquet');
    await sql(`COPY (SELECT [1, 2] AS id, 'p' AS prompt, 'a' AS response_a, 'b' AS response_b, 'model_a' AS winner) TO '${file}' (FORMAT parquet)`);
    await expectFailure('list-id', [{ format: 'wsdm', path: file }], null, `${file}: column 'id' has type INTEGER[], expected a string or an integer`);
    const struct = path.join(tmp, 'struct-winner.parquet');
    await sql(`COPY (SELECT 'x1' AS id, 'p' AS prompt, 'a' AS response_a, 'b' AS response_b, {'w': 'model_a'} AS winner) TO '${struct}' (FORMAT parquet)`);
    await expectFailure('struct-winner', [{ format: 'wsdm', path: struct }], null, `${struct}: column 'winner' has type STRUCT(w VARCHAR), expected a string`);
  });

  test('errors quote at most 60 characters of what a file holds', async () => {
    const secret = path.join(tmp, 'secret.csv');
    fs.writeFileSync(secret, `AWS_SECRET_ACCESS_KEY=${'k'.repeat(100)}\nTEMPORAL_API_KEY=${'t'.repeat(100)}\n`);
    await expectFailure('secret', [{ format: 'lmsys', path: secret }], null, `${secret}: missing required column 'id' (found: AWS_SECRET_ACCESS_KEY=${'k'.repeat(38)}…)`);
    const winner = path.join(tmp, 'long-winner.csv');
    fs.writeFileSync(winner, `${[LMSYS_HEADER, line(0, '11', 'a1', `${'w'.repeat(500)},0,0`)].join('\n')}\n`);
    await expectFailure('long-winner', [{ format: 'lmsys', path: winner }], null, `${winner}: row 1 (id 11), column 'winner_model_a': is '${'w'.repeat(60)}', not 0 or 1`);
  });

  test('row 11: a 51 MB text in parquet is cut to data.max_text_chars, counted, and the features stage handles it', async () => {
    const trainFile = path.join(tmp, 'huge-text.parquet');
    const huge = `${'Ж'.repeat(10)}${'y'.repeat(51_000_000)}`;
    await writeWsdmTrain(trainFile, [...MULTILINGUAL_ROWS.slice(0, 3), { ...MULTILINGUAL_ROWS[3]!, response_b: huge }]);
    const testFile = path.join(tmp, 'huge-test.parquet');
    await writeWsdmTest(testFile, [{ id: 't1', prompt: huge, response_a: 'a', response_b: 'b' }, { id: 't2', prompt: 'p', response_a: 'a', response_b: 'b' }]);
    const outDir = path.join(tmp, 'truncated');
    const report = await ingest({ train: [{ format: 'wsdm', path: trainFile }], test: { format: 'wsdm', path: testFile }, turnSeparator: '\n\n', maxTextChars: 1000, outDir });
    assert.equal(report.max_text_chars, 1000);
    assert.equal(report.truncated_rows, 1);
    assert.equal(report.sources[0]!.truncated_rows, 1);
    assert.equal(report.test!.truncated_rows, 1);
    const [row] = await sql(`SELECT id, response_b FROM read_parquet('${path.join(outDir, 'ingested.parquet')}') WHERE id = 'hi-1'`);
    assert.equal(row!.response_b, huge.slice(0, 1000), 'cut to 1000 characters, not bytes');

    const features = await buildFeatures({
      inputs: [
        { table: path.join(outDir, 'ingested.parquet'), output: path.join(outDir, 'features.parquet') },
        { table: path.join(outDir, 'test.parquet'), output: path.join(outDir, 'test_features.parquet') },
      ],
      similarity: true,
      sentiment: true,
      featureColumnsFile: path.join(outDir, 'feature_columns.json'),
      threads: 1,
    });
    assert.deepEqual(features.rows, [4, 2]);
  });
});
