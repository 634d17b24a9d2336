"""Refuses a package whose files differ from its manifest, or whose feature columns disagree with the
model or with the features the package computes, before any model is loaded."""

import hashlib
import json
import os

from .errors import PackageError

MANIFEST = "manifest.json"
FORMAT = "arena-kaggle-package/1"


def _sha256(file: str) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json(package_dir: str, rel: str):
    try:
        with open(os.path.join(package_dir, rel), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise PackageError(f"{rel}: cannot read: {err}") from None


def verify_package(package_dir: str) -> dict:
    """The manifest, once every file it lists has its recorded size and sha256 and the feature
    columns of feature_columns.json, the model (shape.json) and the feature plan agree."""
    manifest = _json(package_dir, MANIFEST)
    if manifest.get("format") != FORMAT:
        raise PackageError(f"{MANIFEST}: format is {manifest.get('format')!r}, expected {FORMAT!r}")
    for rel, want in sorted(manifest["files"].items()):
        file = os.path.join(package_dir, rel)
        if not os.path.isfile(file):
            raise PackageError(f"{rel}: listed in {MANIFEST} but missing from the package")
        got = _sha256(file)
        if os.path.getsize(file) != want["bytes"] or got != want["sha256"]:
            raise PackageError(f"{rel}: sha256 {got} differs from {want['sha256']} in {MANIFEST}: the file was changed after `arena package` wrote it; refusing to predict")
    columns = [c["name"] for c in _json(package_dir, "model/feature_columns.json")["columns"]]
    for rel, other in (("model/shape.json", _json(package_dir, "model/shape.json")["feature_columns"]), ("features/plan.json", _json(package_dir, "features/plan.json")["columns"])):
        if columns != other:
            at = next((i for i, (a, b) in enumerate(zip(columns, other)) if a != b), min(len(columns), len(other)))
            mine = columns[at] if at < len(columns) else "(none)"
            theirs = other[at] if at < len(other) else "(none)"
            raise PackageError(f"model/feature_columns.json: {len(columns)} columns do not match the {len(other)} of {rel}: column {at + 1} is '{mine}' there but '{theirs}' in {rel}; refusing to predict")
    return manifest
