"""spec.json is checked against spec.schema.json, generated from lib/trainer-spec.ts: a spec of the
wrong shape is rejected with the file and the key named, before anything runs."""

import copy
import json

import pytest

from arena_trainer.errors import UserInputError
from arena_trainer.spec import read_spec
from conftest import train_spec


REMOVE = object()


def mutated(spec: dict, path: str, value) -> dict:
    """`spec` with the value at dotted `path` replaced, or removed when `value` is REMOVE."""
    out = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    if value is REMOVE:
        del node[last]
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("valid_data", REMOVE, "valid_data: is missing"),
        ("shard.size", 2, "shard.size: is not a known key"),
        ("init_from", "", "init_from: '' should be non-empty"),
        ("round.epoch_end", 1.5, "round.epoch_end: expected integer, got 1.5"),
        ("config.trainer.epochs", "3", 'config.trainer.epochs: expected integer, got "3"'),
        ("config.model.truncation", "middle", "config.model.truncation: 'middle' is not one of ['right', 'spread', 'head_tail']"),
        ("config.model.lora.dropout", 1, "config.model.lora.dropout: 1 is greater than or equal to the maximum of 1"),
        ("config.trainer.lr.head", REMOVE, "config.trainer.lr.head: is missing"),
    ],
)
def test_a_train_spec_of_the_wrong_shape_names_the_key(tmp_path, config, dataset, path, value, message):
    file = tmp_path / "train-spec.json"
    file.write_text(json.dumps(mutated(train_spec(config, dataset, tmp_path), path, value)))
    with pytest.raises(UserInputError) as caught:
        read_spec("train", str(file))
    assert str(caught.value) == f"{file}: {message}"


def test_each_verb_takes_the_spec_the_activities_write(tmp_path, config, dataset):
    specs = {
        "train": train_spec(config, dataset, tmp_path),
        "merge": {"config": config, "inputs": ["a", "b"], "output_dir": "out"},
        "export": {"config": config, "checkpoint": "a", "output_dir": "out"},
        "predict": {"config": config, "checkpoint": "a", "data": dataset["valid"], "output_dir": "out", "batch_size": 5},
    }
    for verb, spec in specs.items():
        file = tmp_path / f"{verb}-spec.json"
        file.write_text(json.dumps(spec))
        read = read_spec(verb, str(file))
        assert {key: read[key] for key in spec} == spec
    assert read_spec("export", str(tmp_path / "export-spec.json"))["feature_columns"] is None


def test_a_verb_rejects_the_keys_of_another(tmp_path, config):
    file = tmp_path / "merge-spec.json"
    file.write_text(json.dumps({"config": config, "inputs": ["a"], "checkpoint": "a", "output_dir": "out"}))
    with pytest.raises(UserInputError, match=r"merge-spec.json: checkpoint: is not a known key$"):
        read_spec("merge", str(file))
