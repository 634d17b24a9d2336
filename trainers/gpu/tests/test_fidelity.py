"""The reference recipe's settings (issue 15, docs/gpu-trainer.md's table), one test per row this
trainer owns: pooling (2), the schedule and accumulation (6), the feature branch's init (8). Rows 1
and 3 (tokenization, truncation) are in test_text.py."""

import math

import numpy as np
import onnxruntime as ort
import pytest
import torch

from arena_trainer.data import read_feature_columns, read_split, training_row_indices
from arena_trainer.errors import UserInputError
from arena_trainer.export import export_onnx
from arena_trainer.model import build_model, pool
from arena_trainer.schedule import lr_multiplier
from arena_trainer.spec import settings_from_config
from arena_trainer.train import schedule_steps, steps_in_epoch
from conftest import deep_merge, load_config


def test_reference_config_holds_the_reference_settings():
    m, t = load_config("gemma2_9b_4bit")["model"], load_config("gemma2_9b_4bit")["trainer"]
    assert (m["tokenization"], m["truncation"], m["max_length"], m["inference_max_length"]) == ("whole_string", "right", 2048, 1950)
    assert (m["pooling"], m["feature_init"], m["feature_scaling"]) == ("eos", "xavier_zero", "none")
    assert (t["batch_size"], t["grad_accumulation"], t["warmup_ratio"], t["scheduler"]) == (4, 1, 0.05, {"kind": "cosine", "num_cycles": 0.27})


def test_eos_pooling_takes_the_eos_position_under_right_padding():
    # Row 0: <bos> a b <eos> <pad> <pad>; row 1: <bos> c <eos> <pad> <pad> <pad>. Hidden state h[t] = t + 10 * row.
    hidden = (torch.arange(6, dtype=torch.float32).view(1, 6, 1) + torch.tensor([[[0.0]], [[10.0]]])).expand(2, 6, 2)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0]])
    assert pool(hidden, mask, "eos").tolist() == [[3.0, 3.0], [12.0, 12.0]]
    assert pool(hidden, mask, "last_token").tolist() == [[3.0, 3.0], [12.0, 12.0]]
    # mean: (0+1+2+3)/4 = 1.5 and (10+11+12)/3 = 11, padding left out.
    assert pool(hidden, mask, "mean").tolist() == [[1.5, 1.5], [11.0, 11.0]]


@pytest.mark.parametrize("pooling", ["eos", "mean"])
def test_the_onnx_graph_pools_as_the_model_does(tmp_path, basemodel, pooling):
    config = deep_merge(load_config("gemma2_tiny_cpu"), {"model": {"basemodel_path": basemodel, "pooling": pooling}})
    model = build_model(settings_from_config("test", config).model, 4, torch.device("cpu"), init_seed=3, quantize=False, training=False).eval()
    torch.nn.init.normal_(model.head[0].weight)  # so that the pooled vector moves the output visibly
    export_onnx(model, 4, str(tmp_path / "model.onnx"))
    model.eval()  # the export leaves its wrapper, and so the model, in training mode
    ids = torch.tensor([[2, 40, 41, 42, 43, 1, 0, 0], [2, 50, 51, 1, 0, 0, 0, 0], [2, 60, 61, 62, 63, 64, 65, 1]])
    mask = (torch.arange(8) < torch.tensor([[6], [4], [8]])).long()
    features = torch.randn(3, 4)
    with torch.no_grad():
        expected = torch.sigmoid(model(ids, mask, features)).numpy()
    [got] = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"]).run(["p_a"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "features": features.numpy()})
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_eos_pooling_needs_whole_string_tokenization(config):
    bad = deep_merge(config, {"model": {"tokenization": "pieces", "pooling": "eos"}})
    with pytest.raises(UserInputError) as err:
        settings_from_config("spec.json", bad)
    assert str(err.value) == "spec.json: config.model.pooling: eos pools the EOS, which only tokenization whole_string appends; use last_token with pieces"


def test_the_reference_schedule_floors_at_0_437_of_the_peak():
    # 100 steps, 5 of warm-up: HF get_cosine_schedule_with_warmup(num_cycles=0.27) after warm-up is
    # 0.5 * (1 + cos(2 pi 0.27 progress)); at the end 0.5 * (1 + cos(0.54 pi)) = 0.5 * (1 - 0.125333) = 0.437333.
    assert lr_multiplier(0, 100, 0.05, 0.27) == pytest.approx(0.2)  # warm-up (step + 1) / 5
    assert lr_multiplier(5, 100, 0.05, 0.27) == 1.0
    assert lr_multiplier(100, 100, 0.05, 0.27) == pytest.approx(0.437333, abs=1e-6)
    # Step 52 is 47 of 95 decay steps in.
    assert lr_multiplier(52, 100, 0.05, 0.27) == pytest.approx(0.5 * (1 + math.cos(2 * math.pi * 0.27 * 47 / 95)))
    assert lr_multiplier(100, 100, 0.05, 0.5) == pytest.approx(0.0, abs=1e-12)
    assert min(lr_multiplier(s, 100, 0.05, 0.27) for s in range(5, 101)) > 0.437


def test_every_shard_follows_the_largest_shards_schedule(dataset, config):
    """With 3 shards the pairs split unevenly by hash; each shard's schedule is as long as the largest
    one's, so a smaller shard does not reach the low learning rates earlier than the others."""
    train = read_split(dataset["train"], read_feature_columns(dataset["feature_columns"]))
    settings = settings_from_config("test", deep_merge(config, {"trainer": {"grad_accumulation": 1, "batch_size": 4}}))
    t = settings.trainer
    own = [sum(steps_in_epoch(len(training_row_indices(train, {"index": i, "count": 3}, "append", e)), 4, 1) for e in range(t.epochs)) for i in range(3)]
    assert len(set(own)) > 1, f"the shards differ in size: {own}"
    assert schedule_steps(train, 3, "append", t) == max(own)


def test_the_feature_branch_starts_xavier_uniform_with_zero_bias(basemodel):
    built = {}
    for init in ("xavier_zero", "default"):
        config = deep_merge(load_config("gemma2_tiny_cpu"), {"model": {"basemodel_path": basemodel, "feature_init": init}})
        built[init] = build_model(settings_from_config("test", config).model, 4, torch.device("cpu"), init_seed=5, quantize=False, training=False).feature_branch
    reference = built["xavier_zero"]
    # Xavier-uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) = sqrt(6 / (4 + 16)) = 0.5477.
    bound = math.sqrt(6 / (4 + 16))
    assert reference.bias.abs().max().item() == 0.0
    assert reference.weight.abs().max().item() <= bound and reference.weight.abs().max().item() > 0.8 * bound
    # torch's default Linear init is U(-1/sqrt(fan_in), 1/sqrt(fan_in)) = U(-0.5, 0.5), bias included.
    assert built["default"].bias.abs().max().item() > 0 and built["default"].weight.abs().max().item() <= 0.5
