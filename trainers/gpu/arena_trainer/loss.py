"""The training loss of a batch: hard-label BCE, and on rows with a soft label the distillation
loss of trainers/cpu/loss.ts (the same formula, so both trainers train the same objective)."""

import torch
import torch.nn.functional as F

from .data import SoftLabelLoss

# The teacher's probability is clipped to [P_CLIP, 1 - P_CLIP] before its logit is taken, so 0 or 1 stays finite.
P_CLIP = 1e-6


def summed_loss(logits: torch.Tensor, labels: torch.Tensor, teacher_p: torch.Tensor | None, soft_loss: SoftLabelLoss | None) -> torch.Tensor:
    """Sum over the batch's rows of their loss (the step divides by its rows). Without soft labels
    (teacher_p None: the split has no teacher_p column) BCE(z, y). A row with a soft label p (NaN: none)
    is trained on
        alpha·BCE(z, y) + (1 - alpha)·T²·KL(teacher_T ‖ student_T),
    z_t = logit(clip(p)), q = σ(z_t/T), KL = q·log(q/σ(z/T)) + (1-q)·log((1-q)/(1-σ(z/T))), computed as
    BCE(z/T, q) - BCE(z_t/T, q): the same value, finite however large |z| is (so alpha = 1 is exactly
    the hard loss). Its gradient in z: alpha·(σ(z) - y) + (1 - alpha)·T·(σ(z/T) - q)."""
    if teacher_p is None:
        return F.binary_cross_entropy_with_logits(logits, labels, reduction="sum")
    hard = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    has = ~torch.isnan(teacher_p)
    # A row without a soft label gets a placeholder p: its (unused) soft term must stay finite, or its
    # NaN gradient would leak through torch.where's zero.
    p = torch.where(has, teacher_p, torch.full_like(teacher_p, 0.5)).clamp(P_CLIP, 1 - P_CLIP)
    alpha, t = soft_loss.alpha, soft_loss.temperature
    teacher_logit = torch.log(p) - torch.log1p(-p)
    q = torch.sigmoid(teacher_logit / t)
    kl = F.binary_cross_entropy_with_logits(logits / t, q, reduction="none") - F.binary_cross_entropy_with_logits(teacher_logit / t, q, reduction="none")
    return torch.where(has, alpha * hard + (1 - alpha) * t * t * kl, hard).sum()
