"""The train verb as a process on real rows: loss falls, checkpoints are complete, and a run killed
mid-training and resumed ends with the same weights as an uninterrupted one."""

import json
import os

import pytest
import torch
from safetensors.torch import load_file

from conftest import assert_same_weights, deep_merge, finish, kill_at_checkpoint, run_trainer, start_trainer, tiny_config, train_spec, train_to_end, weights


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, basemodel, dataset):
    return train_to_end(tiny_config(basemodel), dataset, tmp_path_factory.mktemp("uninterrupted"))


def test_training_runs_and_the_loss_falls(uninterrupted):
    events = uninterrupted["events"]
    start, done = events[0], events[-1]
    assert start == {"event": "start", "step": 0, "total_steps": 18}
    assert done["event"] == "done" and done["step"] == 18 and done["stopped_early"] is False
    metrics = [e for e in events if e["event"] == "metrics"]
    assert [m["epoch"] for m in metrics] == [0, 1, 2]
    # The label follows the response-length features: a learnable signal.
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"] - 0.1
    assert metrics[-1]["valid_loss"] < 0.55
    assert metrics[-1]["valid_accuracy"] >= 0.75


def test_checkpoints_are_complete_folders(uninterrupted):
    events = uninterrupted["events"]
    steps = [e["step"] for e in events if e["event"] == "checkpoint"]
    assert steps == [4, 8, 12, 16, 18]
    folder = os.path.join(uninterrupted["folder"], "checkpoints")
    assert sorted(os.listdir(folder)) == sorted(f"step-{s}" for s in steps)
    for s in steps:
        assert sorted(os.listdir(os.path.join(folder, f"step-{s}"))) == ["checkpoint.json", "optimizer.safetensors", "rng.safetensors", "weights.safetensors"]
    trained = weights(events[-1]["checkpoint"])
    assert any(".lora_A." in name for name in trained) and "head.3.weight" in trained and "feature_mean" in trained


def test_a_killed_run_resumes_to_the_same_weights(tmp_path, uninterrupted, dataset):
    config = deep_merge(uninterrupted["config"], {"trainer": {"step_delay_ms": 150}})
    spec = train_spec(config, dataset, tmp_path)
    checkpoint = kill_at_checkpoint(spec, tmp_path / "first", 8)
    assert not os.path.exists(os.path.join(spec["output_dir"], "checkpoint"))

    code, events, log = run_trainer("train", {**spec, "resume_from": checkpoint}, tmp_path / "second")
    assert code == 0, log
    assert events[0] == {"event": "start", "step": 8, "total_steps": 18}
    assert_same_weights(events[-1]["checkpoint"], uninterrupted["events"][-1]["checkpoint"])
    resumed_moments = load_file(os.path.join(events[-1]["checkpoint"], "optimizer.safetensors"))
    expected_moments = load_file(os.path.join(uninterrupted["events"][-1]["checkpoint"], "optimizer.safetensors"))
    for name in expected_moments:
        assert torch.equal(resumed_moments[name], expected_moments[name]), name


def test_a_preempted_run_checkpoints_its_current_step_and_resumes_with_no_step_lost(tmp_path, uninterrupted, dataset):
    config = deep_merge(uninterrupted["config"], {"trainer": {"step_delay_ms": 150}})
    spec = train_spec(config, dataset, tmp_path)
    process = start_trainer("train", spec, tmp_path / "first")
    reached = None
    for line in process.stdout:
        event = json.loads(line)
        # Past the periodic checkpoint at step 4: the pre-emption checkpoint must be a newer step.
        if event["event"] == "progress" and event["step"] > 4:
            reached = event["step"]
            process.stdin.write(json.dumps({"command": "preempt"}) + "\n")
            process.stdin.flush()
            break
    code, events, log = finish(process)
    assert code == 4, log
    checkpoint, error = events[-2], events[-1]
    assert checkpoint["event"] == "checkpoint" and checkpoint["step"] >= reached
    assert error == {"event": "error", "kind": "preempted", "message": f"pre-empted at step {checkpoint['step']}; checkpoint written"}
    assert not os.path.exists(os.path.join(spec["output_dir"], "checkpoint"))

    code, events, log = run_trainer("train", {**spec, "resume_from": checkpoint["path"]}, tmp_path / "second")
    assert code == 0, log
    assert events[0] == {"event": "start", "step": checkpoint["step"], "total_steps": 18}
    assert_same_weights(events[-1]["checkpoint"], uninterrupted["events"][-1]["checkpoint"])



def test_k_step_rounds_go_on_where_the_shard_stopped_and_equal_an_uninterrupted_run(tmp_path, uninterrupted, dataset):
    """trainer.round_steps: each round (init_from the previous round's output) stops at step (r + 1)·K
    and the next one resumes the data position and RNG streams, so the rounds cover every epoch's
    micro-batches once and end with the uninterrupted run's weights."""
    config, k, round_index, init = uninterrupted["config"], 5, 0, None
    while True:
        rnd = {"index": round_index, "epoch_start": 0, "epoch_end": 3, "step_end": (round_index + 1) * k}
        code, events, log = run_trainer("train", train_spec(config, dataset, tmp_path / f"r{round_index}", round=rnd, init_from=init), tmp_path / f"r{round_index}")
        assert code == 0, log
        done = events[-1]
        assert done["step"] == min(18, (round_index + 1) * k)
        init, round_index = done["checkpoint"], round_index + 1
        if done["finished"]:
            break
    assert round_index == 4
    history = json.load(open(os.path.join(init, "checkpoint.json")))["state"]["history"]["train"]
    for epoch in range(3):
        ranges = [e["batches"] for e in history if e["epoch"] == epoch]
        assert [r[0] for r in ranges] == [0] + [r[1] for r in ranges[:-1]] and ranges[-1][1] == 12, ranges
    assert_same_weights(init, uninterrupted["events"][-1]["checkpoint"])
