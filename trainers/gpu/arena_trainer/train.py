"""The `train` verb: epochs [round.epoch_start, round.epoch_end) of one shard, as trainers/cpu/train.ts."""

import contextlib
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import checkpoint as ckpt
from .batches import length_sorted_batches, model_inputs, text_lengths
from .data import feature_scaling, read_feature_columns, read_split, training_row_indices
from .errors import Preempted, UserInputError
from .events import emit, log
from .model import build_model, load_tokenizer, parameter_group, pick_device, trainable_parameters
from .requests import PREEMPT
from .rng import Mulberry32, derive_seed, shuffle_in_place
from .schedule import lr_multiplier
from .selection import record_evaluation, valid_metrics
from .text import TextEncoder

# Stream tags of derive_seed, the same as trainers/cpu/train.ts.
INIT_STREAM = 1
SHUFFLE_STREAM = 2
DROPOUT_STREAM = 3
PROGRESS_INTERVAL_S = 1.0


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # CUDA generators too


def autocast_for(device: torch.device):
    if device.type != "cuda":
        return contextlib.nullcontext(), None
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    return torch.autocast("cuda", dtype=dtype), scaler


def make_optimizer(params: dict, settings) -> torch.optim.AdamW:
    t = settings.trainer
    base = {"backbone": t.lr_backbone, "features": t.lr_features, "head": t.lr_head}
    groups = [
        {"name": group, "params": [p for n, p in params.items() if parameter_group(n) == group], "lr": lr, "base_lr": lr}
        for group, lr in base.items()
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=t.weight_decay)


def steps_in_epoch(rows: int, batch_size: int, accumulation: int) -> int:
    return math.ceil(math.ceil(rows / batch_size) / accumulation)


def evaluate(model, encoder, split, device, batch_size: int, autocast) -> tuple:
    """Mean BCE and accuracy (p >= 0.5 means model_a) over every row of `split`, dropout off."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for rows in length_sorted_batches(text_lengths(split.prompts, split.responses_a, split.responses_b), batch_size):
            ids, mask, feats = model_inputs(encoder, [split.prompts[i] for i in rows], [split.responses_a[i] for i in rows], [split.responses_b[i] for i in rows], split.features[rows], device)
            with autocast:
                logits = model(ids, mask, feats).float().squeeze(-1)
            labels = torch.as_tensor(split.labels[rows], device=device)
            loss += F.binary_cross_entropy_with_logits(logits, labels, reduction="sum").item()
            correct += int(((logits >= 0).float() == labels).sum().item())
    model.train()
    return loss / len(split), correct / len(split)


def fresh_state(epoch_start: int) -> dict:
    return {
        "step": 0,
        "epoch": epoch_start,
        "batch_in_epoch": 0,
        "early_stopping": {"best": None, "bad_epochs": 0, "stopped": False},
        "history": {"train": [], "valid": []},
    }


def train_command(spec: dict) -> None:
    st = spec["settings"]
    t = st.trainer
    shard, rnd = spec["shard"], spec["round"]
    feature_columns = read_feature_columns(spec["feature_columns"])
    train = read_split(spec["train_data"], feature_columns)
    valid = read_split(spec["valid_data"], feature_columns)

    epoch_steps = []
    for e in range(t.epochs):
        rows = len(training_row_indices(train, shard, st.augment_mode, e))
        if rows == 0:
            raise UserInputError(f"{spec['train_data']}: shard {shard['index']} of {shard['count']} has no training rows in epoch {e}")
        epoch_steps.append(steps_in_epoch(rows, t.batch_size, t.grad_accumulation))
    total_steps = sum(epoch_steps)

    device = pick_device()
    quantize = st.model.quantization == "4bit" and device.type == "cuda"
    encoder = TextEncoder(load_tokenizer(st.model.basemodel_path), st.model.max_length, st.model.truncation)
    model = build_model(st.model, len(feature_columns), device, init_seed=derive_seed(st.seed, INIT_STREAM), quantize=quantize, training=True)
    params = trainable_parameters(model)
    names = {p: n for n, p in params.items()}
    optimizer = make_optimizer(params, st)
    shape = ckpt.model_shape(st, feature_columns, model.backbone.config.hidden_size)
    dropout_seed = derive_seed(st.seed, DROPOUT_STREAM, shard["index"], shard["count"], rnd["index"])

    source = spec["resume_from"] or spec["init_from"]
    if source:
        saved = ckpt.read_checkpoint(source)
        ckpt.assert_compatible(saved, source, shape)
        ckpt.load_weights(model, params, saved["weights"], source)
        ckpt.load_optimizer_state(optimizer, params, saved["optimizer"])
        state = saved["meta"]["state"]
    autocast, scaler = autocast_for(device)
    if spec["resume_from"]:
        ckpt.restore_rng(saved["meta"], saved["rng"])
        if scaler and saved["meta"].get("grad_scaler"):
            scaler.load_state_dict(saved["meta"]["grad_scaler"])
        origin = f"resumed from {source}"
    elif spec["init_from"]:
        state = {**state, "epoch": rnd["epoch_start"], "batch_in_epoch": 0}
        seed_everything(dropout_seed)
        origin = f"initialised from {source}"
    else:
        state = fresh_state(rnd["epoch_start"])
        mean, std = feature_scaling(train)
        model.feature_mean.copy_(torch.from_numpy(mean))
        model.feature_std.copy_(torch.from_numpy(std))
        seed_everything(dropout_seed)
        origin = "fresh initialisation"

    es = state["early_stopping"]
    remaining = 0 if es["stopped"] else sum(epoch_steps[state["epoch"] : rnd["epoch_end"]]) - math.ceil(state["batch_in_epoch"] / t.grad_accumulation)
    log(f"train shard {shard['index']}/{shard['count']} round {rnd['index']} on {device}{' (4-bit)' if quantize else ''}: {origin}, step {state['step']}, {len(train)} train rows, {len(valid)} valid rows")
    emit({"event": "start", "step": state["step"], "total_steps": state["step"] + max(0, remaining)})

    model.train()

    def save(dir_path: str, replace: bool) -> None:
        weights = {**{n: p for n, p in params.items()}, "feature_mean": model.feature_mean, "feature_std": model.feature_std}
        meta = {"shape": shape, "state": state, "rng": ckpt.python_rng_state(), "basemodel_path": st.model.basemodel_path, "grad_scaler": scaler.state_dict() if scaler else None}
        ckpt.write_checkpoint(dir_path, meta, weights, ckpt.optimizer_tensors(optimizer, names), ckpt.rng_tensors(), replace=replace)

    def save_step() -> None:
        dir_path = os.path.join(spec["checkpoint_dir"], f"step-{state['step']}")
        save(dir_path, False)
        emit({"event": "checkpoint", "step": state["step"], "path": dir_path})

    window = {"at": time.monotonic(), "rows": 0, "loss": 0.0}
    round_scale = t.round_lr_scale[rnd["index"]] if rnd["index"] < len(t.round_lr_scale) else 1.0
    while state["epoch"] < rnd["epoch_end"] and not es["stopped"]:
        order = training_row_indices(train, shard, st.augment_mode, state["epoch"])
        shuffle_in_place(order, Mulberry32(derive_seed(st.seed, SHUFFLE_STREAM, state["epoch"], shard["index"], shard["count"])))
        micro_batches = math.ceil(len(order) / t.batch_size)
        while state["batch_in_epoch"] < micro_batches:
            if PREEMPT.is_set():
                save_step()
                raise Preempted(f"pre-empted at step {state['step']}; checkpoint written")
            first = state["batch_in_epoch"]
            last = min(first + t.grad_accumulation, micro_batches)
            step_rows = min(last * t.batch_size, len(order)) - first * t.batch_size
            step_loss = 0.0
            for b in range(first, last):
                rows = order[b * t.batch_size : (b + 1) * t.batch_size]
                ids, mask, feats = model_inputs(encoder, [train.prompts[i] for i in rows], [train.responses_a[i] for i in rows], [train.responses_b[i] for i in rows], train.features[rows], device)
                labels = torch.as_tensor(train.labels[rows], device=device)
                with autocast:
                    logits = model(ids, mask, feats).float().squeeze(-1)
                loss = F.binary_cross_entropy_with_logits(logits, labels, reduction="sum")
                scaled = loss / step_rows
                (scaler.scale(scaled) if scaler else scaled).backward()
                step_loss += loss.item()
            state["batch_in_epoch"] = last
            multiplier = lr_multiplier(state["step"], total_steps, t.warmup_ratio) * round_scale
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * multiplier
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state["step"] += 1
            state["history"]["train"].append({"shard": shard["index"], "step": state["step"], "epoch": state["epoch"], "rows": step_rows, "loss": step_loss / step_rows})

            window["rows"] += step_rows
            window["loss"] += step_loss
            now = time.monotonic()
            if now - window["at"] >= PROGRESS_INTERVAL_S:
                emit({"event": "progress", "step": state["step"], "epoch": state["epoch"], "loss": window["loss"] / window["rows"], "rows_per_s": window["rows"] / (now - window["at"]), "lr": t.lr_head * multiplier})
                window = {"at": now, "rows": 0, "loss": 0.0}
            if state["step"] % t.checkpoint_every_steps == 0 and state["batch_in_epoch"] < micro_batches:
                save_step()
            if t.step_delay_ms > 0:
                time.sleep(t.step_delay_ms / 1000)

        entries = [e for e in state["history"]["train"] if e["shard"] == shard["index"] and e["epoch"] == state["epoch"]]
        epoch_rows = sum(e["rows"] for e in entries)
        train_loss = sum(e["loss"] * e["rows"] for e in entries) / max(1, epoch_rows)
        valid_loss, accuracy = evaluate(model, encoder, valid, device, st.eval_batch_size, autocast)
        metrics = {"step": state["step"], "epoch": state["epoch"], "train_loss": train_loss, "valid_loss": valid_loss, "valid_accuracy": accuracy}
        state["history"]["valid"].append({"shard": shard["index"], **metrics})
        emit({"event": "metrics", **metrics})
        log(f"epoch {state['epoch']}: train loss {train_loss:.4f}, valid loss {valid_loss:.4f}, valid accuracy {accuracy:.4f}")

        # A lone shard is the merged model; parallel shards are judged only once merged (merge.py).
        stop = record_evaluation(es, t.select_metric, metrics, t.early_stopping_patience) if shard["count"] == 1 else None
        if stop:
            log(stop)
        state["epoch"] += 1
        state["batch_in_epoch"] = 0
        if state["step"] % t.checkpoint_every_steps == 0 or state["epoch"] >= rnd["epoch_end"] or es["stopped"]:
            save_step()

    final = os.path.join(spec["output_dir"], "checkpoint")
    save(final, True)
    done = {"event": "done", "checkpoint": final, "step": state["step"], "stopped_early": es["stopped"]}
    # The final checkpoint's validation: its last epoch's (a round stopped early trains none, and keeps the last).
    mine = [e for e in state["history"]["valid"] if e["shard"] == shard["index"]]
    if mine:
        done["valid_metrics"] = valid_metrics(mine[-1])
    emit(done)
