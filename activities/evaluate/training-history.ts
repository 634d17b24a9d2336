/**
 * The curves the report draws, pulled out of model.json's `history` (the cpu trainer writes
 * `train_loss_per_step` and `epochs`). Any trainer may plug in, so rather than tie the report to one
 * layout, every list of objects in `history` is scanned: entries with `step` and `loss` are
 * training-loss points, entries with `epoch` and `valid_loss` / `valid_accuracy` are per-epoch
 * points. Shards that trained in parallel report the same step or epoch; their values are averaged.
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
  const sums = new Map<number, { total: number; count: number }>();
  for (const [x, y] of points) {
    const entry = sums.get(x) ?? { total: 0, count: 0 };
    entry.total += y;
    entry.count++;
    sums.set(x, entry);
  }
  return [...sums.entries()].map(([x, { total, count }]): [number, number] => [x, total / count]).sort((a, b) => a[0] - b[0]);
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
