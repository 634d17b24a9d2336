"""export: ONNX that onnxruntime runs to the same probabilities as the PyTorch model, and model.json."""

import json
import os

import numpy as np
import onnxruntime as ort
import pytest
import torch

from arena_trainer.model import PreferenceModel, build_model, trainable_parameters
from arena_trainer.restore import restore_model
from arena_trainer.spec import settings_from_config
from arena_trainer.text import TextEncoder, pad_batch
from conftest import run_trainer, tiny_config, train_and_export
from tiny_gemma2 import read_sample_rows


@pytest.fixture(scope="module")
def exported(tmp_path_factory, basemodel, dataset):
    return train_and_export(tiny_config(basemodel, {"trainer": {"epochs": 1}}), dataset, tmp_path_factory.mktemp("export"))


def test_onnx_gives_the_probabilities_of_pytorch(exported):
    settings = settings_from_config("test", exported["config"])
    model, saved = restore_model(settings, exported["checkpoint"], torch.device("cpu"), quantize=False)
    with open(os.path.join(os.path.dirname(exported["model"]), "model.json")) as f:
        description = json.load(f)
    from transformers import AutoTokenizer

    # The tokenizer shipped beside the model, as the inference side will load it.
    tokenizer = AutoTokenizer.from_pretrained(os.path.join(os.path.dirname(exported["model"]), description["tokenizer"]))
    encoder = TextEncoder(tokenizer, description["text"]["max_length"], description["text"]["truncation"], description["text"]["tokenization"])
    # Not trained on; 11 rows and a new length: dynamic N and L; the last row is short, so it is padded.
    rows = [*read_sample_rows(400)[300:310], {"prompt": "Hi", "response_a": "Hello!", "response_b": "Hey."}]
    ids, mask = pad_batch(encoder.encode([r["prompt"] for r in rows], [r["response_a"] for r in rows], [r["response_b"] for r in rows]), encoder.pad_token_id)
    assert mask.sum(1).min() < ids.shape[1], "some rows are padded"
    features = torch.randn(len(rows), len(description["feature_columns"])) * 3 + 5
    with torch.no_grad():
        expected = torch.sigmoid(model(ids, mask, features)).numpy()
    session = ort.InferenceSession(exported["model"], providers=["CPUExecutionProvider"])
    [p_a] = session.run(["p_a"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "features": features.numpy()})
    assert p_a.shape == (len(rows), 1) and p_a.dtype == np.float32
    np.testing.assert_allclose(p_a, expected, atol=1e-4)
    assert np.ptp(p_a) > 1e-3, "the rows get different probabilities"


def test_model_json_describes_the_inputs(exported):
    folder = os.path.dirname(exported["model"])
    assert sorted(os.listdir(folder)) == ["model.json", "model.onnx", "tokenizer"]
    with open(os.path.join(folder, "model.json")) as f:
        d = json.load(f)
    assert d["kind"] == "gemma2_qlora"
    assert [(i["name"], i["dtype"]) for i in d["inputs"]] == [("input_ids", "int64"), ("attention_mask", "int64"), ("features", "float32")]
    assert d["output"]["name"] == "p_a"
    assert d["feature_columns"] == ["log_len_a", "log_len_b", "log_len_diff", "prompt_len"]
    assert d["text"]["max_length"] == 96 and d["text"]["truncation"] == "right" and d["text"]["padding_side"] == "right"
    assert d["text"]["tokenization"] == "whole_string" and d["text"]["eos_token_id"] is not None
    assert d["onnx_external_data"] is None
    assert d["step"] == 6 and len(d["history"]["epochs"]) == 1
    assert os.path.isfile(os.path.join(folder, "tokenizer", "tokenizer.json"))


def test_pooling_takes_the_last_real_token_whatever_the_padding(basemodel, config):
    settings = settings_from_config("test", config)
    model = build_model(settings.model, 4, torch.device("cpu"), init_seed=1, quantize=False, training=False).eval()
    ids = torch.tensor([[2, 40, 41, 42, 43]])
    features = torch.zeros((1, 4))
    with torch.no_grad():
        plain = model(ids, torch.ones_like(ids), features)
        right = model(torch.tensor([[2, 40, 41, 42, 43, 0, 0]]), torch.tensor([[1, 1, 1, 1, 1, 0, 0]]), features)
        left = model(torch.tensor([[0, 0, 2, 40, 41, 42, 43]]), torch.tensor([[0, 0, 1, 1, 1, 1, 1]]), features)
    torch.testing.assert_close(right, plain, atol=1e-5, rtol=0)
    torch.testing.assert_close(left, plain, atol=1e-5, rtol=0)
    assert isinstance(model, PreferenceModel) and all("lora" in n or n.startswith(("head.", "feature_branch.")) for n in trainable_parameters(model))


def test_predict_writes_the_probabilities_of_every_row(tmp_path, exported, dataset):
    import pyarrow.parquet as pq

    spec = {"config": exported["config"], "checkpoint": exported["checkpoint"], "data": dataset["valid"], "output_dir": str(tmp_path / "pred"), "batch_size": 5}
    code, events, log = run_trainer("predict", spec, tmp_path)
    assert code == 0, log
    table = pq.read_table(events[-1]["predictions"]).to_pydict()
    valid = pq.read_table(dataset["valid"]).to_pydict()
    assert table["id"] == valid["id"]
    settings = settings_from_config("test", exported["config"])
    model, _ = restore_model(settings, exported["checkpoint"], torch.device("cpu"), quantize=False)
    from arena_trainer.model import load_tokenizer

    encoder = TextEncoder(load_tokenizer(settings.model.basemodel_path), settings.model.max_length, settings.model.truncation, settings.model.tokenization)
    rows = [3, 17]
    ids, mask = pad_batch(encoder.encode([valid["prompt"][i] for i in rows], [valid["response_a"][i] for i in rows], [valid["response_b"][i] for i in rows]), encoder.pad_token_id)
    features = torch.tensor([[valid[c][i] for c in ("log_len_a", "log_len_b", "log_len_diff", "prompt_len")] for i in rows])
    with torch.no_grad():
        expected = torch.sigmoid(model(ids, mask, features)).squeeze(-1).tolist()
    np.testing.assert_allclose([table["p_a"][i] for i in rows], expected, atol=1e-5)
