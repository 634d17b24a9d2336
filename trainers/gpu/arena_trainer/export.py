"""The `export` verb: LoRA merged into the backbone, the whole model as ONNX for onnxruntime-node,
model.json describing its inputs, and the tokenizer beside it."""

import os
import shutil

import torch

from .data import read_feature_columns
from .errors import UserInputError
from .events import emit, log
from .model import basemodel_is_prequantized, load_tokenizer
from .restore import restore_model
from .text import TextEncoder

OPSET = 17
# Protobuf cannot hold a model over 2 GiB; larger weights go to one external data file.
EXTERNAL_DATA_BYTES = 1 << 30
INPUTS = ("input_ids", "attention_mask", "features")
OUTPUT = "p_a"


class Probability(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, features):
        return torch.sigmoid(self.model(input_ids, attention_mask, features))


def model_description(settings, meta: dict, encoder: TextEncoder, external_data: str | None) -> dict:
    shape, state = meta["shape"], meta["state"]
    columns = shape["feature_columns"]
    return {
        "kind": "gemma2_qlora",
        "onnx": "model.onnx",
        "onnx_external_data": external_data,
        "opset": OPSET,
        "inputs": [
            {"name": "input_ids", "dtype": "int64", "shape": ["N", "L"], "content": "token ids built as `text` says, right-padded with text.pad_token_id; L <= text.max_length"},
            {"name": "attention_mask", "dtype": "int64", "shape": ["N", "L"], "content": "1 for real tokens, 0 for padding"},
            {"name": "features", "dtype": "float32", "shape": ["N", len(columns)], "content": "raw feature values in feature_columns order; standardised inside the graph"},
        ],
        "output": {"name": OUTPUT, "dtype": "float32", "shape": ["N", 1], "content": "probability that model_a wins"},
        "tokenizer": "tokenizer",
        "text": encoder.describe(),
        "feature_columns": columns,
        "dims": {"hidden_size": shape["hidden_size"], "feature_count": len(columns), "feature_dim": shape["feature_dim"], "hidden_dim": shape["hidden_dim"], "lora": shape["lora"]},
        "basemodel_path": settings.model.basemodel_path,
        "step": state["step"],
        "stopped_early": state["early_stopping"]["stopped"],
        "history": {
            "train_loss_per_step": [{k: e[k] for k in ("shard", "round", "step", "epoch", "rows", "loss")} for e in state["history"]["train"]],
            "epochs": state["history"]["valid"],
        },
    }


def export_onnx(model: torch.nn.Module, feature_count: int, path: str) -> str | None:
    """Writes the ONNX graph to `path`; returns the external data file name when the weights need one."""
    import onnx

    # Example shapes differ in N and L so that the tracer keeps both dynamic.
    ids = torch.ones((2, 7), dtype=torch.long)
    mask = torch.ones((2, 7), dtype=torch.long)
    mask[1, 5:] = 0
    features = torch.zeros((2, feature_count), dtype=torch.float32)
    dynamic = {"input_ids": {0: "N", 1: "L"}, "attention_mask": {0: "N", 1: "L"}, "features": {0: "N"}, OUTPUT: {0: "N"}}
    work = os.path.join(os.path.dirname(path), "onnx-work")
    os.makedirs(work)
    raw = os.path.join(work, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(Probability(model), (ids, mask, features), raw, input_names=list(INPUTS), output_names=[OUTPUT], dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True, dynamo=False)
    proto = onnx.load(raw, load_external_data=True)
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    external = os.path.basename(path) + ".data" if weight_bytes > EXTERNAL_DATA_BYTES else None
    if external:
        onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True, location=external, size_threshold=1024)
    else:
        onnx.save_model(proto, path)
    shutil.rmtree(work)
    return external


def export_command(spec: dict) -> None:
    st = spec["settings"]
    if basemodel_is_prequantized(st.model.basemodel_path):
        raise UserInputError(f"config.model.basemodel_path: {st.model.basemodel_path} holds 4-bit weights; export merges LoRA into full-precision weights, so point it at the full-precision copy")
    # Export runs on the CPU in float32: merging LoRA into 4-bit weights would round the adapter away.
    model, saved = restore_model(st, spec["checkpoint"], torch.device("cpu"), quantize=False)
    columns = saved["meta"]["shape"]["feature_columns"]
    if spec["feature_columns"] and read_feature_columns(spec["feature_columns"]) != columns:
        raise UserInputError(f"{spec['feature_columns']}: feature columns differ from those of checkpoint {spec['checkpoint']}")
    model.backbone = model.backbone.merge_and_unload()
    tokenizer = load_tokenizer(st.model.basemodel_path)
    encoder = TextEncoder(tokenizer, st.model.inference_max_length, st.model.truncation, st.model.tokenization)

    out = spec["output_dir"]
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, f".export.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    external = export_onnx(model, len(columns), os.path.join(tmp, "model.onnx"))
    tokenizer.save_pretrained(os.path.join(tmp, "tokenizer"))
    import json

    with open(os.path.join(tmp, "model.json"), "w", encoding="utf-8") as f:
        json.dump(model_description(st, saved["meta"], encoder, external), f, indent=2)
        f.write("\n")
    # model.json last: a folder with model.json is a complete export.
    for name in [n for n in ("model.onnx.data", "tokenizer", "model.onnx") if os.path.exists(os.path.join(tmp, n))] + ["model.json"]:
        target = os.path.join(out, name)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(os.path.join(tmp, name), target)
    shutil.rmtree(tmp)
    path = os.path.join(out, "model.onnx")
    log(f"exported step {saved['meta']['state']['step']} to {path}{' with external data ' + external if external else ''}")
    emit({"event": "done", "model": path})
