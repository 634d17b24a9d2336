"""The model's input text, as the reference built it, cut to a token budget.

    "<prompt>: " prompt "\n\n<response_a>: " response_a "\n\n<response_b>: " response_b

`whole_string` (the reference) encodes that one string, BOS before and EOS after; a cut (spread,
head_tail) first shortens each text by its own token ids, turns the kept ids back into text and then
encodes the assembled string once, so SentencePiece merges across the seams as in the reference;
`right` keeps the first max_length - 2 tokens of the string, then EOS, as transformers' truncation
does. `pieces` (the older recipe) encodes the six pieces separately and joins the ids, BOS only.
Any consumer (the ONNX inference side, lib/inference/gemma2-inputs.ts) must build input_ids the same
way; model.json describes it.
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


def head_tail_spans(lengths: list, budget: int, marker_length: int) -> list:
    """(head, tail) tokens each part keeps; tail None means the part is kept whole or cut without the
    marker. Parts of at most budget // 3 tokens are kept whole; the others share the rest of the budget
    in proportion to their lengths (rounded down) and each keeps its beginning and end, ceil(half) and
    floor(half) of its share less the marker, with the marker between."""
    if sum(lengths) <= budget:
        return [(n, None) for n in lengths]
    third = budget // 3
    short = [n <= third for n in lengths]
    rest = budget - sum(n for n, s in zip(lengths, short) if s)
    long_total = sum(n for n, s in zip(lengths, short) if not s)
    spans = []
    for n, s in zip(lengths, short):
        if s:
            spans.append((n, None))
            continue
        share = rest * n // long_total
        keep = share - marker_length
        if keep <= 0:
            spans.append((share, None))
            continue
        head = (keep + 1) // 2
        spans.append((head, keep - head))
    return spans


def cut_head_tail(parts: list, budget: int, marker: list) -> list:
    """The parts cut by head_tail_spans, the marker's ids between head and tail."""
    out = []
    for p, (head, tail) in zip(parts, head_tail_spans([len(p) for p in parts], budget, len(marker))):
        out.append(list(p[:head]) if tail is None else [*p[:head], *marker, *(p[len(p) - tail :] if tail > 0 else [])])
    return out


class TextEncoder:
    """Token ids of (prompt, response_a, response_b) rows under one tokenizer, length, strategy and tokenization."""

    def __init__(self, tokenizer, max_length: int, truncation: str, tokenization: str):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation = truncation
        self.tokenization = tokenization
        ids = self._ids([*TEMPLATE, HEAD_TAIL_MARKER])
        self.template, self.marker = ids[:3], ids[3]
        self.bos = [] if tokenizer.bos_token_id is None else [tokenizer.bos_token_id]
        self.eos = [] if tokenization == "pieces" or tokenizer.eos_token_id is None else [tokenizer.eos_token_id]
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # The part budget: what the template, BOS and EOS leave of max_length.
        self.budget = max_length - len(self.bos) - len(self.eos) - sum(len(t) for t in self.template)
        if self.budget < 3:
            raise UserInputError(f"config.model.max_length: {max_length} tokens leave no room for text after the template")

    def _ids(self, texts: list) -> list:
        return self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]

    def _text(self, ids: list) -> str:
        # The tokenizers library's own decoder, so Python and lib/inference decode alike (no clean-up of spaces).
        return self.tokenizer.backend_tokenizer.decode(ids, skip_special_tokens=False)

    def encode(self, prompts: list, responses_a: list, responses_b: list) -> list:
        """One token list per row, each at most max_length long."""
        n = len(prompts)
        texts = [prompts, responses_a, responses_b]
        if self.tokenization == "whole_string" and self.truncation == "right":
            return self._whole([[t[i] for t in texts] for i in range(n)])
        ids = self._ids([*prompts, *responses_a, *responses_b])
        parts = [[ids[i], ids[n + i], ids[2 * n + i]] for i in range(n)]
        if self.tokenization == "whole_string":
            return self._whole([self._cut_texts([t[i] for t in texts], parts[i]) for i in range(n)])
        rows = []
        for row in parts:
            if self.truncation == "spread":
                row = cut_spread(row, self.budget)
            elif self.truncation == "head_tail":
                row = cut_head_tail(row, self.budget, self.marker)
            sequence = [*self.bos]
            for template, part in zip(self.template, row):
                sequence += template + part
            rows.append(cut_right(sequence, self.max_length))
        return rows

    def _cut_texts(self, texts: list, parts: list) -> list:
        """The three texts shortened as the strategy cuts their ids; a text not cut stays as written."""
        if self.truncation == "spread":
            third = self.budget // 3
            return [t if len(p) <= third else self._text(p[:third]) for t, p in zip(texts, parts)]
        spans = head_tail_spans([len(p) for p in parts], self.budget, len(self.marker))
        out = []
        for t, p, (head, tail) in zip(texts, parts, spans):
            if head == len(p):
                out.append(t)
            elif tail is None:
                out.append(self._text(p[:head]))
            else:
                out.append(self._text(p[:head]) + HEAD_TAIL_MARKER + (self._text(p[len(p) - tail :]) if tail > 0 else ""))
        return out

    def _whole(self, rows: list) -> list:
        """BOS, the assembled string's ids cut to what BOS and EOS leave, EOS."""
        strings = [TEMPLATE[0] + p + TEMPLATE[1] + a + TEMPLATE[2] + b for p, a, b in rows]
        room = self.max_length - len(self.bos) - len(self.eos)
        return [[*self.bos, *ids[:room], *self.eos] for ids in self._ids(strings)]

    def describe(self) -> dict:
        """The recipe, for model.json."""
        return {
            "template": list(TEMPLATE),
            "tokenization": self.tokenization,
            "pieces": "whole_string: bos, one encode of template[0] prompt template[1] response_a template[2] response_b (texts cut first, kept ids decoded back to text), eos"
            if self.tokenization == "whole_string"
            else "bos, template[0], prompt, template[1], response_a, template[2], response_b; each tokenized alone without special tokens",
            "bos_token_id": self.bos[0] if self.bos else None,
            "eos_token_id": self.eos[0] if self.eos else None,
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
