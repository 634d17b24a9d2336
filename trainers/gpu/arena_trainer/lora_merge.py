"""The exact merge of N shards' LoRA adapters of one module: the rank-r factors of the mean update.

Each shard i holds ΔWᵢ = (α/r)·Bᵢ·Aᵢ (B: d×r, A: r×k). The mean ΔW is (α/r)·U·V with
U = [B₁ … B_N] (d×Nr) and V = [A₁; …; A_N]/N (Nr×k); α/r is the same for every shard (the
checkpoints' shapes are checked), so it cancels and the merge works on B·A. With U = Q_u·R_u and
Vᵀ = Q_v·R_v (reduced QR), U·V = Q_u·(R_u·R_vᵀ)·Q_vᵀ, and Q_u, Q_v have orthonormal columns: the
singular values and vectors of the mean come from the SVD of the small (Nr)×(Nr) core R_u·R_vᵀ.
Nothing d×k is ever formed.

Truncating to the r largest singular values gives the best rank-r approximation (Eckart–Young);
when the mean has rank ≤ r it is the mean itself. The relative residual
‖mean − merged‖_F / ‖mean‖_F = √(Σ_{j>r} σⱼ²) / √(Σ σⱼ²) also comes from the core.

How σ is split between the new factors: A' = c·(r orthonormal rows), B' = (left vectors)·Σ_r / c,
with c the shards' RMS row norm of A. Balanced √σ factors would zero both A's row and B's column of
every direction whose σ is 0 (a mean of rank < r, e.g. shards that agree): both gradients of such a
direction are then 0 and it never trains again. Keeping A's rows non-zero is PEFT's own
initialisation (A random, B zero), so those directions train like fresh ones; and keeping A at the
shards' scale keeps the size of the change an Adam step on B makes to ΔW what it was before the merge.

The gauge: B'·A' is unchanged by B' → B'·T⁻¹, A' → T·A' for any invertible r×r T. The merge picks the
T that brings A' closest to the shards' mean factor, T = argmin ‖T·A' − mean(A)‖_F = mean(A)·A'ᵀ·(A'·A'ᵀ)⁻¹
(least squares; A'·A'ᵀ = c²·I here): T·A' is mean(A) projected onto the row space of the merged update.
Not the orthogonal Procrustes T: shards that agree have A' = T·Aᵢ for a general, non-orthogonal T (their
A is not orthonormal), which an orthogonal T (times a scale) cannot undo, whereas the least-squares T
recovers mean(A) exactly whenever it lies in that row space — identical shards, or shards whose A moved
only within it. The aligned factors live in the shards' coordinates, so merge.py can average their AdamW
moments like any other parameter's. T ill-conditioned (cond > MAX_GAUGE_CONDITION) means mean(A) has
nearly lost a direction of the merged update: T·A' would be close to rank-deficient and B'·T⁻¹ large, and
mean(A)'s coordinates no longer describe the merged factors; such a module keeps the split above and its
moments are reset. T invertible keeps A's r rows independent, so the σ = 0 property above still holds.
"""

import torch

# Above this condition number of T the module falls back to the split without alignment (and reset
# moments). PEFT's A is a random r×k matrix with k ≫ r, whose condition number is about
# (√k + √r)/(√k − √r): 1.7 for the tiny Gemma-2 (r 4, k 64), 1.14 for Gemma-2-9B r16 (k 3584); 100
# leaves shards that moved their A far room, and bounds the float error T⁻¹ adds to B'·A' (≈ 1e-14).
MAX_GAUGE_CONDITION = 100.0


def align(a_new: torch.Tensor, b_new: torch.Tensor, mean_a: torch.Tensor):
    """(T·A', B'·T⁻¹) with T = mean(A)·A'ᵀ·(A'·A'ᵀ)⁻¹, or None when T is ill-conditioned (all float64)."""
    t = mean_a @ a_new.T @ torch.linalg.inv(a_new @ a_new.T)
    condition = float(torch.linalg.cond(t))
    if not condition <= MAX_GAUGE_CONDITION:  # also catches inf / nan of a singular T
        return None
    # B'·T⁻¹ as the solution X of X·T = B'.
    return t @ a_new, torch.linalg.solve(t.T, b_new.T).T


def merge_lora(a_factors: list, b_factors: list) -> tuple:
    """(A', B', relative residual, aligned) for the shards' A (r×k) and B (d×r) of one module; aligned
    says whether the factors were brought to the shards' mean A (else: the unaligned split)."""
    rank = a_factors[0].shape[0]
    count = len(a_factors)
    u = torch.cat([b.to(torch.float64) for b in b_factors], dim=1)
    v = torch.cat([a.to(torch.float64) for a in a_factors], dim=0) / count
    q_u, r_u = torch.linalg.qr(u)
    q_v, r_v = torch.linalg.qr(v.T)
    left, sigma, right_t = torch.linalg.svd(r_u @ r_v.T)
    total = sigma.square().sum()
    dropped = sigma[rank:].square().sum()
    residual = float((dropped / total).sqrt()) if total > 0 else 0.0
    row_norm = float(torch.cat(a_factors).to(torch.float64).square().sum().div(count * rank).sqrt())
    # All-zero A in every shard (never a PEFT adapter) still gets orthonormal rows rather than 0/0.
    scale = row_norm if row_norm > 0 else 1.0
    a_new = scale * (q_v @ right_t[:rank].T).T
    b_new = (q_u @ left[:, :rank]) * (sigma[:rank] / scale)
    aligned = align(a_new, b_new, torch.stack([a.to(torch.float64) for a in a_factors]).mean(0))
    if aligned is not None:
        a_new, b_new = aligned
    return a_new.to(torch.float32), b_new.to(torch.float32), residual, aligned is not None
