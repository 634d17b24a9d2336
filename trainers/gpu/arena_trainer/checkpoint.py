"""Checkpoint folders of the GPU trainer.

    checkpoint.json        format, model shape, feature columns, training position, history, RNG (python, numpy)
    weights.safetensors    trained weights by parameter name (LoRA, feature branch, head) + feature mean/std
    optimizer.safetensors  AdamW moments and step count of every trained parameter (`exp_avg.<name>`, ...)
    rng.safetensors        torch CPU and CUDA generator states

The backbone itself is not stored: it is the read-only folder of `model.basemodel_path`.
"""

import json
import os
import random
import shutil
import time

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .errors import UserInputError

FORMAT = "arena-gemma2-qlora-checkpoint/1"
SCALING_NAMES = ("feature_mean", "feature_std")
MOMENTS = ("exp_avg", "exp_avg_sq", "step")


def model_shape(settings, feature_columns: list, hidden_size: int) -> dict:
    """What must match for a checkpoint to load into a model built from `settings`."""
    m = settings.model
    return {
        "feature_columns": list(feature_columns),
        "hidden_size": hidden_size,
        "feature_dim": m.feature_dim,
        "hidden_dim": m.hidden_dim,
        "lora": {"r": m.lora.r, "alpha": m.lora.alpha, "target_modules": list(m.lora.target_modules)},
    }


def python_rng_state() -> dict:
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": [version, list(internal), gauss],
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
    }


def restore_rng(python_state: dict, tensors: dict, prefix: str = "") -> None:
    """Puts back the generators saved by python_rng_state() and rng_tensors(prefix)."""
    version, internal, gauss = python_state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = python_state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors[f"{prefix}torch"])
    if torch.cuda.is_available() and f"{prefix}cuda" in tensors:
        torch.cuda.set_rng_state(tensors[f"{prefix}cuda"])


def rng_tensors(prefix: str = "") -> dict:
    """torch's generator states; a shard's data position keeps its own under the prefix `<shard key>.`."""
    out = {f"{prefix}torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        out[f"{prefix}cuda"] = torch.cuda.get_rng_state()
    return out


def shard_key(shard: dict) -> str:
    """The key of a shard's data position in `state.positions`, as trainers/cpu/checkpoint.ts."""
    return f"{shard['index']}/{shard['count']}"


def write_checkpoint(dir_path: str, meta: dict, weights: dict, optimizer: dict, rng: dict, *, replace: bool) -> None:
    """Writes the folder atomically: a temporary sibling renamed into place when complete. With
    `replace` false an existing folder is kept (a resumed run re-saving a step writes the same)."""
    if os.path.exists(dir_path) and not replace:
        return
    parent = os.path.dirname(os.path.abspath(dir_path))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(dir_path)}.tmp-{os.getpid()}-{time.time_ns()}")
    os.makedirs(tmp)
    cpu = lambda tensors: {k: v.detach().to("cpu", torch.float32 if v.is_floating_point() else v.dtype).contiguous() for k, v in tensors.items()}  # noqa: E731
    save_file(cpu(weights), os.path.join(tmp, "weights.safetensors"))
    save_file(cpu(optimizer), os.path.join(tmp, "optimizer.safetensors"))
    save_file(cpu(rng), os.path.join(tmp, "rng.safetensors"))
    with open(os.path.join(tmp, "checkpoint.json"), "w", encoding="utf-8") as f:
        json.dump({"format": FORMAT, **meta}, f)
    if os.path.exists(dir_path):
        old = f"{tmp}.old"
        os.rename(dir_path, old)
        os.rename(tmp, dir_path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, dir_path)


def read_checkpoint(dir_path: str) -> dict:
    """{meta, weights, optimizer, rng} of a checkpoint folder, tensors on the CPU."""
    try:
        with open(os.path.join(dir_path, "checkpoint.json"), encoding="utf-8") as f:
            meta = json.load(f)
        weights = load_file(os.path.join(dir_path, "weights.safetensors"))
        optimizer = load_file(os.path.join(dir_path, "optimizer.safetensors"))
        rng = load_file(os.path.join(dir_path, "rng.safetensors"))
    except (OSError, ValueError) as err:
        raise UserInputError(f"{dir_path}: not a readable checkpoint: {err}") from None
    if meta.get("format") != FORMAT:
        raise UserInputError(f"{dir_path}/checkpoint.json: format is {meta.get('format')}, expected {FORMAT}")
    return {"meta": meta, "weights": weights, "optimizer": optimizer, "rng": rng}


def assert_compatible(checkpoint: dict, dir_path: str, shape: dict) -> None:
    have = checkpoint["meta"]["shape"]
    for key, expected in shape.items():
        if have.get(key) != expected:
            raise UserInputError(f"{dir_path}: checkpoint has {key} = {json.dumps(have.get(key))} but the run expects {json.dumps(expected)}")


def optimizer_tensors(optimizer: torch.optim.Optimizer, names: dict) -> dict:
    """AdamW state by parameter name; `names` maps parameter -> name."""
    out = {}
    for param, state in optimizer.state.items():
        name = names[param]
        for key in MOMENTS:
            value = state[key]
            out[f"{key}.{name}"] = value if torch.is_tensor(value) else torch.tensor(float(value))
    return out


def load_optimizer_state(optimizer: torch.optim.Optimizer, params: dict, tensors: dict) -> None:
    """Puts the saved moments back; parameters without saved state (none stepped yet) start empty."""
    for name, param in params.items():
        if f"exp_avg.{name}" not in tensors:
            continue
        optimizer.state[param] = {
            "step": tensors[f"step.{name}"].to(torch.float32).reshape(()),
            "exp_avg": tensors[f"exp_avg.{name}"].to(param.device, torch.float32).clone(),
            "exp_avg_sq": tensors[f"exp_avg_sq.{name}"].to(param.device, torch.float32).clone(),
        }


def load_weights(model: torch.nn.Module, params: dict, weights: dict, dir_path: str) -> None:
    with torch.no_grad():
        for name, param in params.items():
            if name not in weights:
                raise UserInputError(f"{dir_path}/weights.safetensors: tensor {name} is missing")
            if tuple(weights[name].shape) != tuple(param.shape):
                raise UserInputError(f"{dir_path}/weights.safetensors: tensor {name} has shape {tuple(weights[name].shape)}, the model {tuple(param.shape)}")
            param.copy_(weights[name].to(param.device, param.dtype))
        for name in SCALING_NAMES:
            getattr(model, name).copy_(weights[name])
