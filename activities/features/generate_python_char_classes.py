"""Writes python-char-classes.json: the code points that Python's own `re` puts in \\s, \\d and \\w.

The reference features are pandas `str.count` calls, i.e. Python `re` over str patterns, whose
classes follow the interpreter's Unicode database (3.11: Unicode 14). Node's regexes follow a newer
Unicode and a different \\s, so the table is taken from Python itself, one `re.fullmatch` per code
point, and shipped; `test/features.test.ts` regenerates it and fails if the interpreter disagrees.

Usage: python3 generate_python_char_classes.py [output.json]   (default: next to this script)
"""
import json
import os
import re
import sys
import unicodedata

CLASSES = {"space": r"\s", "digit": r"\d", "word": r"\w"}


def code_point_ranges(pattern):
    compiled = re.compile(pattern)
    ranges, start = [], None
    for cp in range(0x110000 + 1):
        # Surrogates cannot occur in UTF-8 text, so they never enter the table.
        hit = cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF and compiled.fullmatch(chr(cp)) is not None
        if hit and start is None:
            start = cp
        elif not hit and start is not None:
            ranges.append([start, cp - 1])
            start = None
    return ranges


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "python-char-classes.json")
    table = {
        "python": "%d.%d" % sys.version_info[:2],
        "unicode": unicodedata.unidata_version,
        "classes": {name: code_point_ranges(pattern) for name, pattern in CLASSES.items()},
    }
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        json.dump(table, f, separators=(",", ":"))
        f.write("\n")
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
