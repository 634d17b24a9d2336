"""The `merge` verb: shard checkpoints into the one the next round starts from. LoRA adapters get the
exact merge of lora_merge.py; every other tensor the element-wise average, as trainers/cpu/merge.ts."""

import json
import os

import torch

from . import checkpoint as ckpt
from .errors import UserInputError
from .events import emit, log
from .lora_merge import merge_lora
from .selection import record_evaluation

LORA_A = ".lora_A."
LORA_B = ".lora_B."


def average(tensor_sets: list, dir_paths: list, what: str) -> dict:
    """Element-wise mean in float64, in input order; the inputs must hold the same tensors."""
    names = sorted(tensor_sets[0])
    for tensors, dir_path in zip(tensor_sets[1:], dir_paths[1:]):
        if sorted(tensors) != names:
            raise UserInputError(f"{dir_path}: {what} tensors differ from those of {dir_paths[0]}")
    out = {}
    for name in names:
        total = torch.zeros_like(tensor_sets[0][name], dtype=torch.float64)
        for tensors in tensor_sets:
            total += tensors[name].to(torch.float64)
        out[name] = (total / len(tensor_sets)).to(torch.float32)
    return out


def lora_pairs(names: list) -> dict:
    """lora_A name -> lora_B name of every adapted module."""
    return {name: name.replace(LORA_A, LORA_B) for name in names if LORA_A in name}


def merge_adapters(tensor_sets: list, weights: dict) -> tuple:
    """Replaces each module's averaged factors in `weights` by the exact merge; (the modules' residuals,
    the factor names of the modules that fell back to the unaligned split)."""
    residuals, unaligned = [], set()
    for a_name, b_name in lora_pairs(sorted(weights)).items():
        a, b, residual, aligned = merge_lora([t[a_name] for t in tensor_sets], [t[b_name] for t in tensor_sets])
        weights[a_name], weights[b_name] = a, b
        residuals.append(residual)
        if not aligned:
            unaligned |= {a_name, b_name}
    return residuals, unaligned


def reset_adapter_moments(moments: dict, lora_names: set) -> None:
    """Factors of a module whose merge could not be aligned to the shards' mean A (lora_merge.py) live
    in a new basis, where AdamW state of the old bases means nothing: zero moments and step 0, exactly
    a fresh parameter's state (bias correction then makes the first step an ordinary lr-sized one).
    See docs/gpu-trainer.md."""
    for key in moments:
        kind, name = key.split(".", 1)
        if name in lora_names:
            moments[key] = torch.zeros(()) if kind == "step" else torch.zeros_like(moments[key])


def merge_histories(histories: list) -> dict:
    """The union of the inputs' histories: entries a round inherited from its init checkpoint appear once."""
    def unique(entries):
        return list({json.dumps(e, sort_keys=True): e for e in entries}.values())

    key = lambda e: (e["step"], e["shard"])  # noqa: E731
    return {
        "train": sorted(unique([e for h in histories for e in h["train"]]), key=key),
        "valid": sorted(unique([e for h in histories for e in h["valid"]]), key=key),
    }


def merge_checkpoints(inputs: list) -> tuple:
    """(meta, weights, optimizer, rng, LoRA residuals, LoRA factors whose moments were reset) of the merge.
    LoRA adapters are merged exactly, aligned to the shards' mean A; weights other than LoRA factors and
    the AdamW moments of all but the unaligned modules' factors (reset) are averaged, each parameter's
    AdamW step is the largest input's; feature scaling comes from the first input (every
    shard computes it from the same split). Step is the largest input step; early stopping is the first
    input's state, which parallel shards carry unchanged from the round start (only the merged model
    is judged, in merge_command). Data positions and RNG states are not merged but kept per shard
    (each input holds its own shard's, its torch generators under `<shard key>.` in rng.safetensors),
    so that every shard of the next round goes on where it stopped."""
    loaded = [ckpt.read_checkpoint(d) for d in inputs]
    first = loaded[0]
    for c, d in zip(loaded[1:], inputs[1:]):
        ckpt.assert_compatible(c, d, first["meta"]["shape"])
    weights = average([c["weights"] for c in loaded], inputs, "weight")
    residuals, unaligned = merge_adapters([c["weights"] for c in loaded], weights)
    for name in ckpt.SCALING_NAMES:
        weights[name] = first["weights"][name]
    moments = average([{k: v for k, v in c["optimizer"].items() if not k.startswith("step.")} for c in loaded], inputs, "optimizer")
    for name in first["optimizer"]:
        if name.startswith("step."):
            moments[name] = torch.stack([c["optimizer"][name].reshape(()) for c in loaded if name in c["optimizer"]]).max()
    reset_adapter_moments(moments, unaligned)
    states = [c["meta"]["state"] for c in loaded]
    state = {
        "step": max(s["step"] for s in states),
        "epoch": max(s["epoch"] for s in states),
        "batch_in_epoch": 0,
        "early_stopping": dict(states[0]["early_stopping"]),
        "history": merge_histories([s["history"] for s in states]),
        "positions": {k: v for s in states for k, v in s["positions"].items()},
    }
    meta = {**first["meta"], "state": state, "merged_from": list(inputs)}
    meta.pop("format", None)
    rng = {**first["rng"], **{k: v for c in loaded for k, v in c["rng"].items() if "." in k}}
    return meta, weights, moments, rng, residuals, unaligned


def validate_merged(spec: dict, meta: dict, weights: dict) -> dict:
    """The merged model on the validation split, dropout off, as training validates (4-bit on CUDA
    when configured): what the round is selected and early-stopped by."""
    from .data import read_feature_columns, read_split
    from .model import load_tokenizer, pick_device
    from .restore import model_with_weights
    from .text import TextEncoder
    from .train import autocast_for, evaluate

    st = spec["settings"]
    columns = meta["shape"]["feature_columns"]
    if read_feature_columns(spec["feature_columns"]) != columns:
        raise UserInputError(f"{spec['feature_columns']}: feature columns differ from those of the merged checkpoints")
    valid = read_split(spec["valid_data"], columns)
    device = pick_device()
    model = model_with_weights(st, {"meta": meta, "weights": weights}, "merged checkpoint", device, quantize=st.model.quantization == "4bit" and device.type == "cuda")
    encoder = TextEncoder(load_tokenizer(st.model.basemodel_path), st.model.max_length, st.model.truncation, st.model.tokenization)
    loss, accuracy = evaluate(model, encoder, valid, device, st.eval_batch_size, autocast_for(device)[0])
    return {"step": meta["state"]["step"], "epoch": last_trained_epoch(meta["state"].get("positions", {}).values()), "valid_loss": loss, "valid_accuracy": accuracy}


def last_trained_epoch(positions) -> int:
    """The latest epoch the merged shards trained in: a position mid-epoch is in its epoch, one at an
    epoch's first batch (an epoch-round end, or a K-step round that ended on the boundary) just after it."""
    return max((p["epoch"] if p["batch_in_epoch"] > 0 else max(0, p["epoch"] - 1) for p in positions), default=0)


def merge_command(spec: dict) -> None:
    meta, weights, moments, rng, residuals, unaligned = merge_checkpoints(spec["inputs"])
    metrics = None
    if spec["valid_data"]:
        metrics = validate_merged(spec, meta, weights)
        t = spec["settings"].trainer
        stop = record_evaluation(meta["state"]["early_stopping"], t.select_metric, metrics, t.early_stopping_patience)
        log(f"merged model: valid loss {metrics['valid_loss']:.4f}, valid accuracy {metrics['valid_accuracy']:.4f}")
        if stop:
            log(stop)
    out = os.path.join(spec["output_dir"], "checkpoint")
    ckpt.write_checkpoint(out, meta, weights, moments, rng, replace=True)
    done = {"event": "done", "checkpoint": out, "step": meta["state"]["step"], "stopped_early": meta["state"]["early_stopping"]["stopped"]}
    if metrics:
        done["valid_metrics"] = metrics
    if residuals:
        # Relative Frobenius residual of the rank-r merge over the adapted modules (0 = exact).
        # moments_reset: modules whose factors could not be aligned (their AdamW state restarts); the
        # others' moments are averaged.
        reset = len(unaligned) // 2
        done["merge_residual"] = {
            "max": max(residuals), "mean": sum(residuals) / len(residuals), "modules": len(residuals),
            "moments_averaged": len(residuals) - reset, "moments_reset": reset,
        }
        log(f"LoRA merge of {len(residuals)} modules: relative residual max {done['merge_residual']['max']:.3g}, mean {done['merge_residual']['mean']:.3g}; moments averaged for {len(residuals) - reset}, reset for {reset}")
    log(f"merged {len(spec['inputs'])} checkpoints at step {meta['state']['step']} into {out}")
    emit(done)
