"""The learning-rate schedule of trainers/cpu/adamw.ts, so both trainers warm up and decay alike."""

import math


def warmup_steps(total_steps: int, warmup_ratio: float) -> int:
    return math.ceil(warmup_ratio * total_steps)


def lr_multiplier(step: int, total_steps: int, warmup_ratio: float, num_cycles: float = 0.5) -> float:
    """Multiplier of the optimizer step that moves the counter from `step` to `step + 1`: linear warm-up
    (step+1)/warmup, then transformers' cosine max(0, 0.5 * (1 + cos(2 pi num_cycles progress))):
    num_cycles 0.5 decays to 0 at total_steps, the reference's 0.27 ends at 0.437 of the peak."""
    warmup = warmup_steps(total_steps, warmup_ratio)
    if step < warmup:
        return (step + 1) / warmup
    decay = max(1, total_steps - warmup)
    progress = min(1.0, (step - warmup) / decay)
    return max(0.0, 0.5 * (1 + math.cos(2 * math.pi * num_cycles * progress)))
