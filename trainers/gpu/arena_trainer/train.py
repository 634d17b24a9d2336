"""The `train` verb: one shard up to epoch round.epoch_end, or until its step count reaches
round.step_end when that comes first, as trainers/cpu/train.ts."""

import contextlib
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from . import checkpoint as ckpt
from . import distributed
from .batches import length_sorted_batches, model_inputs, text_lengths
from .data import feature_scaling, read_feature_columns, read_split, training_row_indices
from .errors import Preempted, UserInputError
from .events import emit, log
from .loss import summed_loss
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


def schedule_steps(train, shard_count: int, augment_mode: str, t) -> int:
    """The schedule's length, the same for every shard: the largest shard's optimizer steps, so a
    smaller shard does not run ahead of the others' learning rates (they are averaged every round)."""
    return max(
        sum(steps_in_epoch(len(training_row_indices(train, {"index": i, "count": shard_count}, augment_mode, e)), t.batch_size, t.grad_accumulation) for e in range(t.epochs))
        for i in range(shard_count)
    )


def evaluate(model, encoder, split, device, batch_size: int, autocast) -> tuple:
    """Mean BCE and accuracy (p >= 0.5 means model_a) over every row of `split`, dropout off: hard labels, soft ones or not."""
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


def rows_in_epoch(train, data_shard: dict, ranks, mode: str, epoch: int) -> int:
    """Rows per process in `epoch`. DDP ranks all run as many steps as the largest rank's slice
    (an all-reduce waits for every rank), so a smaller slice is padded by wrapping (epoch_order)."""
    if ranks is None:
        return len(training_row_indices(train, data_shard, mode, epoch))
    sizes = [len(training_row_indices(train, {"index": r, "count": ranks.world}, mode, epoch)) for r in range(ranks.world)]
    if min(sizes) == 0:
        raise UserInputError(f"{train.file}: DDP rank {sizes.index(0)} of {ranks.world} has no training rows in epoch {epoch}")
    return max(sizes)


def epoch_order(train, data_shard: dict, mode: str, epoch: int, seed: int, rows: int) -> list:
    """The process's rows of `epoch` in training order, wrapped around to `rows` (DDP padding)."""
    order = training_row_indices(train, data_shard, mode, epoch)
    shuffle_in_place(order, Mulberry32(derive_seed(seed, SHUFFLE_STREAM, epoch, data_shard["index"], data_shard["count"])))
    return [order[k % len(order)] for k in range(rows)]


def fresh_state(epoch_start: int) -> dict:
    return {
        "step": 0,
        "epoch": epoch_start,
        "batch_in_epoch": 0,
        "early_stopping": {"best": None, "bad_epochs": 0, "stopped": False},
        "history": {"train": [], "valid": []},
        "positions": {},
    }


def train_command(spec: dict) -> None:
    st = spec["settings"]
    t = st.trainer
    shard, rnd = spec["shard"], spec["round"]
    feature_columns = read_feature_columns(spec["feature_columns"])
    train = read_split(spec["train_data"], feature_columns)
    valid = read_split(spec["valid_data"], feature_columns)
    # Under torchrun (trainer.parallel: ddp) each rank trains shard `rank` of `world` of the rows
    # (per_gpu: every pair, odd ranks swapped), and the spec's single shard is the whole run.
    ranks = distributed.launched_ranks()
    data_shard = {"index": ranks.rank, "count": ranks.world} if ranks else shard

    rows_per_epoch = []
    for e in range(t.epochs):
        rows = rows_in_epoch(train, data_shard, ranks, st.augment_mode, e)
        if rows == 0:
            raise UserInputError(f"{spec['train_data']}: shard {shard['index']} of {shard['count']} has no training rows in epoch {e}")
        rows_per_epoch.append(rows)
    epoch_steps = [steps_in_epoch(rows, t.batch_size, t.grad_accumulation) for rows in rows_per_epoch]
    # DDP ranks already run the largest rank's step count; independent shards share the largest shard's.
    total_steps = sum(epoch_steps) if ranks else schedule_steps(train, shard["count"], st.augment_mode, t)

    device = distributed.join(ranks) if ranks else pick_device()
    quantize = st.model.quantization == "4bit" and device.type == "cuda"
    encoder = TextEncoder(load_tokenizer(st.model.basemodel_path), st.model.max_length, st.model.truncation, st.model.tokenization)
    model = build_model(st.model, len(feature_columns), device, init_seed=derive_seed(st.seed, INIT_STREAM), quantize=quantize, training=True)
    params = trainable_parameters(model)
    names = {p: n for n, p in params.items()}
    optimizer = make_optimizer(params, st)
    shape = ckpt.model_shape(st, feature_columns, model.backbone.config.hidden_size)
    dropout_seed = derive_seed(st.seed, DROPOUT_STREAM, shard["index"], shard["count"])
    key = ckpt.shard_key(shard)

    source = spec["resume_from"] or spec["init_from"]
    if source:
        saved = ckpt.read_checkpoint(source)
        ckpt.assert_compatible(saved, source, shape)
        ckpt.load_weights(model, params, saved["weights"], source)
        ckpt.load_optimizer_state(optimizer, params, saved["optimizer"])
        state = saved["meta"]["state"]
    autocast, scaler = autocast_for(device)
    if spec["resume_from"]:
        ckpt.restore_rng(saved["meta"]["rng"], saved["rng"])
        if scaler and saved["meta"].get("grad_scaler"):
            scaler.load_state_dict(saved["meta"]["grad_scaler"])
        origin = f"resumed from {source}"
    elif spec["init_from"]:
        # A round start goes on where this shard's previous round stopped: its place in its data
        # order and its dropout RNG streams, so that the rounds together cover every epoch once.
        position = state["positions"].get(key)
        if position is None:
            raise UserInputError(f"{source}: checkpoint holds no data position for shard {shard['index']} of {shard['count']}")
        state = {**state, "epoch": position["epoch"], "batch_in_epoch": position["batch_in_epoch"]}
        ckpt.restore_rng(position["rng"], saved["rng"], f"{key}.")
        origin = f"initialised from {source}"
    else:
        state = fresh_state(rnd["epoch_start"])
        if st.model.feature_scaling == "standardize":
            mean, std = feature_scaling(train)
            model.feature_mean.copy_(torch.from_numpy(mean))
            model.feature_std.copy_(torch.from_numpy(std))
        seed_everything(dropout_seed)
        origin = "fresh initialisation"

    es = state["early_stopping"]
    step_end = rnd.get("step_end", math.inf)
    remaining = 0 if es["stopped"] else min(step_end - state["step"], sum(epoch_steps[state["epoch"] : rnd["epoch_end"]]) - math.ceil(state["batch_in_epoch"] / t.grad_accumulation))
    # DDP averages the ranks' gradients every step; its constructor gives every rank rank 0's weights.
    net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if ranks else model
    role = f"DDP rank {ranks.rank} of {ranks.world}" if ranks else f"shard {shard['index']}/{shard['count']}"
    log(f"train {role} round {rnd['index']} on {device}{' (4-bit)' if quantize else ''}: {origin}, step {state['step']}, {len(train)} train rows, {len(valid)} valid rows")
    if train.teacher_p is not None:
        log(f"soft labels on {int((~np.isnan(train.teacher_p)).sum())} of {len(train)} train rows: alpha {train.soft_loss.alpha}, temperature {train.soft_loss.temperature}")
    emit({"event": "start", "step": state["step"], "total_steps": state["step"] + max(0, remaining)})

    model.train()

    def save(dir_path: str, replace: bool, extra_rng: dict | None = None) -> None:
        if ranks and not ranks.leader:
            return  # the ranks' weights are identical: rank 0 writes them
        weights = {**{n: p for n, p in params.items()}, "feature_mean": model.feature_mean, "feature_std": model.feature_std}
        meta = {"shape": shape, "state": state, "rng": ckpt.python_rng_state(), "basemodel_path": st.model.basemodel_path, "grad_scaler": scaler.state_dict() if scaler else None}
        ckpt.write_checkpoint(dir_path, meta, weights, ckpt.optimizer_tensors(optimizer, names), {**ckpt.rng_tensors(), **(extra_rng or {})}, replace=replace)

    def save_step() -> None:
        dir_path = os.path.join(spec["checkpoint_dir"], f"step-{state['step']}")
        save(dir_path, False)
        emit({"event": "checkpoint", "step": state["step"], "path": dir_path})

    window = {"at": time.monotonic(), "rows": 0, "loss": 0.0}
    round_scale = t.round_lr_scale[rnd["index"]] if rnd["index"] < len(t.round_lr_scale) else 1.0
    while state["epoch"] < rnd["epoch_end"] and not es["stopped"]:
        order = epoch_order(train, data_shard, st.augment_mode, state["epoch"], st.seed, rows_per_epoch[state["epoch"]])
        micro_batches = math.ceil(len(order) / t.batch_size)
        while state["batch_in_epoch"] < micro_batches and state["step"] < step_end:
            # Only rank 0 reads stdin: the ranks agree on stopping, so all stop at the same step.
            if distributed.any_rank(PREEMPT.is_set(), device) if ranks else PREEMPT.is_set():
                save_step()
                if ranks:
                    distributed.barrier()  # no rank exits before rank 0's checkpoint is written
                    if not ranks.leader:
                        log(f"stopped at step {state['step']} with rank 0, which reports the pre-emption")
                        return
                raise Preempted(f"pre-empted at step {state['step']}; checkpoint written")
            if ranks:
                # Dropout streams per rank and step: a resumed run draws what the uninterrupted one did
                # without a checkpoint holding every rank's generator state.
                seed_everything(derive_seed(dropout_seed, ranks.rank, state["step"]))
            first = state["batch_in_epoch"]
            last = min(first + t.grad_accumulation, micro_batches)
            step_rows = min(last * t.batch_size, len(order)) - first * t.batch_size
            step_loss = 0.0
            for b in range(first, last):
                rows = order[b * t.batch_size : (b + 1) * t.batch_size]
                ids, mask, feats = model_inputs(encoder, [train.prompts[i] for i in rows], [train.responses_a[i] for i in rows], [train.responses_b[i] for i in rows], train.features[rows], device)
                labels = torch.as_tensor(train.labels[rows], device=device)
                teacher_p = None if train.teacher_p is None else torch.as_tensor(train.teacher_p[rows], dtype=torch.float32, device=device)
                # DDP all-reduces on the step's last micro-batch only.
                with net.no_sync() if ranks and b < last - 1 else contextlib.nullcontext():
                    with autocast:
                        logits = net(ids, mask, feats).float().squeeze(-1)
                    loss = summed_loss(logits, labels, teacher_p, train.soft_loss)
                    scaled = loss / step_rows
                    (scaler.scale(scaled) if scaler else scaled).backward()
                step_loss += loss.item()
            state["batch_in_epoch"] = last
            if ranks:
                # The history and progress count every rank's rows.
                step_loss, all_rows = distributed.summed([step_loss, step_rows], device)
                step_rows = int(all_rows)
            multiplier = lr_multiplier(state["step"], total_steps, t.warmup_ratio, t.num_cycles) * round_scale
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * multiplier
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state["step"] += 1
            state["history"]["train"].append({"shard": shard["index"], "round": rnd["index"], "step": state["step"], "epoch": state["epoch"], "rows": step_rows, "loss": step_loss / step_rows, "batches": [first, last]})

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
        if state["batch_in_epoch"] < micro_batches:
            break  # the round's steps ran out mid-epoch: the next round goes on from here

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

    state["positions"] = {key: {"epoch": state["epoch"], "batch_in_epoch": state["batch_in_epoch"], "rng": ckpt.python_rng_state()}}
    final = os.path.join(spec["output_dir"], "checkpoint")
    save(final, True, ckpt.rng_tensors(f"{key}."))
    finished = es["stopped"] or state["epoch"] >= t.epochs
    done = {"event": "done", "checkpoint": final, "step": state["step"], "stopped_early": es["stopped"], "finished": finished}
    # The final checkpoint's validation: its last epoch's (a round stopped early trains none, and keeps the last).
    mine = [e for e in state["history"]["valid"] if e["shard"] == shard["index"]]
    if mine:
        done["valid_metrics"] = valid_metrics(mine[-1])
    emit(done)
    if ranks:
        distributed.leave()
