"""The weights a 4-bit backbone really has, without bitsandbytes' CUDA kernels: NF4 quantise ->
dequantise as bitsandbytes 0.44 does it for `BitsAndBytesConfig(load_in_4bit, nf4, double quant)`
(functional.quantize_4bit / dequantize_4bit with compress_statistics=True):

- the weight, in the load dtype (bf16), is cut into blocks of 64 values; each block keeps its absmax
  (float32) and each value the index of the NF4 code nearest to value / absmax;
- double quantisation: the absmaxes minus their mean are quantised 8-bit (blockwise, 256 per block,
  the signed dynamic map of functional.create_dynamic_map) and restored as code * absmax2 + mean;
- dequantised = NF4 code * restored absmax, computed in float32 and rounded to the load dtype.

Training on CUDA runs the real kernels; everywhere else (CPU training, validation and predict, and
the ONNX export) a 4-bit config gets these values, so LoRA is merged into the weights it was trained
against. What still differs from a CUDA 4-bit forward: docs/gpu-trainer.md#4-bit-export.
"""

import torch
from torch import nn

NF4_BLOCK = 64
ABSMAX_BLOCK = 256
# functional.get_4bit_type("nf4"): 16 quantiles of N(0, 1) scaled to [-1, 1] (QLoRA, Dettmers et al. 2023).
NF4_CODE = torch.tensor([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
    0.7229568362236023, 1.0,
], dtype=torch.float32)


def dynamic_map() -> torch.Tensor:
    """functional.create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): 256 sorted codes."""
    data = []
    for i in range(7):
        boundaries = torch.linspace(0.1, 1, 2**i + 1)
        means = ((boundaries[:-1] + boundaries[1:]) / 2.0) * (10 ** (-6 + i))
        data += means.tolist() + (-means).tolist()
    data += [0.0, 1.0]
    data += [0.0] * (256 - len(data))
    return torch.tensor(sorted(data), dtype=torch.float32)


def _blocks(values: torch.Tensor, size: int) -> torch.Tensor:
    """float32 rows of `size`; the last block padded with zeros, which leaves its absmax unchanged."""
    flat = values.reshape(-1).to(torch.float32)
    pad = (-flat.numel()) % size
    return torch.cat([flat, flat.new_zeros(pad)]).reshape(-1, size)


def _nearest(scaled: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """Index of the code nearest to each value (the kernels' decision trees split at the midpoints)."""
    return (scaled.unsqueeze(-1) - code).abs().argmin(dim=-1)


def _absmax_reciprocal(blocks: torch.Tensor) -> tuple:
    absmax = blocks.abs().amax(dim=1)
    # The kernels multiply by 1/absmax; an all-zero block quantises to code 0.0 either way.
    return absmax, torch.where(absmax > 0, 1.0 / absmax, torch.zeros_like(absmax))


def quantize_blockwise_8bit(values: torch.Tensor, block: int = ABSMAX_BLOCK) -> tuple:
    """(uint8 indexes into dynamic_map(), float32 absmax per block) of functional.quantize_blockwise."""
    blocks = _blocks(values, block)
    absmax, reciprocal = _absmax_reciprocal(blocks)
    index = _nearest(blocks * reciprocal.unsqueeze(1), dynamic_map())
    return index.reshape(-1)[: values.numel()].to(torch.uint8), absmax


def dequantize_blockwise_8bit(index: torch.Tensor, absmax: torch.Tensor, block: int = ABSMAX_BLOCK) -> torch.Tensor:
    codes = dynamic_map()[index.long()]
    return (_blocks(codes, block) * absmax.unsqueeze(1)).reshape(-1)[: index.numel()]


def nf4_roundtrip(weight: torch.Tensor, dtype: torch.dtype = torch.bfloat16) -> torch.Tensor:
    """`weight` as a double-quantised NF4 weight loaded in `dtype` dequantises; returned in `dtype`."""
    blocks = _blocks(weight.detach().to(dtype), NF4_BLOCK)
    absmax, reciprocal = _absmax_reciprocal(blocks)
    index = _nearest(blocks * reciprocal.unsqueeze(1), NF4_CODE)
    offset = absmax.mean()
    q_absmax, absmax2 = quantize_blockwise_8bit(absmax - offset)
    restored = dequantize_blockwise_8bit(q_absmax, absmax2) + offset
    values = NF4_CODE[index] * restored.unsqueeze(1)
    return values.reshape(-1)[: weight.numel()].reshape(weight.shape).to(dtype)


def emulate_4bit_backbone(backbone: nn.Module, dtype: torch.dtype = torch.bfloat16) -> int:
    """In place: every parameter of `backbone` as a 4-bit load holds it: the nn.Linear weights that
    transformers replaces by bnb Linear4bit (all of a Gemma-2 base model's) as NF4 dequantised, every
    other parameter (embeddings, norms) rounded to `dtype`, all kept in the backbone's own dtype for
    the computation. Call before adding LoRA. Returns the number of weights quantised."""
    quantised = 0
    with torch.no_grad():
        linear_weights = {id(m.weight) for m in backbone.modules() if isinstance(m, nn.Linear)}
        for p in backbone.parameters():
            exact = nf4_roundtrip(p, dtype) if id(p) in linear_weights else p.to(dtype)
            quantised += id(p) in linear_weights
            p.copy_(exact.to(p.dtype))
    return quantised
