import { UserInputError } from '../lib/errors';
import { parseInstanceId } from '../lib/pipeline/instance-id';
import type { StageResult } from '../lib/stage';

/**
 * The upstream instances of one fan-out over `fold` that provide `file` (a teacher's model.onnx,
 * a fold's valid.parquet), by fold number in ascending order. The stage names come from the
 * pipeline, so they are found by what they hold, not by name.
 */
export function foldInstances(stageId: string, upstream: Record<string, StageResult>, file: string): Map<number, { id: string; result: StageResult }> {
  const byFold = new Map<number, { id: string; result: StageResult }>();
  for (const [id, result] of Object.entries(upstream)) {
    const fold = parseInstanceId(id)?.values['fold'];
    if (fold === undefined || !(file in result.files)) continue;
    const k = Number(fold);
    const other = byFold.get(k);
    if (other) throw new UserInputError(`${stageId}: both ${other.id} and ${id} provide '${file}' for fold ${k}; check the stage's needs in the pipeline`);
    byFold.set(k, { id, result });
  }
  if (byFold.size === 0) {
    throw new UserInputError(`${stageId}: no upstream instance with a fold provides '${file}' (upstream: ${Object.keys(upstream).join(', ') || 'none'}); check the stage's needs in the pipeline`);
  }
  return new Map([...byFold.entries()].sort(([a], [b]) => a - b));
}
