"""trainer.round_steps figures for issue 11 (bench/shard-merge.ts runs this after its CPU-model half):
the tiny random Gemma-2 on the shared sample's rows, trained by 1 process, by DDP over 2 gloo ranks and
by 2 per_gpu shards merged every K optimizer steps, K in {1, 10, 50, epoch}, with the exact LoRA merge
(merge.py: aligned factors, averaged moments) and with the old factor averaging (merge_bench.factor_average,
for comparison only). Every variant sees the same examples: per_gpu shards and DDP ranks each train every
pair, odd ones swapped, so 2 of them see both orientations of every pair each epoch, as one process with
augment append does; the final model's validation loss compares them. The merge residual is the relative
Frobenius error against the mean update ΔW, max / mean over the rounds' modules; "moments" counts the
modules whose adapter moments were averaged / reset over all merges. Rounds run in this process (the
train and merge verbs' functions), not as a process per round; DDP runs torchrun as the activity does.
Then the time to merge and write a Gemma-2-9B r16 q/k/v adapter (merge_bench.gemma2_9b_timing).

    PYTHONPATH=trainers/gpu:trainers/gpu/tests:trainers/gpu/bench $(bash scripts/setup-trainer-env.sh) trainers/gpu/bench/round_steps_bench.py
"""

import contextlib
import io
import json
import os
import tempfile
import time

from arena_trainer import checkpoint as ckpt
from arena_trainer.merge import merge_checkpoints
from arena_trainer.spec import read_spec
from arena_trainer.train import train_command
from conftest import FEATURES, deep_merge, labelled, load_config, run_trainer, train_spec, with_swaps, write_split
from lora_shards import factor_average_residuals, validation_loss, weights_of
from merge_bench import _Path, factor_average, gemma2_9b_timing
from tiny_gemma2 import read_sample_rows, save_tiny_gemma2

EPOCHS = 2
TRAIN_PAIRS = 80
VALID_ROWS = 48
# A larger LoRA learning rate than gemma2_tiny_cpu's (as merge_bench.py) so that the shards'
# adapters drift apart within the tiny run, as they do over a real epoch of the 9B model.
LR_BACKBONE = 0.05


def make_dataset(folder: str, rows: list) -> dict:
    rows = labelled(rows)
    with open(os.path.join(folder, "feature_columns.json"), "w", encoding="utf-8") as f:
        json.dump({"columns": FEATURES}, f)
    return {
        "train": write_split(os.path.join(folder, "train.parquet"), with_swaps(rows[:TRAIN_PAIRS])),
        "valid": write_split(os.path.join(folder, "valid.parquet"), [{**r, "pair_id": r["id"], "swapped": False} for r in rows[TRAIN_PAIRS : TRAIN_PAIRS + VALID_ROWS]]),
        "feature_columns": os.path.join(folder, "feature_columns.json"),
    }


def train(config: dict, dataset: dict, folder: str, shard: dict, rnd: dict, init_from: str | None) -> dict:
    """The train verb in this process; its done event."""
    spec = train_spec(config, dataset, _Path(folder), shard=shard, round=rnd, init_from=init_from)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "spec.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        train_command(read_spec("train", os.path.join(folder, "spec.json")))
    return json.loads(out.getvalue().strip().splitlines()[-1])


def examples_seen(checkpoint: str) -> int:
    """Training rows behind a checkpoint: every shard's, over all rounds (its history's train entries)."""
    return sum(h["rows"] for h in ckpt.read_checkpoint(checkpoint)["meta"]["state"]["history"]["train"])


def merge(inputs: list, folder: str, method: str) -> tuple:
    """(merged checkpoint, per-module residuals, modules whose moments were reset) of the exact merge or
    of factor averaging (which averages every moment)."""
    meta, weights, moments, rng, residuals, unaligned = merge_checkpoints(inputs)
    exact = os.path.join(folder, "exact")
    ckpt.write_checkpoint(exact, meta, weights, moments, rng, replace=True)
    if method == "exact":
        return exact, residuals, len(unaligned) // 2
    return factor_average(exact, inputs, os.path.join(folder, "factor")), factor_average_residuals([weights_of(d) for d in inputs]), 0


def shard_rounds(config: dict, dataset: dict, folder: str, steps, method: str) -> dict:
    """The train stage's round loop (workflows/train-rounds.ts) for 2 shards."""
    active, init, index, residuals, merges, reset = [0, 1], None, 0, [], 0, 0
    while active:
        if steps == "epoch":
            rnd = {"index": index, "epoch_start": index, "epoch_end": index + 1}
        else:
            rnd = {"index": index, "epoch_start": 0, "epoch_end": EPOCHS, "step_end": (index + 1) * steps}
        done = [train(config, dataset, os.path.join(folder, f"r{index}", f"s{k}"), {"index": k, "count": 2}, rnd, init) for k in active]
        if len(done) == 1:
            init = done[0]["checkpoint"]
        else:
            init, round_residuals, round_reset = merge([d["checkpoint"] for d in done], os.path.join(folder, f"r{index}", "merge"), method)
            residuals.extend(round_residuals)
            reset += round_reset
            merges += 1
        index += 1
        active = ([0, 1] if index < EPOCHS else []) if steps == "epoch" else [k for k, d in zip(active, done) if not d["finished"]]
    return {"checkpoint": init, "rounds": index, "merges": merges, "residuals": residuals, "reset": reset}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rows = read_sample_rows(TRAIN_PAIRS + VALID_ROWS)
        basemodel = save_tiny_gemma2(os.path.join(folder, "gemma2-tiny"), rows)
        dataset = make_dataset(folder, rows)
        config = deep_merge(load_config("gemma2_tiny_cpu"), {
            "model": {"basemodel_path": basemodel},
            "trainer": {"epochs": EPOCHS, "batch_size": 4, "grad_accumulation": 1, "early_stopping_patience": 0, "checkpoint_every_steps": 100000, "lr": {"backbone": LR_BACKBONE}},
        })
        print(f"\ntiny random Gemma-2, {TRAIN_PAIRS} train pairs (both orientations written), {VALID_ROWS} valid rows, {EPOCHS} epochs, batch 4 per process, LoRA lr {LR_BACKBONE}")
        print("| variant | merge | rounds | merges | examples seen | valid log loss | residual max / mean | moments averaged / reset | wall s |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
        # One process over both orientations (append): the examples the two per_gpu shards see together,
        # at batch 4 (twice their steps) and at their global batch 8 (each shard's step count).
        for batch in (4, 8):
            start = time.perf_counter()
            single = train(deep_merge(config, {"augment": {"mode": "append"}, "trainer": {"batch_size": batch}}), dataset, os.path.join(folder, f"single-{batch}"), {"index": 0, "count": 1}, {"index": 0, "epoch_start": 0, "epoch_end": EPOCHS}, None)
            print(f"| 1 process (append), batch {batch} | - | 1 | 0 | {examples_seen(single['checkpoint'])} | {validation_loss(config, dataset, single['checkpoint']):.4f} | - | - | {time.perf_counter() - start:.0f} |", flush=True)
        # DDP over 2 gloo ranks, per_gpu: rank 1 the swapped copies, gradients averaged every step (global batch 8).
        start = time.perf_counter()
        ddp_folder = _Path(os.path.join(folder, "ddp2"))
        code, events, log = run_trainer("train", train_spec(deep_merge(config, {"trainer": {"parallel": "ddp", "gpus": 2}}), dataset, ddp_folder), ddp_folder, timeout=3600)
        if code != 0:
            raise SystemExit(f"ddp2 failed:\n{log}")
        ddp = events[-1]["checkpoint"]
        print(f"| DDP 2 ranks (per_gpu), batch 4 each | - | 1 | 0 | {examples_seen(ddp)} | {validation_loss(config, dataset, ddp):.4f} | - | - | {time.perf_counter() - start:.0f} |", flush=True)
        for steps in ("epoch", 1, 10, 50):
            for method in ("exact", "factor_mean"):
                start = time.perf_counter()
                run = shard_rounds(config, dataset, os.path.join(folder, f"k{steps}-{method}"), steps, method)
                res = run["residuals"]
                residual = f"{max(res):.3g} / {sum(res) / len(res):.3g}" if res else "-"
                moments = f"{len(res) - run['reset']} / {run['reset']}" if method == "exact" else "all averaged as is"
                label = "2 shards (per_gpu), round_epochs 1" if steps == "epoch" else f"2 shards (per_gpu), round_steps {steps}"
                loss = validation_loss(config, dataset, run["checkpoint"])
                print(f"| {label} | {method} | {run['rounds']} | {run['merges']} | {examples_seen(run['checkpoint'])} | {loss:.4f} | {residual} | {moments} | {time.perf_counter() - start:.0f} |", flush=True)
        print(json.dumps({"gemma2_9b_r16_qkv_merge": gemma2_9b_timing(folder, repeats=1)}, indent=2), flush=True)


if __name__ == "__main__":
    main()
