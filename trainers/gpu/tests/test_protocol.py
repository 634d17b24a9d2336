"""Protocol failures: rejected input exits 2 with a `user` error naming the file and key; out of
memory exits 3; the trainer leaves when its stdin closes."""

import os
import subprocess
import sys
import time

import pyarrow.parquet as pq

from conftest import REPO_ROOT, deep_merge, finish, run_trainer, start_trainer, train_spec


def assert_user_error(result, *fragments):
    code, events, log = result
    assert code == 2, log
    assert events[-1]["event"] == "error" and events[-1]["kind"] == "user", events
    for fragment in fragments:
        assert fragment in events[-1]["message"], events[-1]["message"]


def test_a_config_for_another_trainer_is_rejected(tmp_path, config, dataset):
    spec = train_spec(deep_merge(config, {"model": {"kind": "cpu_mlp"}}), dataset, tmp_path)
    assert_user_error(run_trainer("train", spec, tmp_path), "train-spec.json", "config.model.kind", "gemma2_qlora")


def test_a_missing_backbone_folder_is_rejected(tmp_path, config, dataset):
    spec = train_spec(deep_merge(config, {"model": {"basemodel_path": str(tmp_path / "nowhere")}}), dataset, tmp_path)
    assert_user_error(run_trainer("train", spec, tmp_path), "config.model.basemodel_path", "prepare-basemodel.py")


def test_a_bad_spec_field_is_named(tmp_path, config, dataset):
    spec = train_spec(config, dataset, tmp_path, shard={"index": 2, "count": 2})
    assert_user_error(run_trainer("train", spec, tmp_path), "shard.index")
    spec = train_spec(config, dataset, tmp_path, round={"index": 0, "epoch_start": 0, "epoch_end": 9})
    assert_user_error(run_trainer("train", spec, tmp_path / "r"), "round.epoch_end 9 is beyond config.trainer.epochs 3")


def test_a_split_without_a_feature_column_is_rejected(tmp_path, config, dataset):
    table = pq.read_table(dataset["train"]).drop(["prompt_len"])
    pq.write_table(table, tmp_path / "train.parquet")
    spec = train_spec(config, {**dataset, "train": str(tmp_path / "train.parquet")}, tmp_path)
    assert_user_error(run_trainer("train", spec, tmp_path), "train.parquet", 'missing column "prompt_len"')


def test_usage_errors_exit_2(tmp_path):
    env = {**os.environ, "ARENA_TRAINER_PYTHON": sys.executable}
    result = subprocess.run(["bash", "trainers/gpu/run.sh", "fit", "--spec", "x.json"], cwd=REPO_ROOT, env=env, input="", capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert '"kind": "user"' in result.stdout and "usage: python -m arena_trainer" in result.stdout


def test_out_of_memory_exits_3(tmp_path, config, dataset):
    # A head this wide cannot be allocated: a real allocation failure, reported as oom.
    spec = train_spec(deep_merge(config, {"model": {"hidden_dim": 2**42}}), dataset, tmp_path)
    code, events, log = run_trainer("train", spec, tmp_path)
    assert code == 3, log
    assert events[-1]["event"] == "error" and events[-1]["kind"] == "oom"


def test_the_trainer_exits_when_stdin_closes(tmp_path, config, dataset):
    spec = train_spec(deep_merge(config, {"trainer": {"step_delay_ms": 1000, "epochs": 3}}), dataset, tmp_path)
    process = start_trainer("train", spec, tmp_path)
    assert '"event": "start"' in process.stdout.readline()
    process.stdin.close()
    began = time.monotonic()
    process.wait(timeout=30)
    assert process.returncode == 1
    assert time.monotonic() - began < 10
    with open(process.log_path) as f:
        assert "stdin closed" in f.read()
