"""trainer.parallel: ddp: the train verb under torchrun, 2 gloo processes on the CPU with the tiny
Gemma-2. It trains; killed mid-run and resumed from its checkpoint it ends with the weights of an
uninterrupted run; a pre-emption on stdin (read by rank 0 only) stops both ranks at the same step."""

import json
import os
import re
import signal

import pytest
import torch
from safetensors.torch import load_file

from conftest import deep_merge, finish, run_trainer, start_trainer, train_spec


@pytest.fixture(scope="module")
def ddp_config(basemodel):
    from conftest import load_config

    config = deep_merge(load_config("gemma2_tiny_cpu"), {"model": {"basemodel_path": basemodel}, "trainer": {"parallel": "ddp", "gpus": 2}})
    assert config["augment"]["mode"] == "per_gpu"
    return config


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, ddp_config, dataset):
    folder = tmp_path_factory.mktemp("ddp")
    code, events, log = run_trainer("train", train_spec(ddp_config, dataset, folder), folder)
    assert code == 0, log
    return {"folder": folder, "events": events, "log": log}


def weights(checkpoint_dir) -> dict:
    return load_file(os.path.join(checkpoint_dir, "weights.safetensors"))


def test_two_ranks_train_with_one_protocol_stream(uninterrupted):
    events, log = uninterrupted["events"], uninterrupted["log"]
    # per_gpu: rank 0 the 96 originals, rank 1 their 96 swapped copies; 6 steps of 2 × 16 rows an epoch.
    assert events[0] == {"event": "start", "step": 0, "total_steps": 18}
    assert events[-1]["event"] == "done" and events[-1]["step"] == 18
    # Only rank 0 speaks the protocol on stdout; rank 1's events are in the log.
    assert sum(1 for e in events if e["event"] == "start") == 1
    assert "[rank 1] " in log and "DDP rank 1 of 2" in log and "DDP rank 0 of 2" in log
    metrics = [e for e in events if e["event"] == "metrics"]
    assert [m["epoch"] for m in metrics] == [0, 1, 2]
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"] - 0.1
    assert metrics[-1]["valid_loss"] < 0.55
    assert [e["step"] for e in events if e["event"] == "checkpoint"] == [4, 8, 12, 16, 18]


def test_a_killed_ddp_run_resumes_to_the_same_weights(tmp_path, ddp_config, dataset, uninterrupted):
    spec = train_spec(deep_merge(ddp_config, {"trainer": {"step_delay_ms": 150}}), dataset, tmp_path)
    process = start_trainer("train", spec, tmp_path / "first")
    checkpoint = None
    for line in process.stdout:
        if '"checkpoint"' in line and '"step": 8' in line:
            checkpoint = os.path.join(spec["checkpoint_dir"], "step-8")
            os.killpg(process.pid, signal.SIGKILL)  # torchrun and both ranks
            break
    code, _, _ = finish(process)
    assert code == -signal.SIGKILL and checkpoint is not None

    code, events, log = run_trainer("train", {**spec, "resume_from": checkpoint}, tmp_path / "second")
    assert code == 0, log
    assert events[0] == {"event": "start", "step": 8, "total_steps": 18}
    resumed, expected = weights(events[-1]["checkpoint"]), weights(uninterrupted["events"][-1]["checkpoint"])
    assert resumed.keys() == expected.keys()
    # Bitwise: gloo sums two ranks' gradients in a fixed order, and dropout is seeded per rank and step.
    for name in expected:
        assert torch.equal(resumed[name], expected[name]), name


def test_a_preemption_stops_both_ranks_at_the_same_step(tmp_path, ddp_config, dataset):
    spec = train_spec(deep_merge(ddp_config, {"trainer": {"step_delay_ms": 150}}), dataset, tmp_path)
    process = start_trainer("train", spec, tmp_path)
    for line in process.stdout:
        if '"progress"' in line:
            process.stdin.write(json.dumps({"command": "preempt"}) + "\n")
            process.stdin.flush()
            break
    code, events, log = finish(process)
    assert code != 0
    error = events[-1]
    assert error["event"] == "error" and error["kind"] == "preempted", log
    step = int(re.fullmatch(r"pre-empted at step (\d+); checkpoint written", error["message"]).group(1))
    assert events[-2] == {"event": "checkpoint", "step": step, "path": os.path.join(spec["checkpoint_dir"], f"step-{step}")}
    assert 0 < step < 18
    assert f"[rank 1] stopped at step {step} with rank 0, which reports the pre-emption" in log
    assert json.load(open(os.path.join(spec["checkpoint_dir"], f"step-{step}", "checkpoint.json")))["state"]["step"] == step
