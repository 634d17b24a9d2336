"""trainer.parallel: ddp: the train verb under torchrun, 2 gloo processes on the CPU with the tiny
Gemma-2. It trains; killed mid-run and resumed from its checkpoint it ends with the weights of an
uninterrupted run; a pre-emption on stdin (read by rank 0 only) stops both ranks at the same step."""

import json
import os
import re

import pytest

from conftest import assert_same_weights, deep_merge, finish, kill_at_checkpoint, run_trainer, start_trainer, tiny_config, train_spec, train_to_end


@pytest.fixture(scope="module")
def ddp_config(basemodel):
    config = tiny_config(basemodel, {"trainer": {"parallel": "ddp", "gpus": 2}})
    assert config["augment"]["mode"] == "per_gpu"
    return config


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, ddp_config, dataset):
    return train_to_end(ddp_config, dataset, tmp_path_factory.mktemp("ddp"))


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
    checkpoint = kill_at_checkpoint(spec, tmp_path / "first", 8)

    code, events, log = run_trainer("train", {**spec, "resume_from": checkpoint}, tmp_path / "second")
    assert code == 0, log
    assert events[0] == {"event": "start", "step": 8, "total_steps": 18}
    # Bitwise: gloo sums two ranks' gradients in a fixed order, and dropout is seeded per rank and step.
    assert_same_weights(events[-1]["checkpoint"], uninterrupted["events"][-1]["checkpoint"])


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
