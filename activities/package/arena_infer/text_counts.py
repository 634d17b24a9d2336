"""The per-text counts that activities/features/text-counts.ts computes (TEXT_COUNT_NAMES), with
Python's own `re` as the reference project computed them (pandas `str.count`: non-overlapping
matches). The TypeScript counter reproduces exactly these; the package's parity test checks it."""

import re
from collections import Counter
from math import sqrt

PATTERNS = {
    "spaces": r"\s",
    "punct": r",|\.|!",
    "question": r"\?",
    "quotes": r"'|\"",
    "formatting": r"\*|\_",
    "math": r"\-|\+|\=",
    "curly_open": r"\{",
    "curly_close": r"}",
    "round_open": r"\(",
    "round_close": r"\)",
    "nonword": r"\W",
    "digits": r"\d",
    "lower": r"[a-z]",
    "upper": r"[A-Z]",
    "cjk_runs": r"[\u4e00-\u9fff]+",
}
COMPILED = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}


# Counts computed without a pattern.
OTHERS = ("chars", "json")


def unknown_counts(names: list) -> list:
    """The plan's counts this module cannot compute: a pipeline count added without its Python twin."""
    return [name for name in names if name not in PATTERNS and name not in OTHERS]


def count(name: str, text: str) -> int:
    if name == "chars":
        return len(text)
    if name == "json":
        return text.lower().count("json")
    return len(COMPILED[name].findall(text))


def counts(text: str, names: list) -> list:
    """The counts of one text (None counts as empty), in `names` order; a name this module does not
    know is a package built by a newer pipeline than this glue."""
    text = text or ""
    return [count(name, text) for name in names]


def _grams(text: str) -> Counter:
    return Counter(text[i : i + 3] for i in range(len(text) - 2))


def similarity(prompt: str, response: str) -> float:
    """Cosine of the character 3-gram bags (code points, case kept); 0 when either has fewer than 3
    characters: trigram-similarity.ts's definition, evaluated in the same order."""
    prompt, response = prompt or "", response or ""
    if len(prompt) < 3 or len(response) < 3:
        return 0.0
    p, r = _grams(prompt), _grams(response)
    dot = sum(c * p.get(g, 0) for g, c in r.items())
    return dot / (sqrt(sum(c * c for c in p.values())) * sqrt(sum(c * c for c in r.values())))
