import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserInputError } from '../../lib/errors';
import { code, ident, literal, loadSql, queryRows, setVariables, SqlFragment } from '../../lib/duckdb';
import { codeFile } from '../../lib/stage-contract/code-file';
import { findOversizedRow } from './oversized-row';

/**
 * Loads one input file into the `staged` (training) or `staged_test` table: reads it, checks it
 * row by row, flattens JSON-list texts. Bad input fails with the file, the first offending row's
 * id and the column.
 */

export type SourceFormat = 'wsdm' | 'lmsys';
export type SourceName = 'wsdm' | 'lmsys' | 'synthetic';
export type SourceRole = 'train' | 'test';

export interface InputFile {
  format: SourceFormat;
  path: string;
}

/** The parquet key-value metadata entry that marks a generated dataset; ingest names such a source 'synthetic'. */
export const SOURCE_MARKER_KEY = 'arena_source';


const TEXT_COLUMNS = ['prompt', 'response_a', 'response_b'] as const;
const OPTIONAL_COLUMNS = ['model_a', 'model_b', 'language'] as const;
const LMSYS_WINNER_COLUMNS = ['winner_model_a', 'winner_model_b', 'winner_tie'] as const;

function requiredColumns(format: SourceFormat, role: SourceRole): string[] {
  if (role === 'test') return ['id', ...TEXT_COLUMNS];
  return format === 'wsdm' ? ['id', ...TEXT_COLUMNS, 'winner'] : ['id', ...TEXT_COLUMNS, ...LMSYS_WINNER_COLUMNS];
}

/**
 * The most of a file's content an error may quote: its messages end up in workflow history and
 * logs, so they hold a short head of a cell or line, never a whole one.
 */
const EXCERPT_CHARS = 60;

/** The first non-blank line of `text`, cut to `max` characters. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** `<file>: row <n> (id <id>), column '<column>': <problem>`, the shape of every row-level error. */
export function rowError(file: string, rowNo: number, id: unknown, column: string, problem: string): UserInputError {
  const idText = id === null || id === undefined ? 'no id' : `id ${excerpt(String(id))}`;
  return new UserInputError(`${file}: row ${rowNo + 1} (${idText}), column '${excerpt(column)}': ${problem}`);
}

/** DuckDB's first line names the error; the lines after it may quote a whole row of the file. */
const DUCKDB_MESSAGE_CHARS = 200;

/** The CSV reader's limit on one row (DuckDB's max_line_size in read-csv.sql): 32 MiB. */
export const MAX_CSV_ROW_BYTES = 33554432;

function readCsvSql(encoding: 'utf-8' | 'latin-1', diagnose: boolean): string {
  return loadSql(codeFile(__dirname, 'read-csv.sql'), {
    encoding: literal(encoding),
    max_line_size: code(String(MAX_CSV_ROW_BYTES)),
    diagnose: code(diagnose ? ', ignore_errors = true, store_rejects = true' : ''),
  });
}

async function readCsv(connection: DuckDBConnection, file: string): Promise<void> {
  try {
    await connection.run(readCsvSql('utf-8', false));
  } catch (error) {
    const message = (error as Error).message;
    if (/invalid unicode/i.test(message)) await throwFirstNonUtf8Cell(connection, file);
    if (/maximum line size/i.test(message)) throwOversizedRow(file);
    await throwFirstRejectedLine(connection, file);
    throw new UserInputError(`${file}: cannot read as CSV: ${excerpt(message, DUCKDB_MESSAGE_CHARS)}`);
  }
}

/** A line that does not parse has no trustworthy id: the error names the file line instead. */
async function throwFirstRejectedLine(connection: DuckDBConnection, file: string): Promise<void> {
  try {
    await connection.run(readCsvSql('utf-8', true));
  } catch {
    return;
  }
  const [reject] = await queryRows(connection, loadSql(codeFile(__dirname, 'first-reject.sql')));
  if (reject) {
    throw new UserInputError(
      `${file}: line ${String(reject.line)}, column '${excerpt(String(reject.column_name))}': ${excerpt(String(reject.error_message), DUCKDB_MESSAGE_CHARS)} (line starts: ${String(reject.csv_line).slice(0, EXCERPT_CHARS)})`,
    );
  }
}

function throwOversizedRow(file: string): void {
  const row = findOversizedRow(file, MAX_CSV_ROW_BYTES);
  if (row) {
    throw rowError(file, row.rowNo, row.id, row.column, `the row is ${row.bytes} bytes, over the limit of ${MAX_CSV_ROW_BYTES} bytes (32 MiB) per CSV row`);
  }
}

/** DuckDB names the line but not the row or column; re-reading as latin-1 finds both. */
async function throwFirstNonUtf8Cell(connection: DuckDBConnection, file: string): Promise<void> {
  try {
    await connection.run(readCsvSql('latin-1', false));
  } catch {
    // DuckDB's latin-1 refuses some bytes (C1 controls); the line-level diagnosis still names the line.
    return;
  }
  const columns = await describeRaw(connection);
  const cells = await queryRows(
    connection,
    loadSql(codeFile(__dirname, 'utf8-diagnose.sql'), { id: columns.has('id') ? ident('id') : code('NULL') }),
  );
  const headerOrder = [...columns.keys()];
  cells.sort((x, y) => headerOrder.indexOf(String(x.column_name)) - headerOrder.indexOf(String(y.column_name)));
  const cell = cells[0];
  if (!cell) throw new UserInputError(`${file}: is not valid UTF-8 (in the header)`);
  throw rowError(file, Number(cell.row_no), cell.id, String(cell.column_name), 'is not valid UTF-8');
}

async function readParquet(connection: DuckDBConnection, file: string): Promise<void> {
  try {
    await connection.run(loadSql(codeFile(__dirname, 'read-parquet.sql')));
  } catch (error) {
    throw new UserInputError(`${file}: cannot read as parquet: ${excerpt((error as Error).message, DUCKDB_MESSAGE_CHARS)}`);
  }
}

/** Column name -> DuckDB type of the `raw` table, in file order. */
async function describeRaw(connection: DuckDBConnection): Promise<Map<string, string>> {
  const rows = await queryRows(connection, 'DESCRIBE raw');
  return new Map(rows.map((row) => [String(row.column_name), String(row.column_type)]));
}

function checkColumns(file: string, columns: Map<string, string>, required: string[]): void {
  const missing = required.filter((name) => !columns.has(name));
  if (missing.length > 0) {
    // The header is the file's first line: quote only its head.
    const found = excerpt([...columns.keys()].join(', '));
    throw new UserInputError(`${file}: missing required column '${missing[0]}' (found: ${found})`);
  }
}

function optionalColumn(columns: Map<string, string>, name: string): SqlFragment {
  return columns.has(name) ? ident(name) : code('NULL');
}

/** A parquet text column may be a string or raw bytes; bytes must decode as UTF-8. */
function wsdmTextColumn(file: string, columns: Map<string, string>, name: string): [SqlFragment, SqlFragment] {
  const type = columns.get(name);
  const column = ident(name).text;
  if (type === 'VARCHAR') return [code(column), code('false')];
  if (type === 'BLOB') return [code(`try(decode(${column}))`), code(`(${column} IS NOT NULL AND try(decode(${column})) IS NULL)`)];
  throw new UserInputError(`${file}: column '${name}' has type ${type}, expected a string`);
}

/** An id is a key downstream and in the submission: a string or an integer, never a list or a struct cast to text. */
const ID_TYPE = /^(VARCHAR|U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT))$/;
/** Lists, arrays, structs, maps and unions: cast to text they would pass as a label or a model name. */
const NESTED_TYPE = /\[\d*\]$|^(STRUCT|MAP|UNION)\(/;

function checkScalarColumns(file: string, columns: Map<string, string>): void {
  const idType = columns.get('id')!;
  if (!ID_TYPE.test(idType)) throw new UserInputError(`${file}: column 'id' has type ${excerpt(idType)}, expected a string or an integer`);
  for (const name of ['winner', ...OPTIONAL_COLUMNS]) {
    const type = columns.get(name);
    if (type !== undefined && NESTED_TYPE.test(type)) throw new UserInputError(`${file}: column '${name}' has type ${excerpt(type)}, expected a string`);
  }
}

function normalizeWsdm(file: string, columns: Map<string, string>, role: SourceRole): string {
  checkScalarColumns(file, columns);
  const vars: Record<string, SqlFragment> = {
    id: ident('id'),
    winner: role === 'train' ? ident('winner') : code('NULL'),
  };
  for (const name of TEXT_COLUMNS) {
    [vars[name], vars[`${name}_bad_utf8`]] = wsdmTextColumn(file, columns, name);
  }
  for (const name of OPTIONAL_COLUMNS) vars[name] = optionalColumn(columns, name);
  return loadSql(codeFile(__dirname, 'normalize-wsdm.sql'), vars);
}

function normalizeLmsys(columns: Map<string, string>, role: SourceRole): string {
  const vars: Record<string, SqlFragment> = { id: ident('id'), labelled: code(role === 'train' ? 'true' : 'false') };
  for (const name of TEXT_COLUMNS) vars[name] = ident(name);
  for (const name of OPTIONAL_COLUMNS) vars[name] = optionalColumn(columns, name);
  for (const name of LMSYS_WINNER_COLUMNS) vars[name] = role === 'train' ? ident(name) : code('NULL');
  return loadSql(codeFile(__dirname, 'normalize-lmsys.sql'), vars);
}

async function sourceName(connection: DuckDBConnection, input: InputFile): Promise<SourceName> {
  if (input.format !== 'wsdm') return input.format;
  const rows = await queryRows(connection, loadSql(codeFile(__dirname, 'source-marker.sql')));
  return rows.some((row) => row.value === 'synthetic') ? 'synthetic' : 'wsdm';
}

/**
 * Appends one file's rows to `staged` (role train) or `staged_test` (role test), with
 * `src_idx = sourceIndex`; returns the source name the rows carry.
 */
export async function stageSource(
  connection: DuckDBConnection,
  input: InputFile,
  sourceIndex: number,
  role: SourceRole,
): Promise<SourceName> {
  const file = input.path;
  // DuckDB's readers expand glob patterns; an input is one literal file.
  const glob = /[*?[\]{}]/.exec(file);
  if (glob) throw new UserInputError(`${file}: the path holds the glob character '${glob[0]}'; input paths are literal file names`);
  if (!fs.existsSync(file)) throw new UserInputError(`${file}: file not found`);
  if (!fs.statSync(file).isFile()) throw new UserInputError(`${file}: not a file`);
  await setVariables(connection, { source_path: file });

  if (input.format === 'lmsys') await readCsv(connection, file);
  else await readParquet(connection, file);
  const columns = await describeRaw(connection);
  checkColumns(file, columns, requiredColumns(input.format, role));
  if (role === 'test') {
    // An empty test file would give an empty submission.csv that looks like success and is cached.
    const [count] = await queryRows(connection, loadSql(codeFile(__dirname, 'row-count.sql')));
    if (Number(count!.n) === 0) throw new UserInputError(`${file}: the test file has no rows; a submission needs at least one`);
  }

  await connection.run(input.format === 'lmsys' ? normalizeLmsys(columns, role) : normalizeWsdm(file, columns, role));
  await setVariables(connection, { json_lists: input.format === 'lmsys', unique_ids: role === 'test' });
  const [problem] = await queryRows(connection, loadSql(codeFile(__dirname, 'first-problem.sql')));
  if (problem) {
    throw rowError(file, Number(problem.row_no), problem.id, String(problem.column_name), String(problem.problem));
  }

  const name = await sourceName(connection, input);
  await setVariables(connection, { source_index: sourceIndex, source_name: name });
  const text = (column: string): SqlFragment => {
    const flattened = input.format === 'lmsys' ? `flatten_turns(${column})` : column;
    return code(role === 'test' ? `coalesce(${flattened}, '')` : flattened);
  };
  await connection.run(
    loadSql(codeFile(__dirname, 'stage-rows.sql'), {
      target: ident(role === 'train' ? 'staged' : 'staged_test'),
      prompt: text('prompt'),
      response_a: text('response_a'),
      response_b: text('response_b'),
      // What FastChat's detect_language() reads: the first user turn.
      first_turn: code(input.format === 'lmsys' ? "json_extract_string(prompt, '$[0]')" : 'prompt'),
    }),
  );
  await connection.run('DROP VIEW src; DROP TABLE raw;');
  return name;
}
