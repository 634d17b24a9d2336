"""p(model_a wins) of the rows of a scoring table (id, pass, prompt, response_a, response_b, features)
with the GPU trainer's own model code: 4-bit NF4 on CUDA when the run was trained so, float32 on CPU."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq


def load_model(package_dir: str, basemodel_dir: str, device):
    """(model in eval mode, text encoder) from the package's weights, settings and tokenizer."""
    import torch  # noqa: F401  (imported before the trainer modules, which expect it)
    from safetensors.torch import load_file

    from arena_trainer import checkpoint as ckpt
    from arena_trainer.model import build_model, load_tokenizer, trainable_parameters
    from arena_trainer.spec import settings_from_config
    from arena_trainer.text import TextEncoder

    model_dir = os.path.join(package_dir, "model")
    settings_file = os.path.join(model_dir, "settings.json")
    with open(settings_file, encoding="utf-8") as f:
        config = json.load(f)
    config["model"]["basemodel_path"] = basemodel_dir
    settings = settings_from_config(settings_file, config)
    with open(os.path.join(model_dir, "shape.json"), encoding="utf-8") as f:
        shape = json.load(f)
    quantize = settings.model.quantization == "4bit" and device.type == "cuda"
    model = build_model(settings.model, len(shape["feature_columns"]), device, init_seed=0, quantize=quantize, training=False)
    ckpt.assert_compatible({"meta": {"shape": shape}}, model_dir, ckpt.model_shape(settings, shape["feature_columns"], model.backbone.config.hidden_size))
    ckpt.load_weights(model, trainable_parameters(model), load_file(os.path.join(model_dir, "weights.safetensors")), model_dir)
    model.eval()
    encoder = TextEncoder(load_tokenizer(os.path.join(model_dir, "tokenizer")), settings.model.inference_max_length, settings.model.truncation, settings.model.tokenization)
    return model, encoder


def score_file(package_dir: str, basemodel_dir: str, rows_file: str, out_file: str, batch_size: int) -> None:
    """Writes (id, pass, p_a) of every row of `rows_file` to `out_file`, on this process's first device."""
    import numpy as np

    from arena_trainer.model import pick_device
    from arena_trainer.predict import predict_probabilities

    device = pick_device()
    model, encoder = load_model(package_dir, basemodel_dir, device)
    table = pq.read_table(rows_file)
    texts = {k: [v or "" for v in table.column(k).to_pylist()] for k in ("prompt", "response_a", "response_b")}
    features = np.array(table.column("features").to_pylist(), dtype=np.float64)
    p_a = predict_probabilities(model, encoder, texts, features, device, batch_size)
    out = pa.table({"id": table.column("id"), "pass": table.column("pass"), "p_a": pa.array(p_a, pa.float64())})
    pq.write_table(out, out_file + ".tmp")
    os.replace(out_file + ".tmp", out_file)


if __name__ == "__main__":
    # One device's share, in its own process (CUDA_VISIBLE_DEVICES names the device): see predict.py.
    import sys

    score_file(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
