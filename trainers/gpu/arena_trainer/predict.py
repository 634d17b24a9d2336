"""The `predict` verb: p(model_a wins) of every row of a parquet file, by the trainer's own forward
pass (4-bit on CUDA when the config says so), for hardware where the ONNX export does not fit."""

import os
import time

import torch

from .batches import length_sorted_batches, model_inputs, text_lengths
from .data import feature_matrix, read_table
from .events import emit, log
from .model import load_tokenizer, pick_device
from .restore import restore_model
from .text import TextEncoder
from .train import autocast_for

PROGRESS_INTERVAL_S = 5.0


def predict_command(spec: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    st = spec["settings"]
    device = pick_device()
    quantize = st.model.quantization == "4bit" and device.type == "cuda"
    model, saved = restore_model(st, spec["checkpoint"], device, quantize=quantize)
    columns = saved["meta"]["shape"]["feature_columns"]
    table = read_table(spec["data"], ["id", "prompt", "response_a", "response_b", *columns])
    ids = table["id"]
    texts = {k: [v or "" for v in table[k]] for k in ("prompt", "response_a", "response_b")}
    features = feature_matrix(spec["data"], table, ids, columns, range(len(ids)))
    encoder = TextEncoder(load_tokenizer(st.model.basemodel_path), st.model.inference_max_length, st.model.truncation, st.model.tokenization)
    batch_size = spec["batch_size"] or st.eval_batch_size
    log(f"predict {len(ids)} rows of {spec['data']} on {device}{' (4-bit)' if quantize else ''}, batches of {batch_size}")

    last = time.monotonic()

    def report(done: int) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_INTERVAL_S:
            last = time.monotonic()
            log(f"predicted {done} of {len(ids)} rows")

    p_a = predict_probabilities(model, encoder, texts, features, device, batch_size, on_batch=report)

    os.makedirs(spec["output_dir"], exist_ok=True)
    path = os.path.join(spec["output_dir"], "predictions.parquet")
    tmp = f"{path}.tmp-{os.getpid()}"
    pq.write_table(pa.table({"id": pa.array(ids, pa.string()), "p_a": pa.array(p_a, pa.float64())}), tmp)
    os.replace(tmp, path)
    emit({"event": "done", "predictions": path})


def predict_probabilities(model, encoder: TextEncoder, texts: dict, features, device: torch.device, batch_size: int, on_batch=None) -> list:
    """p(model_a wins) of every row, in length-sorted batches (little padding), under the device's
    autocast; `texts` holds the prompt, response_a and response_b lists, `features` the [N, F] rows.
    `on_batch(rows done)` runs after each batch. The Kaggle package scores with it too
    (activities/package/arena_infer/scoring.py), so a package predicts as this verb does."""
    autocast, _ = autocast_for(device)
    p_a = [0.0] * len(texts["prompt"])
    done = 0
    with torch.no_grad():
        for rows in length_sorted_batches(text_lengths(texts["prompt"], texts["response_a"], texts["response_b"]), batch_size):
            inputs = model_inputs(encoder, *([texts[k][i] for i in rows] for k in ("prompt", "response_a", "response_b")), features[rows], device)
            with autocast:
                probabilities = torch.sigmoid(model(*inputs).float()).squeeze(-1).tolist()
            for i, p in zip(rows, probabilities):
                p_a[i] = p
            done += len(rows)
            if on_batch is not None:
                on_batch(done)
    return p_a
