import fs from 'node:fs';
import { ident } from './duckdb';
import { UserInputError } from './errors';

/** `feature_columns.json`: the model's feature inputs in order, each with how an A/B swap changes it. */

export type SwapRule = { with: string } | 'negate' | 'reciprocal' | 'keep';
export interface FeatureColumn {
  name: string;
  swap: SwapRule;
}

/** Reads and checks the file: known rules only, and every `with` pair names each other. */
export function readFeatureColumns(file: string): FeatureColumn[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserInputError(`${file}: cannot read feature columns: ${(error as Error).message}`);
  }
  const list = (parsed as { columns?: unknown })?.columns;
  if (!Array.isArray(list)) throw new UserInputError(`${file}: key 'columns' must be a list`);

  const columns = list.map((entry: unknown, i): FeatureColumn => {
    const { name, swap } = (entry ?? {}) as { name?: unknown; swap?: unknown };
    if (typeof name !== 'string' || name === '') throw new UserInputError(`${file}: key 'columns[${i}].name' must be a non-empty string`);
    const isPair = typeof swap === 'object' && swap !== null && typeof (swap as { with?: unknown }).with === 'string';
    if (!isPair && swap !== 'negate' && swap !== 'reciprocal' && swap !== 'keep') {
      throw new UserInputError(`${file}: key 'columns[${i}].swap' of '${name}' must be {"with": <column>}, "negate", "reciprocal" or "keep", not ${JSON.stringify(swap)}`);
    }
    return { name, swap: swap as SwapRule };
  });

  const byName = new Map<string, FeatureColumn>();
  columns.forEach((column, i) => {
    if (byName.has(column.name)) throw new UserInputError(`${file}: key 'columns[${i}].name': '${column.name}' is listed twice`);
    byName.set(column.name, column);
  });
  columns.forEach((column, i) => {
    if (typeof column.swap !== 'object') return;
    const twin = byName.get(column.swap.with);
    const twinRule = twin?.swap;
    if (column.swap.with === column.name || typeof twinRule !== 'object' || twinRule.with !== column.name) {
      throw new UserInputError(`${file}: key 'columns[${i}].swap': '${column.name}' swaps with '${column.swap.with}', which must be another listed column that swaps back with it`);
    }
  });
  return columns;
}

/** The rules by column name, for code that swaps feature vectors in memory. */
export function readSwapRules(file: string): Map<string, SwapRule> {
  return new Map(readFeatureColumns(file).map((column) => [column.name, column.swap]));
}

/**
 * The SQL expression of a feature in the A/B-swapped copy of its row. A reciprocal uses IEEE
 * division: 1/0 is +inf and 1/inf is 0, so swapping twice gives the row back.
 */
export function swappedFeatureSql(column: FeatureColumn): string {
  const name = ident(column.name).text;
  const swap = column.swap;
  if (typeof swap === 'object') return ident(swap.with).text;
  if (swap === 'negate') return `-${name}`;
  if (swap === 'reciprocal') return `1.0::DOUBLE / ${name}`;
  return name;
}
