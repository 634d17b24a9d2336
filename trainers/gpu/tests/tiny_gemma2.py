"""A tiny randomly initialised Gemma-2 with a BPE tokenizer trained on real LMSYS rows, saved as a
local model folder like a real backbone. Tests build it in a temp folder; for a CPU run of the
whole pipeline with configs/gemma2_tiny_cpu.yaml build it where that config points:

    PYTHONPATH=trainers/gpu $(bash scripts/setup-trainer-env.sh) trainers/gpu/tests/tiny_gemma2.py .arena/models/gemma2-tiny
"""

import csv
import json
import os
import sys

SAMPLE_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data", "lmsys-sample"))
SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>"]  # Gemma's ids: pad 0, eos 1, bos 2


def join_turns(value: str) -> str:
    """prompt / response cells are JSON lists of turns (items may be null)."""
    try:
        turns = json.loads(value)
    except ValueError:
        return value
    return "\n\n".join(t for t in turns if isinstance(t, str)) if isinstance(turns, list) else str(turns)


def read_sample_rows(limit: int | None = None) -> list:
    """Real rows of train_sample.csv with a winner (ties dropped): dicts of id, prompt, response_a, response_b, winner."""
    csv.field_size_limit(sys.maxsize)
    rows = []
    with open(os.path.join(SAMPLE_DIR, "train_sample.csv"), encoding="utf-8", newline="") as f:
        for record in csv.DictReader(f):
            if record["winner_tie"] == "1":
                continue
            rows.append({
                "id": record["id"],
                "prompt": join_turns(record["prompt"]),
                "response_a": join_turns(record["response_a"]),
                "response_b": join_turns(record["response_b"]),
                "winner": "model_a" if record["winner_model_a"] == "1" else "model_b",
            })
            if limit is not None and len(rows) >= limit:
                break
    return rows


def build_tokenizer(texts: list, vocab_size: int = 1024):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>", unk_token="<unk>")


def save_tiny_gemma2(folder: str, rows: list | None = None) -> str:
    """Writes config, safetensors weights and tokenizer of a 2-layer Gemma-2 into `folder`."""
    import torch
    from transformers import Gemma2Config, Gemma2ForCausalLM

    rows = rows if rows is not None else read_sample_rows(400)
    tokenizer = build_tokenizer([r[k] for r in rows for k in ("prompt", "response_a", "response_b")])
    config = Gemma2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=1024,
        # Smaller than the tests' max_length, so the sliding-window layer really masks.
        sliding_window=32,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
        attn_implementation="eager",
    )
    torch.manual_seed(0)
    model = Gemma2ForCausalLM(config)
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tiny_gemma2.py <folder>")
    print(save_tiny_gemma2(sys.argv[1]))
