"""Shared fixtures: a tiny Gemma-2 backbone, split parquet files from real LMSYS rows, resolved
configs, and a runner for the trainer as the activity runs it (own process, stdin a pipe)."""

import copy
import json
import math
import os
import signal
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import yaml
from safetensors.torch import load_file

from tiny_gemma2 import read_sample_rows, save_tiny_gemma2

GPU_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
REPO_ROOT = os.path.normpath(os.path.join(GPU_DIR, "..", ".."))
FEATURES = [
    {"name": "log_len_a", "swap": {"with": "log_len_b"}},
    {"name": "log_len_b", "swap": {"with": "log_len_a"}},
    {"name": "log_len_diff", "swap": "negate"},
    {"name": "prompt_len", "swap": "keep"},
]


def schema_defaults() -> dict:
    """The defaults of lib/config/schema.ts for the trainer's sections, from the generated spec.schema.json."""
    with open(os.path.join(GPU_DIR, "arena_trainer", "spec.schema.json"), encoding="utf-8") as f:
        sections = json.load(f)["$defs"]["trainer_config"]["properties"]
    return {name: schema["default"] for name, schema in sections.items()}


def deep_merge(base, override):
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = deep_merge(out.get(key), value)
    return out


def load_config(name: str) -> dict:
    """The trainer's sections of configs/<name>.yaml resolved as lib/config/load.ts does (extends
    chain, then schema defaults): what the train stages put in a spec."""
    with open(os.path.join(REPO_ROOT, "configs", f"{name}.yaml"), encoding="utf-8") as f:
        value = yaml.safe_load(f)
    defaults = schema_defaults()
    parent = load_config(value.pop("extends")) if "extends" in value else defaults
    return {key: section for key, section in deep_merge(parent, value).items() if key in defaults}


def labelled(rows: list) -> list:
    """Rows with features and a learnable label: model_a wins when its response is the longer one."""
    out = []
    for r in rows:
        la, lb = math.log1p(len(r["response_a"])), math.log1p(len(r["response_b"]))
        out.append({**r, "winner": "model_a" if la > lb else "model_b", "log_len_a": la, "log_len_b": lb, "log_len_diff": la - lb, "prompt_len": float(len(r["prompt"]))})
    return out


def with_swaps(rows: list) -> list:
    """Original rows plus their A/B-swapped copies, as the augment stage writes them."""
    out = []
    for r in rows:
        out.append({**r, "pair_id": r["id"], "swapped": False})
        out.append({
            **r, "id": f"{r['id']}#swap", "pair_id": r["id"], "swapped": True,
            "response_a": r["response_b"], "response_b": r["response_a"],
            "winner": "model_b" if r["winner"] == "model_a" else "model_a",
            "log_len_a": r["log_len_b"], "log_len_b": r["log_len_a"], "log_len_diff": -r["log_len_diff"],
        })
    return out


def write_split(path: str, rows: list) -> str:
    columns = ["id", "pair_id", "swapped", "prompt", "response_a", "response_b", "winner", *[f["name"] for f in FEATURES]]
    pq.write_table(pa.table({c: [r[c] for r in rows] for c in columns}), path)
    return path


@pytest.fixture(scope="session")
def sample_rows():
    return read_sample_rows(400)


@pytest.fixture(scope="session")
def basemodel(tmp_path_factory, sample_rows):
    return save_tiny_gemma2(str(tmp_path_factory.mktemp("basemodel") / "gemma2-tiny"), sample_rows)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory, sample_rows):
    """train.parquet (96 pairs, both orientations), valid.parquet (32 originals), feature_columns.json."""
    folder = tmp_path_factory.mktemp("data")
    rows = labelled(sample_rows)
    with open(folder / "feature_columns.json", "w", encoding="utf-8") as f:
        json.dump({"columns": FEATURES}, f)
    return {
        "train": write_split(str(folder / "train.parquet"), with_swaps(rows[:96])),
        "valid": write_split(str(folder / "valid.parquet"), [{**r, "pair_id": r["id"], "swapped": False} for r in rows[96:128]]),
        "feature_columns": str(folder / "feature_columns.json"),
    }


def tiny_config(basemodel: str, overrides: dict | None = None) -> dict:
    """configs/gemma2_tiny_cpu.yaml resolved, pointed at the tiny backbone `basemodel`, `overrides` merged in."""
    return deep_merge(load_config("gemma2_tiny_cpu"), deep_merge({"model": {"basemodel_path": basemodel}}, overrides or {}))


@pytest.fixture()
def config(basemodel):
    """configs/gemma2_tiny_cpu.yaml resolved, pointed at the test's tiny backbone."""
    return tiny_config(basemodel)


def train_spec(config: dict, dataset: dict, folder, **fields) -> dict:
    spec = {
        "config": config,
        "train_data": dataset["train"],
        "valid_data": dataset["valid"],
        "feature_columns": dataset["feature_columns"],
        "shard": {"index": 0, "count": 1},
        "round": {"index": 0, "epoch_start": 0, "epoch_end": config["trainer"]["epochs"]},
        "init_from": None,
        "resume_from": None,
        "checkpoint_dir": str(folder / "checkpoints"),
        "output_dir": str(folder / "out"),
        "device_index": 0,
    }
    return {**spec, **fields}


# The argv the worker's registry (lib/trainer-registry.ts) gives the engine these tests run, and its
# DDP launcher (trainer.parallel: ddp) to which the activity appends the process count.
TRAINER_ARGV = {"gpu": ["bash", "trainers/gpu/run.sh"]}
DDP_ARGV = {"gpu": ["bash", "trainers/gpu/run.sh", "--ddp"]}


def start_trainer(verb: str, spec: dict, folder) -> subprocess.Popen:
    """The trainer as the activity starts it: the argv of the config's trainer.engine, cwd the repo root, own
    process group, stdin a pipe nobody writes to, stderr to <folder>/trainer.log."""
    os.makedirs(folder, exist_ok=True)
    spec_file = os.path.join(folder, f"{verb}-spec.json")
    with open(spec_file, "w", encoding="utf-8") as f:
        json.dump(spec, f)
    env = {**os.environ, "ARENA_TRAINER_PYTHON": sys.executable}
    trainer = spec["config"]["trainer"]
    if trainer.get("parallel") == "ddp" and verb == "train":
        command = [*DDP_ARGV[trainer["engine"]], str(trainer["gpus"])]
    else:
        command = TRAINER_ARGV[trainer["engine"]]
    log = open(os.path.join(folder, "trainer.log"), "a", encoding="utf-8")
    process = subprocess.Popen([*command, verb, "--spec", spec_file], cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    log.close()
    process.log_path = log.name
    return process


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple:
    """(exit code, events, log) once the process ends; stdin stays open until then."""
    out = process.stdout.read()
    process.wait(timeout=timeout)
    process.stdin.close()
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    with open(process.log_path, encoding="utf-8") as f:
        return process.returncode, events, f.read()


def run_trainer(verb: str, spec: dict, folder, timeout: float = 240) -> tuple:
    return finish(start_trainer(verb, spec, folder), timeout)


def train_to_end(config: dict, dataset: dict, folder) -> dict:
    """An uninterrupted train run on `dataset`, its spec and log in `folder`: {"config", "folder", "events", "log"}."""
    code, events, log = run_trainer("train", train_spec(config, dataset, folder), folder)
    assert code == 0, log
    return {"config": config, "folder": folder, "events": events, "log": log}


def train_and_export(config: dict, dataset: dict, folder) -> dict:
    """A model trained on `dataset` and exported to ONNX, as the train stage makes it: {"config", "checkpoint", "model"}."""
    checkpoint = train_to_end(config, dataset, folder / "train")["events"][-1]["checkpoint"]
    spec = {"config": config, "checkpoint": checkpoint, "feature_columns": dataset["feature_columns"], "output_dir": str(folder / "model")}
    code, events, log = run_trainer("export", spec, folder / "export")
    assert code == 0, log
    return {"config": config, "checkpoint": checkpoint, "model": events[-1]["model"]}


def kill_at_checkpoint(spec: dict, folder, step: int) -> str:
    """Starts the train verb and SIGKILLs its process group (under DDP torchrun and every rank) as soon
    as it reports the checkpoint of `step`; that checkpoint's folder."""
    process = start_trainer("train", spec, folder)
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == "checkpoint" and event["step"] == step:
            os.killpg(process.pid, signal.SIGKILL)
            break
    code, _, log = finish(process)
    assert code == -signal.SIGKILL, f"the run ended before step {step} (exit {code}):\n{log}"
    return os.path.join(spec["checkpoint_dir"], f"step-{step}")


def weights(checkpoint_dir) -> dict:
    return load_file(os.path.join(checkpoint_dir, "weights.safetensors"))


def assert_same_weights(checkpoint_dir, expected_dir) -> None:
    """Bitwise: a resumed run must end where an uninterrupted one did, not merely close to it."""
    actual, expected = weights(checkpoint_dir), weights(expected_dir)
    assert actual.keys() == expected.keys()
    for name in expected:
        assert torch.equal(actual[name], expected[name]), name
