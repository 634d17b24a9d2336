"""The spec.json of docs/trainer-protocol.md, checked per verb, and the config values this trainer reads.

The activity passes the config already resolved by lib/config/schema.ts, so every key is present;
the checks here catch a config meant for another trainer or a hand-written spec, and name the key.
"""

import json
import os
from dataclasses import dataclass
from typing import Any

from .errors import UserInputError

VERBS = ("train", "merge", "export", "predict")


@dataclass(frozen=True)
class LoraSettings:
    r: int
    alpha: float
    dropout: float
    target_modules: tuple


@dataclass(frozen=True)
class ModelSettings:
    basemodel_path: str
    quantization: str
    max_length: int
    truncation: str
    feature_dim: int
    hidden_dim: int
    head_dropout: float
    lora: LoraSettings


@dataclass(frozen=True)
class TrainerSettings:
    epochs: int
    batch_size: int
    grad_accumulation: int
    lr_backbone: float
    lr_features: float
    lr_head: float
    weight_decay: float
    warmup_ratio: float
    checkpoint_every_steps: int
    early_stopping_patience: int
    step_delay_ms: int


@dataclass(frozen=True)
class Settings:
    seed: int
    augment_mode: str
    model: ModelSettings
    trainer: TrainerSettings
    eval_batch_size: int


class _Reader:
    """Typed look-ups in one JSON object; a wrong or missing value names `<file>: <key>`."""

    def __init__(self, file: str, value: Any, prefix: str = ""):
        self.file, self.value, self.prefix = file, value, prefix

    def _fail(self, key: str, what: str) -> UserInputError:
        return UserInputError(f"{self.file}: {self.prefix}{key}: {what}")

    def get(self, key: str, kinds, *, optional: bool = False, default=None):
        node = self.value
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if optional:
                    return default
                raise self._fail(key, "is missing")
            node = node[part]
        if node is None and optional:
            return default
        # bool is an int in Python; a flag is never a count.
        if isinstance(node, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise self._fail(key, f"expected {_kind_name(kinds)}, got {json.dumps(node)}")
        if not isinstance(node, kinds):
            raise self._fail(key, f"expected {_kind_name(kinds)}, got {json.dumps(node)[:80]}")
        return node

    def positive(self, key: str, kinds=int):
        value = self.get(key, kinds)
        if value <= 0:
            raise self._fail(key, f"must be positive, got {value}")
        return value

    def choice(self, key: str, allowed):
        value = self.get(key, str)
        if value not in allowed:
            raise self._fail(key, f"must be one of {', '.join(allowed)}, got {json.dumps(value)}")
        return value

    def path(self, key: str, *, optional: bool = False):
        value = self.get(key, str, optional=optional)
        if value is not None and value == "":
            raise self._fail(key, "must be a non-empty path")
        return value


def _kind_name(kinds) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object", bool: "true or false"}
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def settings_from_config(file: str, config: Any) -> Settings:
    c = _Reader(file, config, "config.")
    kind = c.get("model.kind", str)
    if kind != "gemma2_qlora":
        raise UserInputError(f"{file}: config.model.kind: the GPU trainer trains gemma2_qlora, not {kind}")
    basemodel = c.path("model.basemodel_path", optional=True)
    if basemodel is None:
        raise UserInputError(f"{file}: config.model.basemodel_path: a local folder with the backbone is required (see scripts/prepare-basemodel.py)")
    number = (int, float)
    dropout = c.get("model.lora.dropout", number)
    head_dropout = c.get("model.head_dropout", number)
    for key, value in (("model.lora.dropout", dropout), ("model.head_dropout", head_dropout)):
        if not 0 <= value < 1:
            raise UserInputError(f"{file}: config.{key}: must be in [0, 1), got {value}")
    targets = c.get("model.lora.target_modules", list)
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise UserInputError(f"{file}: config.model.lora.target_modules: must be a non-empty list of module names")
    model = ModelSettings(
        basemodel_path=basemodel,
        quantization=c.choice("model.quantization", ("none", "4bit")),
        max_length=c.positive("model.max_length"),
        truncation=c.choice("model.truncation", ("right", "spread", "head_tail")),
        feature_dim=c.positive("model.feature_dim"),
        hidden_dim=c.positive("model.hidden_dim"),
        head_dropout=float(head_dropout),
        lora=LoraSettings(
            r=c.positive("model.lora.r"),
            alpha=float(c.positive("model.lora.alpha", number)),
            dropout=float(dropout),
            target_modules=tuple(targets),
        ),
    )
    if model.max_length < 16:
        raise UserInputError(f"{file}: config.model.max_length: {model.max_length} leaves no room for the text template; use 16 or more")
    trainer = TrainerSettings(
        epochs=c.positive("trainer.epochs"),
        batch_size=c.positive("trainer.batch_size"),
        grad_accumulation=c.positive("trainer.grad_accumulation"),
        lr_backbone=float(c.positive("trainer.lr.backbone", number)),
        lr_features=float(c.positive("trainer.lr.features", number)),
        lr_head=float(c.positive("trainer.lr.head", number)),
        weight_decay=float(c.get("trainer.weight_decay", number)),
        warmup_ratio=float(c.get("trainer.warmup_ratio", number)),
        checkpoint_every_steps=c.positive("trainer.checkpoint_every_steps"),
        early_stopping_patience=c.get("trainer.early_stopping_patience", int),
        step_delay_ms=c.get("trainer.step_delay_ms", int, optional=True, default=0),
    )
    # The train stages hand over only the sections they are keyed on (seed, augment, model,
    # trainer); validation during training then batches as training does.
    has_eval_batch = c.get("evaluate.batch_size", int, optional=True) is not None
    return Settings(
        seed=c.get("seed", int),
        augment_mode=c.choice("augment.mode", ("none", "append", "alternate", "per_gpu")),
        model=model,
        trainer=trainer,
        eval_batch_size=c.positive("evaluate.batch_size") if has_eval_batch else trainer.batch_size,
    )


def read_spec(verb: str, file: str) -> dict:
    """Reads spec.json for `verb`: its fields (paths as given) plus `settings` from its config."""
    try:
        with open(file, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as err:
        raise UserInputError(f"{file}: cannot read the spec: {err}") from None
    if not isinstance(raw, dict):
        raise UserInputError(f"{file}: the spec must be a JSON object")
    s = _Reader(file, raw)
    spec: dict = {"file": file, "settings": settings_from_config(file, s.get("config", dict)), "output_dir": s.path("output_dir")}
    if verb == "train":
        for key in ("train_data", "valid_data", "feature_columns", "checkpoint_dir"):
            spec[key] = s.path(key)
        for key in ("init_from", "resume_from"):
            spec[key] = s.path(key, optional=True)
        shard = {"index": s.get("shard.index", int), "count": s.positive("shard.count")}
        if not 0 <= shard["index"] < shard["count"]:
            raise UserInputError(f"{file}: shard.index must be in [0, shard.count), got {shard['index']} of {shard['count']}")
        rnd = {"index": s.get("round.index", int), "epoch_start": s.get("round.epoch_start", int), "epoch_end": s.positive("round.epoch_end")}
        if not 0 <= rnd["epoch_start"] < rnd["epoch_end"]:
            raise UserInputError(f"{file}: round.epoch_start must be in [0, round.epoch_end), got {rnd['epoch_start']}")
        if rnd["epoch_end"] > spec["settings"].trainer.epochs:
            raise UserInputError(f"{file}: round.epoch_end {rnd['epoch_end']} is beyond config.trainer.epochs {spec['settings'].trainer.epochs}")
        spec["shard"], spec["round"] = shard, rnd
        spec["device_index"] = s.get("device_index", int, optional=True)
    elif verb == "merge":
        inputs = s.get("inputs", list)
        if not inputs or not all(isinstance(i, str) and i for i in inputs):
            raise UserInputError(f"{file}: inputs: must be a non-empty list of checkpoint folders")
        if len(set(inputs)) != len(inputs):
            raise UserInputError(f"{file}: inputs: a checkpoint is listed twice")
        spec["inputs"] = inputs
    elif verb == "export":
        spec["checkpoint"] = s.path("checkpoint")
        spec["feature_columns"] = s.path("feature_columns", optional=True)
    elif verb == "predict":
        spec["checkpoint"] = s.path("checkpoint")
        spec["data"] = s.path("data")
        spec["batch_size"] = s.get("batch_size", int, optional=True)
    basemodel = spec["settings"].model.basemodel_path
    if verb != "merge" and not os.path.isfile(os.path.join(basemodel, "config.json")):
        raise UserInputError(f"{file}: config.model.basemodel_path: {basemodel} is not a model folder (no config.json); run scripts/prepare-basemodel.py first")
    return spec
