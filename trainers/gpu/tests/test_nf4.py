"""NF4 quantise -> dequantise (nf4.py) against hand values and bitsandbytes' own code, and an ONNX
export of a 4-bit model that runs the weights the adapters were trained against."""

import json
import os

import numpy as np
import onnxruntime as ort
import pytest
import torch

from arena_trainer.model import load_backbone
from arena_trainer.nf4 import dynamic_map, emulate_4bit_backbone, nf4_roundtrip, quantize_blockwise_8bit, dequantize_blockwise_8bit
from arena_trainer.restore import restore_model
from arena_trainer.spec import settings_from_config
from arena_trainer.text import TextEncoder, pad_batch
from conftest import deep_merge, tiny_config, train_and_export
from tiny_gemma2 import read_sample_rows


def test_one_block_dequantises_to_the_hand_computed_nf4_values():
    # One block: its absmax 2.0 survives double quantisation exactly (2.0 - mean 2.0 = 0 is a code).
    w = torch.zeros(64)
    w[:5] = torch.tensor([2.0, -2.0, 1.0, 0.3, -0.05])
    out = nf4_roundtrip(w)
    assert out.dtype == torch.bfloat16
    # 1.0/2 = 0.5 is nearest NF4 code 0.44070983 -> 0.88141966 -> bf16 0.8828125; 0.3 is bf16 0.30078125,
    # /2 nearest 0.16093020 -> 0.32186040 -> bf16 0.322265625; -0.05/2 nearest 0.0 (not -0.09105).
    assert out[:5].tolist() == [2.0, -2.0, 0.8828125, 0.322265625, 0.0]
    assert not out[5:].any()


def test_the_dynamic_map_and_8bit_blockwise_quantisation_match_bitsandbytes_on_cpu():
    F = pytest.importorskip("bitsandbytes.functional")
    code = dynamic_map()
    assert torch.equal(code, F.create_dynamic_map().float())
    torch.manual_seed(0)
    absmax = torch.rand(5120) * 0.02 - 0.01  # 20 blocks of what double quantisation sees: absmaxes minus their mean
    index, scale = quantize_blockwise_8bit(absmax)
    expected, state = F.quantize_blockwise(absmax, blocksize=256)
    assert torch.equal(scale, state.absmax)
    # bitsandbytes' CPU path treats the lowest code (-0.9930) apart: its search never picks it where it
    # is the nearest, and it dequantises it as -1.0. The CUDA kernels that quantise for training
    # (dQuantize: binary search down to pivot 0, then a midpoint test) and nf4.py use the table as is.
    # Every other value gets the same code and the same dequantised value.
    differ = index != expected
    scaled = absmax.reshape(-1, 256) / scale.unsqueeze(1)
    assert (index[differ] == 0).all() and (expected[differ] == 1).all()
    assert (scaled.reshape(-1)[differ] < (code[0] + code[1]) / 2).all()
    assert 0 < int(differ.sum()) < 50
    same = (index == expected) & (index != 0)
    assert int(same.sum()) > 5000
    assert torch.equal(dequantize_blockwise_8bit(index, scale)[same], F.dequantize_blockwise(expected, state)[same])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="bitsandbytes quantises 4-bit only on CUDA")
def test_nf4_roundtrip_equals_bitsandbytes_double_quantised_nf4_on_cuda():
    F = pytest.importorskip("bitsandbytes.functional")
    torch.manual_seed(0)
    w = (torch.randn(4096, 1000) * 0.02).to(torch.bfloat16)
    packed, state = F.quantize_4bit(w.cuda(), blocksize=64, compress_statistics=True, quant_type="nf4")
    expected = F.dequantize_4bit(packed, state).cpu()
    ours = nf4_roundtrip(w)
    mismatched = (ours != expected).float().mean().item()
    # Values at a decision midpoint may round either way in the kernel's float arithmetic.
    assert mismatched < 1e-5, mismatched


def test_every_linear_weight_of_the_tiny_gemma2_is_quantised(config):
    settings = settings_from_config("test", config)
    backbone = load_backbone(settings.model, torch.device("cpu"), quantize=False, training=False)
    before = {n: p.clone() for n, p in backbone.named_parameters()}
    # 2 layers x (q, k, v, o, gate, up, down); embeddings and norms are only rounded to bf16.
    assert emulate_4bit_backbone(backbone) == 14
    q = backbone.layers[0].self_attn.q_proj.weight
    assert len(torch.unique(q.reshape(-1, 64)[0])) <= 16, "one block holds at most the 16 NF4 codes"
    assert torch.equal(backbone.embed_tokens.weight, before["embed_tokens.weight"].to(torch.bfloat16).float())


@pytest.fixture(scope="module")
def exported_4bit(tmp_path_factory, basemodel, dataset):
    config = tiny_config(basemodel, {"model": {"quantization": "4bit"}, "trainer": {"epochs": 1}})
    return train_and_export(config, dataset, tmp_path_factory.mktemp("export-4bit"))


# onnxruntime against PyTorch on the same float32 weights (LoRA merged in one, applied in the other).
EXPORT_TOLERANCE = 1e-4


def test_the_4bit_export_matches_the_trainer_on_the_nf4_weights_not_the_full_precision_ones(exported_4bit):
    settings = settings_from_config("test", exported_4bit["config"])
    full = settings_from_config("test", deep_merge(exported_4bit["config"], {"model": {"quantization": "none"}}))
    rows = read_sample_rows(400)[300:316]
    folder = os.path.dirname(exported_4bit["model"])
    with open(os.path.join(folder, "model.json")) as f:
        description = json.load(f)
    from transformers import AutoTokenizer

    encoder = TextEncoder(AutoTokenizer.from_pretrained(os.path.join(folder, "tokenizer")), description["text"]["max_length"], description["text"]["truncation"], description["text"]["tokenization"])
    ids, mask = pad_batch(encoder.encode([r["prompt"] for r in rows], [r["response_a"] for r in rows], [r["response_b"] for r in rows]), encoder.pad_token_id)
    features = torch.randn(len(rows), len(description["feature_columns"])) * 3 + 5

    def trainer_side(s):
        model, _ = restore_model(s, exported_4bit["checkpoint"], torch.device("cpu"), quantize=False)
        with torch.no_grad():
            return torch.sigmoid(model(ids, mask, features)).numpy()

    session = ort.InferenceSession(exported_4bit["model"], providers=["CPUExecutionProvider"])
    [p_a] = session.run(["p_a"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "features": features.numpy()})
    nf4, full_precision = trainer_side(settings), trainer_side(full)
    np.testing.assert_allclose(p_a, nf4, atol=EXPORT_TOLERANCE)
    gap = float(np.abs(p_a - full_precision).max())
    print(f"4-bit export: max |onnx - trainer on NF4 weights| {float(np.abs(p_a - nf4).max()):.2e}, max |onnx - full precision| {gap:.2e}")
    assert gap > 10 * EXPORT_TOLERANCE, f"the full-precision model is as close ({gap}): the test cannot tell the weights apart"
