/**
 * The curves the report draws, pulled out of model.json's `history` (the cpu trainer writes
 * `train_loss_per_step` and `epochs`). Any trainer may plug in, so rather than tie the report to one
 * layout, every list of objects in `history` is scanned: entries with `step` and `loss` are
 * training-loss points, entries with `epoch` and `valid_loss` / `valid_accuracy` are per-epoch
 * points. Shards that trained in parallel report the same step or epoch; their values are averaged.
 * When training-loss entries name more than one `shard`, each shard's curve is kept too, and, where
 * they name their `round`, the loss of each round over all shards (weighted by `rows` when given),
 * at the round's last step: the merged model's training loss, round by round.
 */
export interface TrainingCurves {
  trainLoss: Array<[number, number]>;
  validLoss: Array<[number, number]>;
  validAccuracy: Array<[number, number]>;
  trainLossPerEpoch: Array<[number, number]>;
  /** Empty unless shards trained in parallel. */
  shardLoss: Array<{ shard: number; points: Array<[number, number]> }>;
  roundLoss: Array<[number, number]>;
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

/** Per round: the rows-weighted mean loss over every shard's steps of it, at its last step. */
function lossPerRound(entries: Entry[]): Array<[number, number]> {
  const rounds = new Map<number, { loss: number; rows: number; step: number }>();
  for (const e of entries) {
    if (!finite(e['round'])) continue;
    const rows = finite(e['rows']) ? e['rows'] : 1;
    const r = rounds.get(e['round']) ?? { loss: 0, rows: 0, step: 0 };
    rounds.set(e['round'], { loss: r.loss + (e['loss'] as number) * rows, rows: r.rows + rows, step: Math.max(r.step, e['step'] as number) });
  }
  return [...rounds.values()].map((r): [number, number] => [r.step, r.loss / r.rows]).sort((a, b) => a[0] - b[0]);
}

export function trainingCurves(history: unknown): TrainingCurves {
  const curves: TrainingCurves = { trainLoss: [], validLoss: [], validAccuracy: [], trainLossPerEpoch: [], shardLoss: [], roundLoss: [] };
  const stepEntries: Entry[] = [];
  for (const entries of entryLists(history)) {
    for (const entry of entries) {
      if (finite(entry['step']) && finite(entry['loss'])) {
        curves.trainLoss.push([entry['step'], entry['loss']]);
        stepEntries.push(entry);
      }
      if (finite(entry['epoch'])) {
        if (finite(entry['valid_loss'])) curves.validLoss.push([entry['epoch'], entry['valid_loss']]);
        if (finite(entry['valid_accuracy'])) curves.validAccuracy.push([entry['epoch'], entry['valid_accuracy']]);
        if (finite(entry['train_loss'])) curves.trainLossPerEpoch.push([entry['epoch'], entry['train_loss']]);
      }
    }
  }
  const shards = [...new Set(stepEntries.map((e) => e['shard']).filter(finite))].sort((a, b) => a - b);
  if (shards.length > 1) {
    curves.shardLoss = shards.map((shard) => ({ shard, points: byX(stepEntries.filter((e) => e['shard'] === shard).map((e): [number, number] => [e['step'] as number, e['loss'] as number])) }));
    curves.roundLoss = lossPerRound(stepEntries);
  }
  return {
    ...curves,
    trainLoss: byX(curves.trainLoss),
    validLoss: byX(curves.validLoss),
    validAccuracy: byX(curves.validAccuracy),
    trainLossPerEpoch: byX(curves.trainLossPerEpoch),
  };
}
