"""Python reference for bench/features.ts: the reference project's 19 counts per text, with plain
`re` exactly as pandas `str.count` applies it (`len(regex.findall(text))`); pandas itself is not
installed and adds only per-row overhead on top of the same `re` calls.

Usage: python3 bench/python_reference_features.py <texts.jsonl> [repeats]
Prints one JSON line: rows, read_seconds (parsing the JSON lines into memory), seconds (the best of
`repeats` counting passes over the texts in memory), rows_per_s (counting only),
rows_per_s_with_read (reading once plus the best counting pass), peak_rss_mb.
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
from python_reference_counts import FIELDS, text_features  # noqa: E402


def main(source, repeats):
    start = time.perf_counter()
    with open(source, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    read_seconds = time.perf_counter() - start
    seconds = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for row in rows:
            for field in FIELDS:
                text_features(row.get(field))
        seconds = min(seconds, time.perf_counter() - start)
    print(json.dumps({
        "rows": len(rows),
        "read_seconds": read_seconds,
        "seconds": seconds,
        "rows_per_s": len(rows) / seconds,
        "rows_per_s_with_read": len(rows) / (read_seconds + seconds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
