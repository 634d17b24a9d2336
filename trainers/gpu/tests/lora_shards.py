"""Helpers for merge tests and the merge bench: shard checkpoints with chosen LoRA factors, the dense
mean update they stand for, and a checkpoint's validation loss through the trainer's own code."""

import numpy as np
import torch

from arena_trainer import checkpoint as ckpt
from arena_trainer.merge import lora_pairs


def weights_of(dir_path: str) -> dict:
    return ckpt.read_checkpoint(dir_path)["weights"]


def modules(weights: dict) -> dict:
    """lora_A name -> lora_B name, in name order."""
    return lora_pairs(sorted(weights))


def with_adapters(source: str, dir_path: str, factors: dict) -> str:
    """A copy of checkpoint `source` whose LoRA tensors are replaced by `factors` (name -> tensor)."""
    saved = ckpt.read_checkpoint(source)
    meta = {k: v for k, v in saved["meta"].items() if k != "format"}
    ckpt.write_checkpoint(dir_path, meta, {**saved["weights"], **factors}, saved["optimizer"], saved["rng"], replace=True)
    return dir_path


def mean_update(weight_sets: list, a_name: str, b_name: str) -> np.ndarray:
    """mean(Bᵢ·Aᵢ) in float64, formed densely (d×k is tiny here)."""
    return sum(w[b_name].double().numpy() @ w[a_name].double().numpy() for w in weight_sets) / len(weight_sets)


def best_rank(matrix: np.ndarray, rank: int) -> tuple:
    """(numpy's best rank-r approximation, its relative Frobenius residual)."""
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    approx = (u[:, :rank] * s[:rank]) @ vt[:rank]
    return approx, float(np.linalg.norm(matrix - approx) / np.linalg.norm(matrix))


def factor_average_residuals(weight_sets: list) -> list:
    """Per module, ‖mean(B)·mean(A) − mean(B·A)‖_F / ‖mean(B·A)‖_F: the error of averaging factors."""
    out = []
    for a_name, b_name in modules(weight_sets[0]).items():
        exact = mean_update(weight_sets, a_name, b_name)
        a = np.mean([w[a_name].double().numpy() for w in weight_sets], axis=0)
        b = np.mean([w[b_name].double().numpy() for w in weight_sets], axis=0)
        out.append(float(np.linalg.norm(b @ a - exact) / np.linalg.norm(exact)))
    return out


def validation_loss(config: dict, dataset: dict, checkpoint_dir: str) -> float:
    """Mean BCE of the checkpoint's model on the validation split, as the trainer's epoch-end evaluation."""
    from arena_trainer.data import read_feature_columns, read_split
    from arena_trainer.model import build_model, load_tokenizer, trainable_parameters
    from arena_trainer.spec import settings_from_config
    from arena_trainer.text import TextEncoder
    from arena_trainer.train import autocast_for, evaluate

    st = settings_from_config("config", config)
    columns = read_feature_columns(dataset["feature_columns"])
    valid = read_split(dataset["valid"], columns)
    device = torch.device("cpu")
    model = build_model(st.model, len(columns), device, init_seed=0, quantize=False, training=False)
    ckpt.load_weights(model, trainable_parameters(model), weights_of(checkpoint_dir), checkpoint_dir)
    encoder = TextEncoder(load_tokenizer(st.model.basemodel_path), st.model.max_length, st.model.truncation, st.model.tokenization)
    loss, _ = evaluate(model, encoder, valid, device, st.eval_batch_size, autocast_for(device)[0])
    return loss
