import { paramSpecs, type ModelDims, type ParamGroup, type Params } from './model';

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

/** Adam first and second moments, one tensor per parameter, plus the count of steps taken. */
export interface AdamState {
  m: Params;
  v: Params;
}

export interface ScheduleSettings {
  totalSteps: number;
  warmupRatio: number;
  /** Cosine periods over the decay (transformers' num_cycles): 0.5 decays to 0. */
  numCycles: number;
}

export function warmupSteps(s: ScheduleSettings): number {
  return Math.ceil(s.warmupRatio * s.totalSteps);
}

/**
 * Learning-rate multiplier of the optimizer step that moves the step counter from `step` to `step + 1`:
 * linear warm-up (step+1)/warmup, then transformers' cosine max(0, 0.5 (1 + cos(2 pi numCycles progress))),
 * which reaches 0 at `totalSteps` for numCycles 0.5. Unlike transformers' schedule the first step
 * already has a nonzero rate, so no step is wasted. trainers/gpu/arena_trainer/schedule.py is the same.
 */
export function lrMultiplier(step: number, s: ScheduleSettings): number {
  const warmup = warmupSteps(s);
  if (step < warmup) return (step + 1) / warmup;
  const decaySteps = Math.max(1, s.totalSteps - warmup);
  const progress = Math.min(1, (step - warmup) / decaySteps);
  return Math.max(0, 0.5 * (1 + Math.cos(2 * Math.PI * s.numCycles * progress)));
}

/**
 * One AdamW step (decoupled weight decay, as torch.optim.AdamW): p <- p*(1 - lr*wd) - lr*mhat/(sqrt(vhat)+eps).
 * `gradScale` turns the summed gradients into the mean over the step's rows; `t` is the 1-based step
 * number used for bias correction.
 */
export function adamwStep(
  d: ModelDims,
  params: Params,
  grads: Params,
  state: AdamState,
  t: number,
  lrs: Record<ParamGroup, number>,
  weightDecay: number,
  gradScale: number,
): void {
  const c1 = 1 - Math.pow(ADAM_BETA1, t);
  const c2 = 1 - Math.pow(ADAM_BETA2, t);
  for (const spec of paramSpecs(d)) {
    const p = params[spec.name]!, g = grads[spec.name]!;
    const m = state.m[spec.name]!, v = state.v[spec.name]!;
    const lr = lrs[spec.group];
    const decay = spec.decay ? 1 - lr * weightDecay : 1;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! * gradScale;
      m[i] = ADAM_BETA1 * m[i]! + (1 - ADAM_BETA1) * gi;
      v[i] = ADAM_BETA2 * v[i]! + (1 - ADAM_BETA2) * gi * gi;
      p[i] = p[i]! * decay - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + ADAM_EPSILON);
    }
  }
}
