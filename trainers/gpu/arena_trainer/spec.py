"""The spec.json of docs/trainer-protocol.md, checked per verb, and the config values this trainer reads.

The shape of every verb's spec (keys, types, ranges, enums) is spec.schema.json, generated from the
zod schemas of lib/trainer-spec.ts (`npm run gen:schemas`); this module validates against it and
keeps only what is this trainer's own semantics (gemma2_qlora only, a local backbone, relations
between fields) as code. Every message names the file and the key.
"""

import json
import os
from dataclasses import dataclass

from . import schemas
from .errors import UserInputError

VERBS = ("train", "merge", "export", "predict")

_SCHEMA = schemas.load("spec.schema.json")
# `$defs.<verb>` checks a spec, `$defs.trainer_config` a config alone.
_CHECKS = {name: schemas.validator(_SCHEMA, name) for name in _SCHEMA["$defs"]}


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
    tokenization: str
    pooling: str
    inference_max_length: int
    feature_init: str
    feature_scaling: str
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
    num_cycles: float
    checkpoint_every_steps: int
    early_stopping_patience: int
    step_delay_ms: int
    select_metric: str
    round_lr_scale: tuple


@dataclass(frozen=True)
class Settings:
    seed: int
    augment_mode: str
    model: ModelSettings
    trainer: TrainerSettings
    eval_batch_size: int


def _validate(file: str, value, definition: str, prefix: tuple = ()) -> None:
    problem = schemas.first_problem(_CHECKS[definition], value)
    if problem is not None:
        path, what = problem
        raise UserInputError(f"{file}: {schemas.key_text([*prefix, *path]) or '(root)'}: {what}")


def settings_from_config(file: str, config) -> Settings:
    _validate(file, config, "trainer_config", ("config",))
    m, t = config["model"], config["trainer"]
    if m["kind"] != "gemma2_qlora":
        raise UserInputError(f"{file}: config.model.kind: the GPU trainer trains gemma2_qlora, not {m['kind']}")
    if not m["basemodel_path"]:
        raise UserInputError(f"{file}: config.model.basemodel_path: a local folder with the backbone is required (see scripts/prepare-basemodel.py)")
    if not all(m["lora"]["target_modules"]):
        raise UserInputError(f"{file}: config.model.lora.target_modules: must be a non-empty list of module names")
    if m["max_length"] < 16:
        raise UserInputError(f"{file}: config.model.max_length: {m['max_length']} leaves no room for the text template; use 16 or more")
    if m["pooling"] == "eos" and m["tokenization"] != "whole_string":
        raise UserInputError(f"{file}: config.model.pooling: eos pools the EOS, which only tokenization whole_string appends; use last_token with pieces")
    inference_max_length = m["inference_max_length"] or m["max_length"]
    if inference_max_length < 16:
        raise UserInputError(f"{file}: config.model.inference_max_length: {inference_max_length} leaves no room for the text template; use 16 or more")
    lora = m["lora"]
    model = ModelSettings(
        basemodel_path=m["basemodel_path"],
        quantization=m["quantization"],
        max_length=m["max_length"],
        truncation=m["truncation"],
        tokenization=m["tokenization"],
        pooling=m["pooling"],
        inference_max_length=inference_max_length,
        feature_init=m["feature_init"],
        feature_scaling=m["feature_scaling"],
        feature_dim=m["feature_dim"],
        hidden_dim=m["hidden_dim"],
        head_dropout=float(m["head_dropout"]),
        lora=LoraSettings(r=lora["r"], alpha=float(lora["alpha"]), dropout=float(lora["dropout"]), target_modules=tuple(lora["target_modules"])),
    )
    trainer = TrainerSettings(
        epochs=t["epochs"],
        batch_size=t["batch_size"],
        grad_accumulation=t["grad_accumulation"],
        lr_backbone=float(t["lr"]["backbone"]),
        lr_features=float(t["lr"]["features"]),
        lr_head=float(t["lr"]["head"]),
        weight_decay=float(t["weight_decay"]),
        warmup_ratio=float(t["warmup_ratio"]),
        num_cycles=float(t["scheduler"]["num_cycles"]),
        checkpoint_every_steps=t["checkpoint_every_steps"],
        early_stopping_patience=t["early_stopping_patience"],
        step_delay_ms=t["step_delay_ms"],
        select_metric=t["select_metric"],
        round_lr_scale=tuple(float(x) for x in t["round_lr_scale"]),
    )
    # A trainer gets only the config sections its stages are keyed on (seed, augment, model, trainer;
    # a student's soft-label loss weights come in its train file): validation during training batches
    # as training does; `predict` names its batch in its spec.
    return Settings(seed=config["seed"], augment_mode=config["augment"]["mode"], model=model, trainer=trainer, eval_batch_size=trainer.batch_size)


def read_spec(verb: str, file: str) -> dict:
    """Reads spec.json for `verb`: its fields (paths as given, absent optional ones as None) plus `settings` from its config."""
    try:
        with open(file, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as err:
        raise UserInputError(f"{file}: cannot read the spec: {err}") from None
    _validate(file, raw, verb)
    properties = _SCHEMA["$defs"][verb]["properties"]
    spec: dict = {**{key: raw.get(key) for key in properties}, "file": file, "settings": settings_from_config(file, raw["config"])}
    if verb == "train":
        shard, rnd = spec["shard"], spec["round"]
        if shard["index"] >= shard["count"]:
            raise UserInputError(f"{file}: shard.index must be in [0, shard.count), got {shard['index']} of {shard['count']}")
        if rnd["epoch_start"] >= rnd["epoch_end"]:
            raise UserInputError(f"{file}: round.epoch_start must be in [0, round.epoch_end), got {rnd['epoch_start']}")
        if rnd["epoch_end"] > spec["settings"].trainer.epochs:
            raise UserInputError(f"{file}: round.epoch_end {rnd['epoch_end']} is beyond config.trainer.epochs {spec['settings'].trainer.epochs}")
    elif verb == "merge" and len(set(spec["inputs"])) != len(spec["inputs"]):
        raise UserInputError(f"{file}: inputs: a checkpoint is listed twice")
    elif verb == "merge" and spec["valid_data"] and not spec["feature_columns"]:
        raise UserInputError(f"{file}: feature_columns: required with valid_data")
    basemodel = spec["settings"].model.basemodel_path
    # A merge reads the backbone only to validate the merged model.
    if (verb != "merge" or spec["valid_data"]) and not os.path.isfile(os.path.join(basemodel, "config.json")):
        raise UserInputError(f"{file}: config.model.basemodel_path: {basemodel} is not a model folder (no config.json); run scripts/prepare-basemodel.py first")
    return spec
