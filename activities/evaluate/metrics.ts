import { predictedWinner } from '../../lib/inference/tta';

/**
 * Binary metrics for "model_a wins": `labels[i]` is 1 when model_a won, `p[i]` is the predicted
 * probability that it did.
 */
export type Labels = ArrayLike<number>;
export type Probabilities = ArrayLike<number>;

/** Keeps log loss finite for a confident mistake: probabilities are clipped to [1e-15, 1 − 1e-15]. */
export const LOG_LOSS_CLIP = 1e-15;

export function accuracy(labels: Labels, p: Probabilities): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if ((predictedWinner(p[i]!) === 'model_a') === (labels[i] === 1)) correct++;
  return labels.length === 0 ? Number.NaN : correct / labels.length;
}

export function logLoss(labels: Labels, p: Probabilities, clip = LOG_LOSS_CLIP): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const q = Math.min(Math.max(p[i]!, clip), 1 - clip);
    total -= labels[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return labels.length === 0 ? Number.NaN : total / labels.length;
}

/**
 * Area under the ROC curve as the Mann–Whitney statistic: tied scores share their average rank,
 * which counts a tied positive/negative pair as half right. Null when one class is absent.
 */
export function rocAuc(labels: Labels, p: Probabilities): number | null {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((x, y) => p[x]! - p[y]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && p[order[end + 1]!] === p[order[start]!]) end++;
    const averageRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface CalibrationBin {
  /** Bin bounds on p(model_a); each bin is [lo, hi) except the last, which includes 1. */
  lo: number;
  hi: number;
  rows: number;
  mean_p: number | null;
  /** Fraction of the bin's rows that model_a actually won. */
  observed: number | null;
}

export function calibrationBins(labels: Labels, p: Probabilities, binCount = 10): CalibrationBin[] {
  const sums = new Float64Array(binCount);
  const wins = new Float64Array(binCount);
  const counts = new Float64Array(binCount);
  for (let i = 0; i < labels.length; i++) {
    const bin = Math.min(Math.floor(p[i]! * binCount), binCount - 1);
    sums[bin]! += p[i]!;
    wins[bin]! += labels[i] === 1 ? 1 : 0;
    counts[bin]!++;
  }
  return Array.from({ length: binCount }, (_, b) => ({
    lo: b / binCount,
    hi: (b + 1) / binCount,
    rows: counts[b]!,
    mean_p: counts[b]! > 0 ? sums[b]! / counts[b]! : null,
    observed: counts[b]! > 0 ? wins[b]! / counts[b]! : null,
  }));
}

/** Expected calibration error of p(model_a): the row-weighted mean of |observed − mean_p| over the bins. */
export function expectedCalibrationError(bins: readonly CalibrationBin[]): number {
  const rows = bins.reduce((total, bin) => total + bin.rows, 0);
  if (rows === 0) return Number.NaN;
  return bins.reduce((total, bin) => (bin.rows === 0 ? total : total + (bin.rows / rows) * Math.abs(bin.observed! - bin.mean_p!)), 0);
}

export interface GroupAccuracy {
  rows: number;
  accuracy: number;
  /** The 95% Wilson score interval of the accuracy: small groups get wide, honest bounds. */
  ci95: [number, number];
}

/** The group that pools every group with fewer rows than `accuracyByGroup`'s `minRows`. */
export const OTHER_GROUP = 'other';

/** 95% Wilson score interval of a proportion `correct / rows` (rows > 0). */
export function wilsonInterval(correct: number, rows: number): [number, number] {
  const z = 1.959963984540054;
  const share = correct / rows;
  const denominator = 1 + (z * z) / rows;
  const center = (share + (z * z) / (2 * rows)) / denominator;
  const half = (z * Math.sqrt((share * (1 - share)) / rows + (z * z) / (4 * rows * rows))) / denominator;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/**
 * Accuracy within each group (language, source) with its 95% interval, groups in descending size,
 * then by name; groups with fewer than `minRows` rows are pooled as "other", last.
 */
export function accuracyByGroup(labels: Labels, p: Probabilities, groups: readonly string[], minRows = 1): Record<string, GroupAccuracy> {
  const tally = new Map<string, { rows: number; correct: number }>();
  for (let i = 0; i < labels.length; i++) {
    const entry = tally.get(groups[i]!) ?? { rows: 0, correct: 0 };
    entry.rows++;
    if ((predictedWinner(p[i]!) === 'model_a') === (labels[i] === 1)) entry.correct++;
    tally.set(groups[i]!, entry);
  }
  const sorted = [...tally.entries()].sort(([a, x], [b, y]) => y.rows - x.rows || (a < b ? -1 : a > b ? 1 : 0));
  const kept = sorted.filter(([group, { rows }]) => rows >= minRows && group !== OTHER_GROUP);
  const pooled = sorted.filter((entry) => !kept.includes(entry)).reduce((sum, [, { rows, correct }]) => ({ rows: sum.rows + rows, correct: sum.correct + correct }), { rows: 0, correct: 0 });
  const entries = pooled.rows > 0 ? [...kept, [OTHER_GROUP, pooled] as const] : kept;
  return Object.fromEntries(entries.map(([group, { rows, correct }]) => [group, { rows, accuracy: correct / rows, ci95: wilsonInterval(correct, rows) }]));
}

export interface LongerResponseBaseline {
  accuracy: number;
  /** Rows where both responses have the same length; the baseline picks model_a for them. */
  ties: number;
}

/** "The longer response wins", by length in characters (Unicode code points); ties go to model_a. */
export function longerResponseBaseline(labels: Labels, lengthA: ArrayLike<number>, lengthB: ArrayLike<number>): LongerResponseBaseline {
  let correct = 0;
  let ties = 0;
  for (let i = 0; i < labels.length; i++) {
    if (lengthA[i] === lengthB[i]) ties++;
    if ((lengthA[i]! >= lengthB[i]!) === (labels[i] === 1)) correct++;
  }
  return { accuracy: labels.length === 0 ? Number.NaN : correct / labels.length, ties };
}
