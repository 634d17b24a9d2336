import { copyFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quotedIds, UserInputError } from '../../lib/errors';
import { code, ident, loadSql, queryRows, setVariables, withDuckDB, writeAtomically } from '../../lib/duckdb';
import { codeFile } from '../../lib/stage-contract/code-file';
import type { Teacher } from './teacher-files';

export interface SoftLabelOptions {
  teachers: Teacher[];
  /** The oof stage's oof.parquet, for the teacher without a file; undefined when the pipeline has none. */
  oof: string | undefined;
  /** The split's train.parquet and valid.parquet. */
  train: string;
  valid: string;
  /** distill.swap_tolerance: the largest mean |p_model_a - (1 - p_model_a_swapped)| of a teacher file. */
  swapTolerance: number;
  /** distill.alpha and temperature: written into the train file, the student's trainer weighs its loss by them. */
  loss: { alpha: number; temperature: number };
  trainOutput: string;
  validOutput: string;
}

export interface TeacherStats {
  name: string;
  weight: number;
  /** The imported file, or the oof stage's for the pipeline's own teachers. */
  file: string;
  /** Rows of the teacher for pairs that are not training pairs (validation or unknown ids): not used. */
  extra_rows: number;
  /** Mean |p - (1 - p_swapped)| over the training pairs; null when the teacher gives one order only. */
  swap_gap: number | null;
  /** Its probabilities against the hard labels of the training pairs. */
  accuracy: number;
  log_loss: number;
}

export interface SoftLabelSummary {
  pairs: number;
  train_rows: number;
  teachers: TeacherStats[];
  /** The soft label (weighted mean) against the hard labels. */
  soft_label: { accuracy: number; log_loss: number };
}

/**
 * The student's data: the split's training rows with `teacher_p`, the weighted mean over
 * distill.teachers of each teacher's probability that the row's response_a wins, and the split's
 * validation rows unchanged. Every teacher file is checked first; a bad one fails the stage with
 * one error naming the file, the row or id and the column, and nothing is written.
 */
export async function softLabels(opts: SoftLabelOptions): Promise<SoftLabelSummary> {
  const outputs = [path.resolve(opts.trainOutput), path.resolve(opts.validOutput)];
  return writeAtomically(outputs, ([trainTemp, validTemp]) =>
    withDuckDB(async (connection) => {
      await setVariables(connection, { train_path: opts.train });
      await connection.run(loadSql(codeFile(__dirname, 'tables.sql')));
      const teachers: TeacherStats[] = [];
      let pairs = 0;
      for (const teacher of opts.teachers) {
        const where = `teacher '${teacher.name}' (${teacher.key})`;
        const file = teacher.file ?? opts.oof;
        if (file === undefined) {
          throw new UserInputError(`${where}: has no file, so it is the pipeline's own k-fold teachers, but this pipeline has no oof stage upstream; give it a file or run distill-pipeline`);
        }
        if (teacher.file === undefined) {
          await setVariables(connection, { teacher_path: file });
          await connection.run(loadSql(codeFile(__dirname, 'oof-p.sql')));
        } else {
          await loadImported(connection, where, file);
        }
        const [coverage] = await queryRows(connection, loadSql(codeFile(__dirname, 'coverage.sql')));
        pairs = Number(coverage!['pairs']);
        if (Number(coverage!['missing']) > 0) {
          throw new UserInputError(
            `${where}: ${file}: column "id" misses ${coverage!['missing']} of the split's ${pairs} training pairs (first: ${quotedIds(coverage!['first_missing'])}); a teacher must give every training pair`,
          );
        }
        const [stats] = await queryRows(connection, loadSql(codeFile(__dirname, 'teacher-stats.sql')));
        const gap = stats!['mean_gap'] === null ? null : Number(stats!['mean_gap']);
        if (teacher.file !== undefined && gap !== null && gap > opts.swapTolerance) {
          const worst = (stats!['worst_ids'] as string[]).map((id, i) => `${JSON.stringify(id)} (${Number((stats!['worst_gaps'] as number[])[i]).toFixed(3)})`).join(', ');
          throw new UserInputError(
            `${where}: ${file}: columns "p_model_a" and "p_model_a_swapped" disagree: mean |p_model_a - (1 - p_model_a_swapped)| is ${gap.toFixed(3)} over the training pairs, above distill.swap_tolerance ${opts.swapTolerance}; worst ids: ${worst}`,
          );
        }
        teachers.push({ name: teacher.name, weight: teacher.weight, file, extra_rows: Number(coverage!['extra']), swap_gap: gap, accuracy: Number(stats!['accuracy']), log_loss: Number(stats!['log_loss']) });
        await setVariables(connection, { teacher_name: teacher.name, teacher_weight: teacher.weight });
        await connection.run(loadSql(codeFile(__dirname, 'add-teacher.sql')));
      }
      await connection.run(loadSql(codeFile(__dirname, 'combined-p.sql')));
      const [combined] = await queryRows(connection, loadSql(codeFile(__dirname, 'teacher-stats.sql')));
      await setVariables(connection, { output_path: trainTemp!, distill_alpha: String(opts.loss.alpha), distill_temperature: String(opts.loss.temperature) });
      const [written] = await queryRows(connection, loadSql(codeFile(__dirname, 'write-train.sql')));
      copyFileSync(opts.valid, validTemp!);
      return {
        pairs,
        train_rows: Number(written?.['Count'] ?? 0),
        teachers,
        soft_label: { accuracy: Number(combined!['accuracy']), log_loss: Number(combined!['log_loss']) },
      };
    }),
  );
}

/** Reads an imported file into `teacher_p`, after the checks of its columns and every row. */
async function loadImported(connection: DuckDBConnection, where: string, file: string): Promise<void> {
  await setVariables(connection, { teacher_path: file });
  const reader = /\.csv$/i.test(file)
    ? code("read_csv(getvariable('teacher_path'), header = true, all_varchar = true)")
    : code("read_parquet(getvariable('teacher_path'))");
  // One thread while reading: the rows are numbered in file order, for the messages.
  await connection.run('SET threads = 1');
  try {
    await connection.run(loadSql(codeFile(__dirname, 'teacher-rows.sql'), { reader }));
  } catch (error) {
    throw new UserInputError(`${where}: ${file}: cannot read: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    await connection.run('RESET threads');
  }
  const columns = new Set((await queryRows(connection, 'DESCRIBE teacher_rows')).map((row) => String(row['column_name'])));
  for (const column of ['id', 'p_model_a']) {
    if (!columns.has(column)) throw new UserInputError(`${where}: ${file}: missing column "${column}" (expected id, p_model_a and optionally p_model_a_swapped)`);
  }
  const [emptyId] = await queryRows(connection, loadSql(codeFile(__dirname, 'empty-id.sql')));
  if (emptyId) throw new UserInputError(`${where}: ${file}: row ${emptyId['row_no']}: column "id" is empty`);
  const [repeated] = await queryRows(connection, loadSql(codeFile(__dirname, 'repeated-id.sql')));
  if (repeated) {
    const [first, second] = repeated['row_nos'] as number[];
    throw new UserInputError(`${where}: ${file}: row ${second}, id ${JSON.stringify(repeated['id'])}: column "id" repeats row ${first}; give each pair once`);
  }
  const swapped = columns.has('p_model_a_swapped');
  for (const column of swapped ? ['p_model_a', 'p_model_a_swapped'] : ['p_model_a']) {
    const [bad] = await queryRows(connection, loadSql(codeFile(__dirname, 'bad-probability.sql'), { column: ident(column) }));
    if (bad) {
      const value = bad['raw'] === null ? 'empty' : bad['p'] === null ? `${JSON.stringify(bad['raw'])}, not a number` : `${bad['raw']}, outside [0, 1]`;
      throw new UserInputError(`${where}: ${file}: row ${bad['row_no']}, id ${JSON.stringify(bad['id'])}: column "${column}" is ${value}; expected a probability in [0, 1]`);
    }
  }
  await connection.run(loadSql(codeFile(__dirname, 'imported-p.sql'), { swapped: code(swapped ? 'TRY_CAST(p_model_a_swapped AS DOUBLE)' : 'NULL::DOUBLE') }));
}
