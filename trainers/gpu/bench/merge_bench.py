"""LoRA merge figures for docs/gpu-trainer.md (issue 11), on the CPU:

1. Tiny random Gemma-2, 2 per_gpu shards, 2 epochs, a merge after each: the old merge (A and B
   averaged separately) against the exact merge (lora_merge.py). For each: the merge's relative
   residual after round 1, the validation loss of the merged model after round 1 and after round 2;
   and a single process trained the same 2 epochs, for reference.
2. The time to merge a Gemma-2-9B r16 q/k/v adapter (42 layers; q 3584→4096, k/v 3584→2048) of 2
   shards, on random factors of those shapes, and the size of what is published.

    PYTHONPATH=trainers/gpu:trainers/gpu/tests $(bash scripts/setup-trainer-env.sh) trainers/gpu/bench/merge_bench.py [--lr-backbone 0.05]

A larger LoRA learning rate than gemma2_tiny_cpu's makes the shards' adapters drift apart within
the tiny run's few steps per round, as a real epoch does on the 9B model.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import torch

from arena_trainer import checkpoint as ckpt
from arena_trainer.lora_merge import merge_lora
from conftest import deep_merge, labelled, load_config, run_trainer, train_spec, with_swaps, write_split, FEATURES
from lora_shards import factor_average_residuals, validation_loss, weights_of
from tiny_gemma2 import read_sample_rows, save_tiny_gemma2

GEMMA2_9B = {"layers": 42, "hidden": 3584, "q_out": 16 * 256, "kv_out": 8 * 256}


def make_dataset(folder: str, rows: list) -> dict:
    rows = labelled(rows)
    with open(os.path.join(folder, "feature_columns.json"), "w", encoding="utf-8") as f:
        json.dump({"columns": FEATURES}, f)
    return {
        "train": write_split(os.path.join(folder, "train.parquet"), with_swaps(rows[:96])),
        "valid": write_split(os.path.join(folder, "valid.parquet"), [{**r, "pair_id": r["id"], "swapped": False} for r in rows[96:128]]),
        "feature_columns": os.path.join(folder, "feature_columns.json"),
    }


def train_round(config: dict, dataset: dict, folder: str, index: int, count: int, init_from: str | None) -> list:
    """Checkpoints of the `count` shards of round `index` (one epoch each)."""
    out = []
    for k in range(count):
        work = os.path.join(folder, f"round{index}-shard{k}")
        spec = train_spec(config, dataset, _Path(work), shard={"index": k, "count": count}, round={"index": index, "epoch_start": index, "epoch_end": index + 1}, init_from=init_from)
        code, events, log = run_trainer("train", spec, work)
        if code != 0:
            sys.exit(log)
        out.append(events[-1]["checkpoint"])
    return out


def factor_average(exact_dir: str, inputs: list, folder: str) -> str:
    """The old merge: the exact merge's checkpoint with every LoRA tensor and moment averaged as is."""
    shards = [ckpt.read_checkpoint(d) for d in inputs]
    exact = ckpt.read_checkpoint(exact_dir)
    weights = dict(exact["weights"])
    optimizer = dict(exact["optimizer"])
    for name in weights:
        if ".lora_" in name:
            weights[name] = sum(s["weights"][name].double() for s in shards).div(len(shards)).float()
    for key in optimizer:
        if ".lora_" in key:
            values = [s["optimizer"][key] for s in shards]
            optimizer[key] = torch.stack(values).max() if key.startswith("step.") else sum(v.double() for v in values).div(len(values)).float()
    meta = {k: v for k, v in exact["meta"].items() if k != "format"}
    ckpt.write_checkpoint(folder, meta, weights, optimizer, exact["rng"], replace=True)
    return folder


def run_merge(config: dict, inputs: list, folder: str) -> tuple:
    code, events, log = run_trainer("merge", {"config": config, "inputs": inputs, "output_dir": folder}, folder)
    if code != 0:
        sys.exit(log)
    return events[-1]["checkpoint"], events[-1].get("merge_residual")


def tiny_gemma_comparison(folder: str, lr_backbone: float | None) -> dict:
    rows = read_sample_rows(400)
    basemodel = save_tiny_gemma2(os.path.join(folder, "gemma2-tiny"), rows)
    dataset = make_dataset(folder, rows)
    config = deep_merge(load_config("gemma2_tiny_cpu"), {"model": {"basemodel_path": basemodel}, "trainer": {"epochs": 2}})
    if lr_backbone is not None:
        config = deep_merge(config, {"trainer": {"lr": {"backbone": lr_backbone}}})
    result = {"lr_backbone": config["trainer"]["lr"]["backbone"]}

    single = os.path.join(folder, "single")
    code, events, log = run_trainer("train", train_spec(config, dataset, _Path(single)), single)
    if code != 0:
        sys.exit(log)
    losses = [e["valid_loss"] for e in events if e["event"] == "metrics"]
    result["1 process"] = {"valid_loss_round1": losses[0], "valid_loss_round2": losses[1]}

    shards = train_round(config, dataset, folder, 0, 2, None)
    result["shards before merge"] = {"valid_loss_round1": [validation_loss(config, dataset, d) for d in shards]}
    exact, residual = run_merge(config, shards, os.path.join(folder, "exact-0"))
    old = factor_average(exact, shards, os.path.join(folder, "old-0", "checkpoint"))
    old_residuals = factor_average_residuals([weights_of(d) for d in shards])
    for name, merged, res in (("exact merge", exact, residual), ("factor averaging", old, {"max": max(old_residuals), "mean": sum(old_residuals) / len(old_residuals)})):
        again = train_round(config, dataset, os.path.join(folder, name.replace(" ", "-")), 1, 2, merged)
        final, _ = run_merge(config, again, os.path.join(folder, name.replace(" ", "-"), "merge-1"))
        if name == "factor averaging":
            final = factor_average(final, again, os.path.join(folder, "old-1", "checkpoint"))
        result[name] = {"residual_round1": res, "valid_loss_round1": validation_loss(config, dataset, merged), "valid_loss_round2": validation_loss(config, dataset, final)}
    return result


def gemma2_9b_timing(folder: str, shards: int = 2, rank: int = 16, repeats: int = 3) -> dict:
    """One thread, and CPU time beside wall time: on a shared machine the wall clock measures the
    neighbours (OpenMP threads spin when the cores are oversubscribed), CPU time the merge."""
    g = GEMMA2_9B
    shapes = {"q_proj": g["q_out"], "k_proj": g["kv_out"], "v_proj": g["kv_out"]}
    gen = torch.Generator().manual_seed(0)
    inputs = [
        {f"layers.{layer}.{m}": (torch.randn(rank, g["hidden"], generator=gen) * 0.02, torch.randn(out, rank, generator=gen) * 0.01) for layer in range(g["layers"]) for m, out in shapes.items()}
        for _ in range(shards)
    ]
    params = sum(a.numel() + b.numel() for a, b in inputs[0].values())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        merged = {name: merge_lora([s[name][0] for s in inputs], [s[name][1] for s in inputs]) for name in inputs[0]}
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    torch.set_num_threads(threads)
    tensors = {f"{name}.lora_{x}": t.contiguous() for name, (a, b, _, _) in merged.items() for x, t in (("A", a), ("B", b))}
    from safetensors.torch import save_file

    start = time.perf_counter()
    save_file(tensors, os.path.join(folder, "adapter.safetensors"))
    write_s = time.perf_counter() - start
    size = os.path.getsize(os.path.join(folder, "adapter.safetensors"))
    return {
        "modules": len(inputs[0]),
        "adapter_params": params,
        "adapter_mb_float32": size / 1e6,
        # A merged checkpoint is the adapter plus AdamW's two moments of it (the head is tiny).
        "checkpoint_mb_float32": 3 * size / 1e6,
        "merge_cpu_s": min(cpu),
        "merge_wall_s": min(wall),
        "merge_params_per_cpu_s": shards * params / min(cpu),
        "adapter_write_s": write_s,
    }


class _Path(str):
    """train_spec joins with `/`, as on the tests' pathlib folders."""

    def __truediv__(self, other: str) -> "_Path":
        return _Path(os.path.join(self, other))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr-backbone", type=float, default=None, help="trainer.lr.backbone; default gemma2_tiny_cpu's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps({"gemma2_9b_r16_qkv_merge": gemma2_9b_timing(folder)}, indent=2), flush=True)
        print(json.dumps({"tiny_gemma2_2_shards": tiny_gemma_comparison(folder, args.lr_backbone)}, indent=2), flush=True)


if __name__ == "__main__":
    main()
