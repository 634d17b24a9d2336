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
"""

import torch


def merge_lora(a_factors: list, b_factors: list) -> tuple:
    """(A', B', relative residual) for the shards' A (r×k) and B (d×r) of one module."""
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
    return a_new.to(torch.float32), b_new.to(torch.float32), residual
