import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quotedIds, UserInputError } from '../../lib/errors';
import { loadSql, queryRows, setVariables, withDuckDB, writeAtomically } from '../../lib/duckdb';
import type { Predictions } from '../../lib/inference/predict';
import { codeFile } from '../../lib/stage-contract/code-file';
import { accuracy, logLoss } from '../evaluate/metrics';
import { readValidRows } from '../evaluate/valid-rows';

/** One fold: its teacher's model and the fold's data (what the teacher trained on, what it predicts). */
export interface OofMember {
  fold: number;
  /** Instance ids, for messages: `teacher[fold=1]`, `fold_data[fold=1]`. */
  teacher: string;
  data: string;
  /** The fold's valid.parquet (the rows to predict) and train.parquet (what the teacher saw). */
  validTable: string;
  trainTable: string;
}

export interface OofOptions<M extends OofMember> {
  stageId: string;
  /** The split's train.parquet: every row must be predicted exactly once. */
  splitTrain: string;
  members: M[];
  /** Scores a member's valid.parquet with its teacher (evaluate's engines). */
  predict(member: M): Promise<Predictions>;
  /** oof.parquet (id, pair_id, swapped, p_model_a, fold). */
  output: string;
}

export interface OofSummary {
  rows: number;
  accuracy: number;
  log_loss: number;
  per_fold: { fold: number; teacher: string; rows: number; accuracy: number; log_loss: number }[];
}

/**
 * The out-of-fold predictions: each fold's teacher scores its own fold's rows, which it never
 * trained on. Fails, writing nothing, unless every training row of the split is predicted exactly
 * once and no teacher's training data holds a pair it predicted.
 */
export async function outOfFold<M extends OofMember>(opts: OofOptions<M>): Promise<OofSummary> {
  const perFold: OofSummary['per_fold'] = [];
  const allLabels: number[] = [];
  const allP: number[] = [];
  return writeAtomically([path.resolve(opts.output)], ([output]) =>
    withDuckDB(async (connection) => {
      await setVariables(connection, { split_train: opts.splitTrain });
      await connection.run(loadSql(codeFile(__dirname, 'tables.sql')));
      for (const member of opts.members) {
        const predictions = await opts.predict(member);
        const { labels } = await readValidRows(member.validTable, predictions.ids);
        perFold.push({ fold: member.fold, teacher: member.teacher, rows: predictions.ids.length, accuracy: accuracy(labels, predictions.pA), log_loss: logLoss(labels, predictions.pA) });
        allLabels.push(...labels);
        allP.push(...predictions.pA);
        await appendPredictions(connection, member.fold, predictions);
      }
      await assertCoverage(connection, opts);
      await setVariables(connection, { output_path: output! });
      await connection.run(loadSql(codeFile(__dirname, 'write-oof.sql')));
      return { rows: allP.length, accuracy: accuracy(allLabels, allP), log_loss: logLoss(allLabels, allP), per_fold: perFold };
    }),
  );
}

async function appendPredictions(connection: DuckDBConnection, fold: number, predictions: Predictions): Promise<void> {
  const appender = await connection.createAppender('predicted');
  try {
    predictions.ids.forEach((id, i) => {
      appender.appendVarchar(id);
      appender.appendInteger(fold);
      appender.appendDouble(predictions.pA[i]!);
      appender.endRow();
    });
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

async function assertCoverage(connection: DuckDBConnection, opts: OofOptions<OofMember>): Promise<void> {
  const byFold = new Map(opts.members.map((m) => [m.fold, m]));
  const [unknown] = await queryRows(connection, loadSql(codeFile(__dirname, 'unknown.sql')));
  if (unknown) {
    const member = byFold.get(Number(unknown['fold']))!;
    throw new UserInputError(
      `${opts.stageId}: ${member.data}'s valid.parquet holds ${unknown['n']} rows that are not training rows of the split (first: ${quotedIds(unknown['first'])})`,
    );
  }
  const [repeated] = await queryRows(connection, loadSql(codeFile(__dirname, 'repeated.sql')));
  if (repeated) {
    const teachers = (repeated['folds'] as number[]).map((fold) => byFold.get(Number(fold))!.teacher).join(', ');
    throw new UserInputError(`${opts.stageId}: training row "${String(repeated['id'])}" is predicted by more than one teacher (${teachers}); every row must be in exactly one fold`);
  }
  const [missing] = await queryRows(connection, loadSql(codeFile(__dirname, 'missing.sql')));
  if (Number(missing?.['n']) > 0) {
    throw new UserInputError(
      `${opts.stageId}: ${missing!['n']} training rows of the split have no out-of-fold prediction (first: ${quotedIds(missing!['first'])}); every row must be in exactly one fold`,
    );
  }
  for (const member of opts.members) {
    await setVariables(connection, { teacher_train: member.trainTable, fold: member.fold });
    const [leaked] = await queryRows(connection, loadSql(codeFile(__dirname, 'leaked.sql')));
    if (Number(leaked?.['n']) > 0) {
      throw new UserInputError(
        `${opts.stageId}: ${member.teacher} predicted pairs that its training data ${member.data}'s train.parquet holds (${leaked!['n']} rows, first: ${quotedIds(leaked!['first'])}); its predictions would not be out of fold`,
      );
    }
  }
}
