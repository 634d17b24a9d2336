"""submission.csv in the competition's format, checked as the pipeline's submit stage checks it."""

import csv
import os

from .errors import PackageError

WINNERS = ("model_a", "model_b")


def predicted_winner(p_a: float) -> str:
    """As lib/inference/tta.ts: exactly 0.5 goes to model_a."""
    return "model_a" if p_a >= 0.5 else "model_b"


def validate(ids: list, winners: list, test_ids: list) -> None:
    if len(ids) != len(winners):
        raise PackageError(f"submission.csv: {len(ids)} ids but {len(winners)} predictions")
    for i, w in enumerate(winners):
        if w not in WINNERS:
            raise PackageError(f'submission.csv: id "{ids[i]}": winner "{w}" is not "model_a" or "model_b"')
    expected, seen = set(test_ids), set()
    for i in ids:
        if i in seen:
            raise PackageError(f'submission.csv: id "{i}" appears more than once')
        seen.add(i)
        if i not in expected:
            raise PackageError(f'submission.csv: id "{i}" is not a test id')
    missing = [i for i in test_ids if i not in seen]
    if missing:
        raise PackageError(f'submission.csv: test id "{missing[0]}" has no prediction ({len(missing)} of {len(test_ids)} test ids missing)')


def write_submission(file: str, ids: list, winners: list) -> None:
    """Header `id,winner`, RFC 4180 quoting only where a field needs it, "\\n" line ends (as submission-csv.ts)."""
    os.makedirs(os.path.dirname(os.path.abspath(file)), exist_ok=True)
    with open(file + ".tmp", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["id", "winner"])
        writer.writerows(zip(ids, winners))
    os.replace(file + ".tmp", file)
