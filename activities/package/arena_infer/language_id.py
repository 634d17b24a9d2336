"""WSDM's language labels, as FastChat's `detect_language()` makes them: the package's language ID
and the Python side of the pipeline's parity test (test/language-id.test.ts checks lib/language-id.ts,
the pipeline's CLD2 binding, against `detect_code` here).

FastChat calls `polyglot.detect.Detector(text).language.name` and answers "unknown" on
`pycld2.error` or polyglot's `UnknownLanguage`. polyglot does not install here (it needs PyICU,
which has no wheel), so its `Detector.detect` is reproduced from polyglot/detect/base.py:

    t = text.encode("utf-8")
    reliable, index, top_3_choices = cld2.detect(t, bestEffort=False)
    if not reliable:
      reliable, index, top_3_choices = cld2.detect(t, bestEffort=True)
      if not quiet and not reliable: raise UnknownLanguage(...)
    language = Language(top_3_choices[0])    # Locale(code)

The name polyglot takes from ICU comes from features/language_names.json, which `arena package`
generates from lib/language-id.ts's `languageName` over CLD2's code list (Python has no ICU here).

CLI: python -m arena_infer.language_id < texts.jsonl > codes.jsonl (one JSON string a line each
way; a code is null for "unknown")
"""
import json
import sys

from .errors import PackageError

try:
    import pycld2 as cld2
except ImportError:
    # Kaggle's image has no pycld2 and the notebook runs offline.
    raise PackageError("pycld2 is not installed: put its source in the package's wheels/ (README, Submit to Kaggle) so that the notebook installs it") from None

UNKNOWN = "unknown"


def detect_code(text):
    """CLD2's top language code for `text` under polyglot's rules, or None for "unknown"."""
    t = text.encode("utf-8")
    try:
        reliable, _, top_3_choices = cld2.detect(t, bestEffort=False)
        if not reliable:
            reliable, _, top_3_choices = cld2.detect(t, bestEffort=True)
            if not reliable:
                return None
    except cld2.error:
        return None
    return top_3_choices[0][1]


def language(text, names: dict) -> str:
    """The WSDM label of `text`: the name (from `names`, the package's table) of its code's language subtag, or "unknown"."""
    code = detect_code(text)
    if code is None:
        return UNKNOWN
    subtag = code.split("-")[0]
    if subtag not in names:
        # pycld2 knows a code the pipeline's CLD2 does not: the two engines differ.
        raise PackageError(f"features/language_names.json: no name for CLD2 code '{code}'; the package's pycld2 is not the pipeline's CLD2")
    return names[subtag]


if __name__ == "__main__":
    for line in sys.stdin:
        print(json.dumps(detect_code(json.loads(line))))
