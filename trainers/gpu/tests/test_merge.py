"""The merge verb on tiny-Gemma shard checkpoints: LoRA adapters merge to the mean update ΔW (exactly
when its rank allows, else to numpy's best rank-r approximation, with the residual reported); the
head and feature branch average; the merged factors are aligned to the shards' mean A, so their AdamW
moments average (reset where the alignment is ill-conditioned); the next round continues the loss
without a jump."""

import json
import os

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import deep_merge, run_trainer, train_spec
from arena_trainer.lora_merge import MAX_GAUGE_CONDITION, align
from lora_shards import best_rank, mean_update, modules, validation_loss, weights_of, with_adapters

# Float32 storage of the merged factors: B'·A' matches the float64 mean to this relative error.
UPDATE_RTOL = 1e-5


@pytest.fixture(scope="module")
def round0(tmp_path_factory, basemodel, dataset):
    """Two per_gpu shards of a 2-epoch run, each after its first round (epoch 0)."""
    from conftest import load_config

    config = deep_merge(load_config("gemma2_tiny_cpu"), {"model": {"basemodel_path": basemodel}, "trainer": {"epochs": 2}})
    assert config["augment"]["mode"] == "per_gpu" and config["trainer"]["gpus"] == 2
    folder = tmp_path_factory.mktemp("round0")
    outputs, events = [], []
    for k in range(2):
        spec = train_spec(config, dataset, folder / f"shard{k}", shard={"index": k, "count": 2}, round={"index": 0, "epoch_start": 0, "epoch_end": 1})
        code, shard_events, log = run_trainer("train", spec, folder / f"shard{k}")
        assert code == 0, log
        outputs.append(shard_events[-1]["checkpoint"])
        events.append(shard_events)
    return {"config": config, "outputs": outputs, "events": events}


def merge(config: dict, inputs: list, folder) -> tuple:
    """(merged checkpoint folder, done event) of the merge verb run as the activity runs it."""
    code, events, log = run_trainer("merge", {"config": config, "inputs": inputs, "output_dir": str(folder / "merged")}, folder / "merge")
    assert code == 0, log
    return events[-1]["checkpoint"], events[-1]


def assert_update(merged: dict, a_name: str, b_name: str, expected: np.ndarray) -> None:
    got = merged[b_name].double().numpy() @ merged[a_name].double().numpy()
    assert np.linalg.norm(got - expected) <= UPDATE_RTOL * np.linalg.norm(expected), a_name


def random_factors(rng: np.random.Generator, rank: int) -> torch.Tensor:
    return torch.from_numpy(rng.standard_normal((rank, rank)))


@pytest.mark.parametrize("count", [2, 3])
def test_adapters_sharing_a_rank_r_subspace_merge_to_their_mean_update(tmp_path, round0, count):
    # Shard i: Bᵢ = B₀·Gᵢ, Aᵢ = Hᵢ·A₀, so every ΔWᵢ = B₀·(GᵢHᵢ)·A₀ and their mean lie in one rank-r space.
    source = round0["outputs"][0]
    base, rank = weights_of(source), round0["config"]["model"]["lora"]["r"]
    rng = np.random.default_rng(count)
    inputs = []
    for i in range(count):
        factors = {}
        for a_name, b_name in modules(base).items():
            factors[a_name] = (random_factors(rng, rank) @ base[a_name].double()).float()
            factors[b_name] = (base[b_name].double() @ random_factors(rng, rank)).float()
        inputs.append(with_adapters(source, str(tmp_path / f"shard{i}"), factors))
    merged_dir, done = merge(round0["config"], inputs, tmp_path)

    shards, merged = [weights_of(d) for d in inputs], weights_of(merged_dir)
    for a_name, b_name in modules(base).items():
        assert_update(merged, a_name, b_name, mean_update(shards, a_name, b_name))
    # Two layers of q, k, v.
    assert done["merge_residual"]["modules"] == 6
    assert done["merge_residual"]["max"] < 1e-6


@pytest.mark.parametrize("count", [2, 3])
def test_otherwise_the_merge_is_the_best_rank_r_approximation_and_reports_its_residual(tmp_path, round0, count):
    inputs = list(round0["outputs"])
    if count == 3:
        # A third shard that drifted elsewhere: shard 0's adapters plus noise of their own size.
        base, rng = weights_of(inputs[0]), torch.Generator().manual_seed(3)
        noisy = {name: t + t.std() * torch.randn(t.shape, generator=rng) for name, t in base.items() if ".lora_" in name}
        inputs.append(with_adapters(inputs[0], str(tmp_path / "shard2"), noisy))
    merged_dir, done = merge(round0["config"], inputs, tmp_path)

    shards, merged = [weights_of(d) for d in inputs], weights_of(merged_dir)
    rank = round0["config"]["model"]["lora"]["r"]
    residuals = []
    for a_name, b_name in modules(merged).items():
        approx, residual = best_rank(mean_update(shards, a_name, b_name), rank)
        assert_update(merged, a_name, b_name, approx)
        residuals.append(residual)
    assert min(residuals) > 1e-3, "the shards' mean updates must exceed rank r for this test to mean anything"
    assert done["merge_residual"]["max"] == pytest.approx(max(residuals), rel=1e-6)
    assert done["merge_residual"]["mean"] == pytest.approx(sum(residuals) / len(residuals), rel=1e-6)


def moments_of(dir_path: str) -> dict:
    return load_file(os.path.join(dir_path, "optimizer.safetensors"))


def test_head_and_features_average_and_so_do_the_aligned_adapters_moments(tmp_path, round0):
    outputs = round0["outputs"]
    merged_dir, done = merge(round0["config"], outputs, tmp_path)
    inputs = [load_file(os.path.join(d, "weights.safetensors")) for d in outputs]
    merged = load_file(os.path.join(merged_dir, "weights.safetensors"))
    for name in merged:
        if name in ("feature_mean", "feature_std"):
            assert torch.equal(merged[name], inputs[0][name])
        elif ".lora_" not in name:
            torch.testing.assert_close(merged[name], (inputs[0][name].double() + inputs[1][name].double()).div(2).float(), rtol=0, atol=0)
    # The shards trained different rows, so the average differs from each of them.
    assert not torch.equal(merged["head.3.weight"], inputs[0]["head.3.weight"])

    # Real shards of one round stay alignable: every module's moments are averaged, none reset.
    assert (done["merge_residual"]["moments_averaged"], done["merge_residual"]["moments_reset"]) == (6, 0)
    moments = [moments_of(d) for d in outputs]
    merged_moments = moments_of(merged_dir)
    assert merged_moments.keys() == moments[0].keys()
    for key, value in merged_moments.items():
        if key.startswith("step."):
            assert value == max(m[key] for m in moments)
        else:
            torch.testing.assert_close(value, (moments[0][key] + moments[1][key]) / 2)
    assert any(".lora_" in key and moments[0][key].any() for key in moments[0]), "the shards' adapter moments were zero"

    steps = [json.load(open(os.path.join(d, "checkpoint.json")))["state"]["step"] for d in outputs]
    meta = json.load(open(os.path.join(merged_dir, "checkpoint.json")))
    assert meta["state"]["step"] == max(steps)
    assert {e["shard"] for e in meta["state"]["history"]["train"]} == {0, 1}


def test_identical_shards_merge_to_themselves_with_their_moments(tmp_path, round0):
    source = round0["outputs"][0]
    copy = with_adapters(source, str(tmp_path / "copy"), {})
    merged_dir, done = merge(round0["config"], [source, copy], tmp_path)
    shard, merged = weights_of(source), weights_of(merged_dir)
    for name in modules(shard).items():
        for factor in name:
            # float32 factors through a float64 QR/SVD and back: equal to float32 rounding.
            torch.testing.assert_close(merged[factor], shard[factor], rtol=1e-5, atol=1e-7)
    assert done["merge_residual"]["max"] < 1e-6 and done["merge_residual"]["moments_reset"] == 0
    for key, value in moments_of(merged_dir).items():
        torch.testing.assert_close(value, moments_of(source)[key], rtol=0, atol=0)


def test_the_alignment_changes_the_factors_but_not_their_product():
    gen = torch.Generator().manual_seed(0)
    a_new, b_new, mean_a = torch.randn(4, 64, generator=gen, dtype=torch.float64), torch.randn(96, 4, generator=gen, dtype=torch.float64), torch.randn(4, 64, generator=gen, dtype=torch.float64)
    a_aligned, b_aligned = align(a_new, b_new, mean_a)
    assert torch.linalg.norm(b_aligned @ a_aligned - b_new @ a_new) <= 1e-12 * torch.linalg.norm(b_new @ a_new)
    assert torch.linalg.norm(a_aligned - a_new) > 0.1 * torch.linalg.norm(a_new)
    # T·A' is mean(A)'s projection onto the row space of A': it recovers a mean(A) that lies in it.
    inside = torch.randn(4, 4, generator=gen, dtype=torch.float64) @ a_new
    torch.testing.assert_close(align(a_new, b_new, inside)[0], inside, rtol=1e-12, atol=1e-12)
    # mean(A) = S·A' gives T = S: aligned up to cond(S) = MAX_GAUGE_CONDITION, not beyond.
    for shrink, kept in ((0.99, True), (1.01, False)):
        scale = torch.diag(torch.tensor([1.0, 1.0, 1.0, 1 / (shrink * MAX_GAUGE_CONDITION)], dtype=torch.float64))
        assert (align(a_new, b_new, scale @ a_new) is not None) == kept, shrink


def test_an_ill_conditioned_alignment_keeps_the_split_and_resets_the_moments(tmp_path, round0):
    # Shard 1 = shard 0 with A and B negated: the same ΔW, but mean(A) = 0, so T is singular.
    source = round0["outputs"][0]
    shard = weights_of(source)
    negated = with_adapters(source, str(tmp_path / "negated"), {name: -t for name, t in shard.items() if ".lora_" in name})
    almost = with_adapters(source, str(tmp_path / "almost"), {
        # One row of A negated in one shard: mean(A) loses that row, cond(T) = ∞ as well.
        name: torch.cat([-t[:1], t[1:]]) if ".lora_A." in name else t for name, t in shard.items() if ".lora_" in name
    })
    for other in (negated, almost):
        merged_dir, done = merge(round0["config"], [source, other], tmp_path / os.path.basename(other))
        merged = weights_of(merged_dir)
        shards = [shard, weights_of(other)]
        for a_name, b_name in modules(merged).items():
            approx, _ = best_rank(mean_update(shards, a_name, b_name), round0["config"]["model"]["lora"]["r"])
            assert_update(merged, a_name, b_name, approx)
            # The unaligned split: A' keeps r independent rows at the shards' RMS row norm.
            assert torch.linalg.matrix_rank(merged[a_name].double()) == merged[a_name].shape[0]
        assert (done["merge_residual"]["moments_averaged"], done["merge_residual"]["moments_reset"]) == (0, 6)
        for key, value in moments_of(merged_dir).items():
            if ".lora_" in key:
                assert not value.any(), f"{key}: unaligned adapter moments restart from zero with AdamW step 0"


# How far the loss may rise over a merge: the merged model and the round after it are compared with
# the shards' mean validation loss before the merge (32 rows; the shards themselves differ by ~0.003).
# On the tiny random backbone the loss hardly depends on the adapters (a merge with B' scaled by 10
# still passed), so this guards the round's continuation from a merged checkpoint (weights, reset
# moments, step); the ΔW tests above are what pin the LoRA merge itself.
SMOOTH_TOLERANCE = 0.01


def test_the_round_after_a_merge_continues_the_loss_without_a_jump(tmp_path, round0, dataset):
    config, outputs = round0["config"], round0["outputs"]
    before = [next(e for e in events if e["event"] == "metrics") for events in round0["events"]]
    pre_merge = sum(m["valid_loss"] for m in before) / len(before)
    merged_dir, _ = merge(config, outputs, tmp_path)
    assert validation_loss(config, dataset, merged_dir) <= pre_merge + SMOOTH_TOLERANCE

    spec = train_spec(config, dataset, tmp_path / "round1", shard={"index": 0, "count": 2}, round={"index": 1, "epoch_start": 1, "epoch_end": 2}, init_from=merged_dir)
    code, events, log = run_trainer("train", spec, tmp_path / "round1")
    assert code == 0, log
    step = max(m["step"] for m in before)
    assert events[0] == {"event": "start", "step": step, "total_steps": events[-1]["step"]} and events[-1]["step"] > step
    [after] = [e for e in events if e["event"] == "metrics"]
    assert after["epoch"] == 1
    assert after["valid_loss"] <= pre_merge + SMOOTH_TOLERANCE
    assert after["train_loss"] <= sum(m["train_loss"] for m in before) / len(before) + SMOOTH_TOLERANCE


def test_with_round_steps_the_round_after_a_mid_epoch_merge_continues_the_loss_and_the_data(tmp_path, basemodel, dataset):
    """trainer.round_steps: 2 shards stop mid-epoch after K = 2 steps, merge, and shard 0's next round
    goes on at the micro-batch where it stopped, with no loss jump beyond SMOOTH_TOLERANCE."""
    from conftest import load_config

    config = deep_merge(load_config("gemma2_tiny_cpu"), {"model": {"basemodel_path": basemodel}, "trainer": {"epochs": 2, "round_epochs": None, "round_steps": 2}})
    outputs = []
    for k in range(2):
        rnd = {"index": 0, "epoch_start": 0, "epoch_end": 2, "step_end": 2}
        code, events, log = run_trainer("train", train_spec(config, dataset, tmp_path / f"shard{k}", shard={"index": k, "count": 2}, round=rnd), tmp_path / f"shard{k}")
        assert code == 0, log
        assert events[-1]["step"] == 2 and events[-1]["finished"] is False
        outputs.append(events[-1]["checkpoint"])
    pre_merge = sum(validation_loss(config, dataset, d) for d in outputs) / len(outputs)
    merged_dir, _ = merge(config, outputs, tmp_path)
    assert validation_loss(config, dataset, merged_dir) <= pre_merge + SMOOTH_TOLERANCE
    stopped_at = json.load(open(os.path.join(merged_dir, "checkpoint.json")))["state"]["positions"]["0/2"]
    assert stopped_at["epoch"] == 0 and stopped_at["batch_in_epoch"] == 4

    rnd = {"index": 1, "epoch_start": 0, "epoch_end": 2, "step_end": 4}
    spec = train_spec(config, dataset, tmp_path / "round1", shard={"index": 0, "count": 2}, round=rnd, init_from=merged_dir)
    code, events, log = run_trainer("train", spec, tmp_path / "round1")
    assert code == 0, log
    assert events[0] == {"event": "start", "step": 2, "total_steps": 4} and events[-1]["step"] == 4
    history = json.load(open(os.path.join(events[-1]["checkpoint"], "checkpoint.json")))["state"]["history"]["train"]
    ranges = [(e["epoch"], e["batches"]) for e in history if e["shard"] == 0]
    assert ranges[:3] == [(0, [0, 2]), (0, [2, 4]), (0, [4, ranges[2][1][1]])], ranges
    assert all(b[0] == (a[1][1] if a[0] == b_epoch else 0) for a, (b_epoch, b) in zip(ranges, ranges[1:])), ranges
    assert validation_loss(config, dataset, events[-1]["checkpoint"]) <= pre_merge + SMOOTH_TOLERANCE
