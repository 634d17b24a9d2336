import { checkWorkflowOverrides } from '../lib/config/workflow-overrides';
import { loadConfig } from '../lib/config/load';
import { loadPipeline } from '../lib/pipeline/load';
import { UserInputError } from '../lib/errors';
import { gridLabel, gridValues, type SweepInput } from '../lib/sweep';
import { flagList, parseSetFlags } from './args';

interface GridAxis {
  key: string;
  values: string[];
}

/**
 * The points of `--grid k=v1,v2 --grid k2=w1,w2`: their cartesian product (the first axis varies
 * slowest), each point the `--set` overrides plus one value per axis, every value parsed as `--set`
 * parses it. Every point is checked as `arena run --set` checks its overrides, before anything is
 * started: a bad grid is one error, naming the `--grid` flag.
 */
export function gridPoints(configName: string, grid: string | true | string[] | undefined, set: string | true | string[] | undefined): SweepInput['points'] {
  const setItems = flagList(set);
  // A bad config or --set is reported as such, not as a grid's fault.
  const base = parseSetFlags(setItems);
  checkWorkflowOverrides(configName, base);
  loadConfig(configName, { overrides: base });
  const axes = parseAxes(grid);
  const setKeys = setItems.map((item) => item.slice(0, Math.max(0, item.indexOf('='))));
  for (const axis of axes) {
    const clash = [...setKeys, ...axes.filter((other) => other !== axis).map((other) => other.key)].find((key) => overlaps(key, axis.key));
    if (clash !== undefined) {
      throw new UserInputError(clash === axis.key ? `--grid ${axis.key}: the key is given twice` : `--grid ${axis.key}: overlaps '${clash}', given as well`);
    }
  }
  // A key the config does not have, or a value its schema refuses, is named by its own --grid flag.
  for (const axis of axes) {
    for (const value of axis.values) checkOverrides(configName, [...setItems, `${axis.key}=${value}`], `--grid ${axis.key}=${value}`);
  }
  const points = product(axes).map((values) => [...setItems, ...values.map((value, i) => `${axes[i]!.key}=${value}`)]);
  // Rules that tie keys together (e.g. a value against another key) show only on whole points.
  for (const items of points) checkOverrides(configName, items, `--grid point ${items.slice(setItems.length).join(' ')}`);
  return points.map((items) => ({ overrides: parseSetFlags(items) }));
}

/**
 * The pipeline as every point's config resolves it (its `foreach` ranges and lists come from the
 * config): a problem of the pipeline itself as such, one that only a point's values cause naming the point.
 */
export function checkPipeline(pipeline: string, configName: string, points: SweepInput['points'], set: string | true | string[] | undefined): void {
  const setItems = flagList(set);
  loadPipeline(pipeline, loadConfig(configName, { overrides: parseSetFlags(setItems) }));
  const grids = gridValues(points);
  for (const [i, point] of points.entries()) {
    try {
      loadPipeline(pipeline, loadConfig(configName, { overrides: point.overrides }));
    } catch (err) {
      throw new UserInputError(`--grid point ${i} (${gridLabel(grids[i]!)}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function parseAxes(grid: string | true | string[] | undefined): GridAxis[] {
  const flags = flagList(grid);
  if (flags.length === 0) throw new UserInputError('sweep needs at least one --grid key.path=value1,value2,...');
  return flags.map((flag) => {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UserInputError(`--grid ${flag}: expected key.path=value1,value2,...`);
    const key = flag.slice(0, eq);
    const values = flag.slice(eq + 1).split(',');
    if (values.every((v) => v.trim() === '')) throw new UserInputError(`--grid ${key}: the value list is empty`);
    if (values.some((v) => v.trim() === '')) throw new UserInputError(`--grid ${flag}: a value is empty`);
    const repeated = values.find((v, i) => values.indexOf(v) !== i);
    if (repeated !== undefined) throw new UserInputError(`--grid ${flag}: the value '${repeated}' is given twice`);
    return { key, values };
  });
}

/** `trainer.lr` and `trainer.lr.head` set the same subtree: the points would overwrite each other. */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

function checkOverrides(configName: string, items: string[], what: string): void {
  try {
    const overrides = parseSetFlags(items);
    checkWorkflowOverrides(configName, overrides);
    loadConfig(configName, { overrides });
  } catch (err) {
    throw new UserInputError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function product(axes: GridAxis[]): string[][] {
  return axes.reduce<string[][]>((acc, axis) => acc.flatMap((prefix) => axis.values.map((value) => [...prefix, value])), [[]]);
}
