/** The soft-label loss's weights: distill.alpha and temperature, as a soft-labelled split's metadata gives them (docs/gpu-trainer.md, "Soft labels"). */
export interface SoftLabelLoss {
  alpha: number;
  temperature: number;
}

/** A batch's soft labels (NaN: the row has none) and the loss weights they are trained with. */
export interface SoftTargets {
  teacherP: ArrayLike<number>;
  loss: SoftLabelLoss;
}

/** The teacher's probability is clipped to [P_CLIP, 1 - P_CLIP] before its logit is taken, so a 0 or 1 stays finite. */
export const P_CLIP = 1e-6;

/** Numerically stable binary cross-entropy of a logit against a label in [0, 1]. */
export function bceWithLogits(logit: number, label: number): number {
  return Math.max(logit, 0) - logit * label + Math.log1p(Math.exp(-Math.abs(logit)));
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** A row's hard-label loss BCE(z, y) and its derivative σ(z) - y with respect to the logit z. */
export function hardRowLoss(z: number, label: number): { loss: number; grad: number } {
  return { loss: bceWithLogits(z, label), grad: sigmoid(z) - label };
}

/**
 * One training row's loss and its derivative with respect to the student's logit z. Without a soft
 * label (teacherP NaN) the hard loss alone. With one:
 *   loss = alpha·BCE(z, y) + (1 - alpha)·T²·KL(teacher_T ‖ student_T)
 *   d/dz = alpha·(σ(z) - y) + (1 - alpha)·T·(σ(z/T) - q)
 * with z_t = logit(clip(p)), q = σ(z_t/T) and KL = q·log(q/σ(z/T)) + (1-q)·log((1-q)/(1-σ(z/T))),
 * computed as BCE(z/T, q) - BCE(z_t/T, q): the same value, finite however large |z| is (so alpha = 1
 * gives exactly the hard loss). trainers/gpu/arena_trainer/loss.py computes the same.
 */
export function rowLoss(z: number, label: number, teacherP: number, soft: SoftLabelLoss): { loss: number; grad: number } {
  const hard = hardRowLoss(z, label);
  if (Number.isNaN(teacherP)) return hard;
  const { alpha, temperature: T } = soft;
  const p = Math.min(Math.max(teacherP, P_CLIP), 1 - P_CLIP);
  const zt = Math.log(p) - Math.log1p(-p);
  const q = sigmoid(zt / T);
  const kl = bceWithLogits(z / T, q) - bceWithLogits(zt / T, q);
  return {
    loss: alpha * hard.loss + (1 - alpha) * T * T * kl,
    grad: alpha * hard.grad + (1 - alpha) * T * (sigmoid(z / T) - q),
  };
}
