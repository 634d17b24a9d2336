"""The JSON Schemas generated from the project's zod schemas (`npm run gen:schemas`), and checks
against them that report the first problem as the key at fault and what is wrong with it."""

import json
import os

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match


def load(name: str) -> dict:
    with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as f:
        return json.load(f)


def validator(schema: dict, definition: str = "") -> Draft202012Validator:
    """A validator of `schema`, or of its `$defs.<definition>` (which may refer to the other $defs)."""
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"} if definition else schema)


def key_text(path) -> str:
    """`a.b[0].c`, the way lib/yaml-source.ts formatPath writes a zod issue's path."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" if i else str(p) for i, p in enumerate(path))


def first_problem(check: Draft202012Validator, value):
    """(key path, what is wrong) of the most relevant violation, or None when `value` conforms."""
    error = best_match(check.iter_errors(value))
    return None if error is None else _describe(error)


def _describe(error: ValidationError) -> tuple:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        return [*path, missing], "is missing"
    if error.validator == "additionalProperties":
        extra = sorted(k for k in error.instance if k not in error.schema.get("properties", {}))
        return [*path, extra[0]], "is not a known key"
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return path, f"expected {' or '.join(kinds)}, got {json.dumps(error.instance)[:80]}"
    return path, error.message
