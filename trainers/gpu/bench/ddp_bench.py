"""1 process against DDP over 2 gloo processes (trainer.parallel: ddp), for issue 11's table, on the CPU.

The tiny random Gemma-2 of the tests on rows of the shared sample (labelled as the tests do: model_a
wins when its response is longer, a signal the tiny model can learn), same seed, same rows, same
epochs. Every run sees both orientations of every pair once per epoch, so all of them have seen the
same number of examples at each epoch's end, where the validation loss is read:
- single: 1 process, augment append (both orientations), batch 8 × accumulation 2;
- single-b32: the same with accumulation 4, i.e. DDP's global batch and step count;
- ddp2 per_gpu: 2 ranks, batch 8 × accumulation 2 each, rank 0 the originals, rank 1 the swapped copies;
- ddp2 append: 2 ranks, each both orientations of its hash half of the pairs.

    PYTHONPATH=trainers/gpu:trainers/gpu/tests $(bash scripts/setup-trainer-env.sh) trainers/gpu/bench/ddp_bench.py [--pairs 256] [--epochs 2] [--json out.json]
"""

import argparse
import json
import os
import sys
import tempfile
import time

from conftest import FEATURES, deep_merge, labelled, load_config, run_trainer, train_spec, with_swaps, write_split
from tiny_gemma2 import read_sample_rows, save_tiny_gemma2

RUNS = {
    "single": {"augment": {"mode": "append"}, "trainer": {"parallel": "shards", "gpus": 1, "grad_accumulation": 2}},
    "single-b32": {"augment": {"mode": "append"}, "trainer": {"parallel": "shards", "gpus": 1, "grad_accumulation": 4}},
    "ddp2 per_gpu": {"augment": {"mode": "per_gpu"}, "trainer": {"parallel": "ddp", "gpus": 2, "grad_accumulation": 2}},
    "ddp2 append": {"augment": {"mode": "append"}, "trainer": {"parallel": "ddp", "gpus": 2, "grad_accumulation": 2}},
}


class _Path(str):
    """A folder path with `/`, as train_spec expects of pytest's tmp paths."""

    def __truediv__(self, other: str) -> "_Path":
        return _Path(os.path.join(self, other))


def make_dataset(folder: str, rows: list, pairs: int) -> dict:
    rows = labelled(rows)
    with open(os.path.join(folder, "feature_columns.json"), "w", encoding="utf-8") as f:
        json.dump({"columns": FEATURES}, f)
    return {
        "train": write_split(os.path.join(folder, "train.parquet"), with_swaps(rows[:pairs])),
        "valid": write_split(os.path.join(folder, "valid.parquet"), [{**r, "pair_id": r["id"], "swapped": False} for r in rows[pairs:]]),
        "feature_columns": os.path.join(folder, "feature_columns.json"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=256, help="training pairs (both orientations are written); a quarter as many validation rows follow them")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ddp-bench-") as tmp:
        rows = read_sample_rows(args.pairs + args.pairs // 4)
        basemodel = save_tiny_gemma2(os.path.join(tmp, "gemma2-tiny"), rows)
        dataset = make_dataset(tmp, rows, args.pairs)
        base = deep_merge(load_config("gemma2_tiny_cpu"), {"model": {"basemodel_path": basemodel}, "trainer": {"epochs": args.epochs, "early_stopping_patience": 0, "checkpoint_every_steps": 1000}})
        results = {}
        for name, override in RUNS.items():
            folder = _Path(os.path.join(tmp, name.replace(" ", "-")))
            started = time.monotonic()
            code, events, log = run_trainer("train", train_spec(deep_merge(base, override), dataset, folder), folder, timeout=3600)
            if code != 0:
                sys.exit(f"{name} failed:\n{log}")
            steps = [e["step"] for e in events if e["event"] == "metrics"]
            metrics = [e for e in events if e["event"] == "metrics"]
            history = json.load(open(os.path.join(events[-1]["checkpoint"], "checkpoint.json")))["state"]["history"]["train"]
            seen = [sum(h["rows"] for h in history if h["epoch"] <= m["epoch"]) for m in metrics]
            results[name] = {
                "epochs": [{"epoch": m["epoch"], "examples_seen": s, "steps": st, "valid_loss": m["valid_loss"], "valid_accuracy": m["valid_accuracy"]} for m, s, st in zip(metrics, seen, steps)],
                "seconds": time.monotonic() - started,
            }
            print(f"{name}: {json.dumps(results[name])}", file=sys.stderr)

    print(f"{args.pairs} train pairs (x2 orientations), {args.pairs // 4} valid rows, {args.epochs} epochs, seed {base['seed']}\n")
    print("| run | epoch | examples seen | optimizer steps | valid loss | valid accuracy | wall s (2 shared cores) |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for e in r["epochs"]:
            print(f"| {name} | {e['epoch']} | {e['examples_seen']} | {e['steps']} | {e['valid_loss']:.4f} | {e['valid_accuracy']:.3f} | {r['seconds']:.0f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
