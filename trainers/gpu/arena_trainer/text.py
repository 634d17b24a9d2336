"""The model's input text, as the reference built it, cut to `model.max_length` tokens.

    [bos] "<prompt>: " prompt "\\n\\n<response_a>: " response_a "\\n\\n<response_b>: " response_b

Each of the six pieces is tokenized on its own, without special tokens, and the token lists are
joined; so a part can be cut at token level without re-tokenizing. Any consumer (the ONNX inference
side) must build input_ids the same way; model.json describes it.
"""

from .errors import UserInputError

TEMPLATE = ("<prompt>: ", "\n\n<response_a>: ", "\n\n<response_b>: ")
# Stands between the kept head and tail of a part cut by head_tail.
HEAD_TAIL_MARKER = " [...] "


def cut_right(sequence: list, max_length: int) -> list:
    return sequence[:max_length]


def cut_spread(parts: list, budget: int) -> list:
    """Each part keeps at most budget // 3 tokens, from its beginning; unused room is not passed on."""
    third = budget // 3
    return [p[:third] for p in parts]


def cut_head_tail(parts: list, budget: int, marker: list) -> list:
    """Parts of at most budget // 3 tokens are kept whole; the others share the rest of the budget in
    proportion to their lengths (rounded down) and each keeps its beginning and end, ceil(half) and
    floor(half) of its share less the marker, with the marker between."""
    if sum(len(p) for p in parts) <= budget:
        return [list(p) for p in parts]
    third = budget // 3
    short = [len(p) <= third for p in parts]
    rest = budget - sum(len(p) for p, s in zip(parts, short) if s)
    long_total = sum(len(p) for p, s in zip(parts, short) if not s)
    out = []
    for p, s in zip(parts, short):
        if s:
            out.append(list(p))
            continue
        share = rest * len(p) // long_total
        keep = share - len(marker)
        if keep <= 0:
            out.append(list(p[:share]))
            continue
        head = (keep + 1) // 2
        tail = keep - head
        out.append([*p[:head], *marker, *(p[len(p) - tail :] if tail > 0 else [])])
    return out


class TextEncoder:
    """Token ids of (prompt, response_a, response_b) rows under one tokenizer, length and strategy."""

    def __init__(self, tokenizer, max_length: int, truncation: str):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation = truncation
        ids = self._ids([*TEMPLATE, HEAD_TAIL_MARKER])
        self.template, self.marker = ids[:3], ids[3]
        self.bos = [] if tokenizer.bos_token_id is None else [tokenizer.bos_token_id]
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # The part budget: what the template and BOS leave of max_length.
        self.budget = max_length - len(self.bos) - sum(len(t) for t in self.template)
        if self.budget < 3:
            raise UserInputError(f"config.model.max_length: {max_length} tokens leave no room for text after the template")

    def _ids(self, texts: list) -> list:
        return self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]

    def encode(self, prompts: list, responses_a: list, responses_b: list) -> list:
        """One token list per row, each at most max_length long."""
        n = len(prompts)
        ids = self._ids([*prompts, *responses_a, *responses_b])
        rows = []
        for i in range(n):
            parts = [ids[i], ids[n + i], ids[2 * n + i]]
            if self.truncation == "spread":
                parts = cut_spread(parts, self.budget)
            elif self.truncation == "head_tail":
                parts = cut_head_tail(parts, self.budget, self.marker)
            sequence = [*self.bos]
            for template, part in zip(self.template, parts):
                sequence += template + part
            rows.append(cut_right(sequence, self.max_length))
        return rows

    def describe(self) -> dict:
        """The recipe, for model.json."""
        return {
            "template": list(TEMPLATE),
            "pieces": "bos, template[0], prompt, template[1], response_a, template[2], response_b; each tokenized alone without special tokens",
            "bos_token_id": self.bos[0] if self.bos else None,
            "pad_token_id": self.pad_token_id,
            "padding_side": "right",
            "max_length": self.max_length,
            "truncation": self.truncation,
            "part_budget": self.budget,
            "head_tail_marker": HEAD_TAIL_MARKER,
            "head_tail_marker_ids": self.marker,
        }


def pad_batch(rows: list, pad_token_id: int):
    """input_ids and attention_mask (int64 [N, L], right-padded to the longest row)."""
    import torch

    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        input_ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return input_ids, mask
