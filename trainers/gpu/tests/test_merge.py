"""Two per_gpu shards, merged: weights and AdamW moments are the average; the next round starts from it."""

import json
import os

import torch
from safetensors.torch import load_file

from conftest import deep_merge, run_trainer, train_spec


def test_shards_merge_to_their_average_and_the_next_round_continues(tmp_path, config, dataset):
    config = deep_merge(config, {"trainer": {"epochs": 2}})
    assert config["augment"]["mode"] == "per_gpu" and config["trainer"]["gpus"] == 2
    outputs = []
    for k in range(2):
        spec = train_spec(config, dataset, tmp_path / f"shard{k}", shard={"index": k, "count": 2}, round={"index": 0, "epoch_start": 0, "epoch_end": 1})
        code, events, log = run_trainer("train", spec, tmp_path / f"shard{k}")
        assert code == 0, log
        outputs.append(events[-1]["checkpoint"])

    code, events, log = run_trainer("merge", {"config": config, "inputs": outputs, "output_dir": str(tmp_path / "merged")}, tmp_path / "merge")
    assert code == 0, log
    merged_dir = events[-1]["checkpoint"]
    inputs = [load_file(os.path.join(d, "weights.safetensors")) for d in outputs]
    merged = load_file(os.path.join(merged_dir, "weights.safetensors"))
    for name in merged:
        if name in ("feature_mean", "feature_std"):
            assert torch.equal(merged[name], inputs[0][name])
        else:
            torch.testing.assert_close(merged[name], (inputs[0][name].double() + inputs[1][name].double()).div(2).float(), rtol=0, atol=0)
    # The shards trained different rows, so the average differs from each of them.
    assert not torch.equal(merged["head.3.weight"], inputs[0]["head.3.weight"])
    moments = [load_file(os.path.join(d, "optimizer.safetensors")) for d in outputs]
    merged_moments = load_file(os.path.join(merged_dir, "optimizer.safetensors"))
    name = next(n for n in merged_moments if n.startswith("exp_avg_sq."))
    torch.testing.assert_close(merged_moments[name], (moments[0][name] + moments[1][name]) / 2)
    steps = [json.load(open(os.path.join(d, "checkpoint.json")))["state"]["step"] for d in outputs]
    meta = json.load(open(os.path.join(merged_dir, "checkpoint.json")))
    assert meta["state"]["step"] == max(steps)
    assert {e["shard"] for e in meta["state"]["history"]["train"]} == {0, 1}

    spec = train_spec(config, dataset, tmp_path / "round1", shard={"index": 0, "count": 2}, round={"index": 1, "epoch_start": 1, "epoch_end": 2}, init_from=merged_dir)
    code, events, log = run_trainer("train", spec, tmp_path / "round1")
    assert code == 0, log
    assert events[0]["event"] == "start" and events[0]["step"] == max(steps)
    assert events[-1]["step"] > max(steps)
    metrics = [e for e in events if e["event"] == "metrics"]
    assert [m["epoch"] for m in metrics] == [1]
