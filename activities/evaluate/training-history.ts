/**
 * The curves the report draws, pulled out of model.json's `history`. The trainer records the
 * protocol's `progress` and `metrics` events; rather than tie the report to one layout, any list of
 * objects in `history` is scanned: entries with `step` and `loss` are training-loss points, entries
 * with `epoch` and `valid_loss` / `valid_accuracy` are per-epoch validation points.
 */
export interface TrainingCurves {
  trainLoss: Array<[number, number]>;
  validLoss: Array<[number, number]>;
  validAccuracy: Array<[number, number]>;
  trainLossPerEpoch: Array<[number, number]>;
}

type Entry = Record<string, unknown>;

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function entryLists(history: unknown): Entry[][] {
  if (Array.isArray(history)) return [history.filter(isEntry)];
  if (!isEntry(history)) return [];
  return Object.values(history).flatMap((value) => (Array.isArray(value) ? [value.filter(isEntry)] : isEntry(value) ? entryLists(value) : []));
}

function byX(points: Array<[number, number]>): Array<[number, number]> {
  const last = new Map<number, number>();
  for (const [x, y] of points) last.set(x, y);
  return [...last.entries()].sort((a, b) => a[0] - b[0]);
}

export function trainingCurves(history: unknown): TrainingCurves {
  const curves: TrainingCurves = { trainLoss: [], validLoss: [], validAccuracy: [], trainLossPerEpoch: [] };
  for (const entries of entryLists(history)) {
    for (const entry of entries) {
      if (finite(entry['step']) && finite(entry['loss'])) curves.trainLoss.push([entry['step'], entry['loss']]);
      if (finite(entry['epoch'])) {
        if (finite(entry['valid_loss'])) curves.validLoss.push([entry['epoch'], entry['valid_loss']]);
        if (finite(entry['valid_accuracy'])) curves.validAccuracy.push([entry['epoch'], entry['valid_accuracy']]);
        if (finite(entry['train_loss'])) curves.trainLossPerEpoch.push([entry['epoch'], entry['train_loss']]);
      }
    }
  }
  return {
    trainLoss: byX(curves.trainLoss),
    validLoss: byX(curves.validLoss),
    validAccuracy: byX(curves.validAccuracy),
    trainLossPerEpoch: byX(curves.trainLossPerEpoch),
  };
}
