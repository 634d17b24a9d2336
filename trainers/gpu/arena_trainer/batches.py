"""Rows of a split turned into model inputs."""

import torch

from .text import TextEncoder, pad_batch


def model_inputs(encoder: TextEncoder, prompts, responses_a, responses_b, features, device: torch.device):
    """input_ids, attention_mask (int64 [N, L]) and raw features (float32 [N, F]) on `device`."""
    rows = encoder.encode(prompts, responses_a, responses_b)
    input_ids, mask = pad_batch(rows, encoder.pad_token_id)
    return input_ids.to(device), mask.to(device), torch.as_tensor(features, dtype=torch.float32).to(device)


def length_sorted_batches(lengths: list, batch_size: int) -> list:
    """Index batches of rows of similar length, longest first, so padding is small and the first batch
    shows at once whether the largest one fits in memory."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[k : k + batch_size] for k in range(0, len(order), batch_size)]


def text_lengths(split_prompts, split_a, split_b) -> list:
    """A cheap proxy of token length for sorting: characters of the three texts."""
    return [len(p) + len(a) + len(b) for p, a, b in zip(split_prompts, split_a, split_b)]
