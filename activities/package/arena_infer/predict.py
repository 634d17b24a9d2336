"""A test parquet to submission.csv: integrity checks, features, both passes of swap-TTA scored over
every device (one process per GPU, as the reference project ran on 2xT4), winners written."""

import json
import os
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq

from .features import compute_features
from .integrity import verify_package
from .scoring import score_file
from .submission import predicted_winner, validate, write_submission


def swapped_features(rows: list, names: list, rules: dict) -> list:
    """A row's features with A and B exchanged, by feature_columns.json's rules (as the augment stage swaps)."""
    at = {name: i for i, name in enumerate(names)}
    out = []
    for row in rows:
        swapped = []
        for name in names:
            rule, value = rules[name], row[at[name]]
            if isinstance(rule, dict):
                swapped.append(row[at[rule["with"]]])
            else:
                swapped.append(-value if rule == "negate" else 1 / value if rule == "reciprocal" else value)
        out.append(swapped)
    return out


def scoring_table(ids: list, texts: pa.Table, features: list, names: list, rules: dict, tta: bool) -> pa.Table:
    """Pass 0: the rows as given; pass 1 (with TTA): A and B exchanged."""
    prompt, a, b = (texts.column(k).to_pylist() for k in ("prompt", "response_a", "response_b"))
    passes = [(0, a, b, features)] + ([(1, b, a, swapped_features(features, names, rules))] if tta else [])
    return pa.table({
        "id": pa.array([i for _ in passes for i in ids], pa.string()),
        "pass": pa.array([p for p, *_ in passes for _ in ids], pa.int8()),
        "prompt": pa.array([t for _ in passes for t in prompt], pa.string()),
        "response_a": pa.array([t for _, ra, _, _ in passes for t in ra], pa.string()),
        "response_b": pa.array([t for _, _, rb, _ in passes for t in rb], pa.string()),
        "features": pa.array([r for *_, f in passes for r in f], pa.list_(pa.float64())),
    })


def score_on_devices(package_dir: str, basemodel_dir: str, table: pa.Table, work_dir: str, batch_size: int) -> pa.Table:
    """Every row scored once: in this process on CPU or one GPU; with several GPUs, one process per
    device, each taking every n-th row (rows alternate in length order, so the shares are even)."""
    import torch

    devices = torch.cuda.device_count()
    if devices <= 1:
        out = os.path.join(work_dir, "scores.parquet")
        pq.write_table(table, os.path.join(work_dir, "rows.parquet"))
        score_file(package_dir, basemodel_dir, os.path.join(work_dir, "rows.parquet"), out, batch_size)
        return pq.read_table(out)
    lengths = [len(p or "") + len(a or "") + len(b or "") for p, a, b in zip(*(table.column(k).to_pylist() for k in ("prompt", "response_a", "response_b")))]
    order = sorted(range(table.num_rows), key=lambda i: -lengths[i])
    workers = []
    for d in range(devices):
        part = os.path.join(work_dir, f"rows-{d}.parquet")
        pq.write_table(table.take(order[d::devices]), part)
        # The package is on this process's sys.path (the notebook put it there), not on the child's.
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": str(d), "PYTHONPATH": os.pathsep.join(filter(None, [package_dir, os.environ.get("PYTHONPATH")]))}
        out = os.path.join(work_dir, f"scores-{d}.parquet")
        args = [sys.executable, "-m", "arena_infer.scoring", package_dir, basemodel_dir, part, out, str(batch_size)]
        workers.append((subprocess.Popen(args, env=env), out))
    failed = [d for d, (proc, _) in enumerate(workers) if proc.wait() != 0]
    if failed:
        raise RuntimeError(f"scoring failed on device(s) {failed}; see the output above")
    return pa.concat_tables([pq.read_table(out) for _, out in workers])


def predict(package_dir: str, basemodel_dir: str, test_file: str, submission_file: str, work_dir: str, batch_size: int = 0, tta: bool = True) -> dict:
    started = time.monotonic()
    package_dir = os.path.abspath(package_dir)
    manifest = verify_package(package_dir)
    os.makedirs(work_dir, exist_ok=True)
    ids, texts, columns, names = compute_features(package_dir, test_file, work_dir)
    features = [list(r) for r in zip(*columns)] if columns else [[] for _ in ids]
    with open(os.path.join(package_dir, "model", "feature_columns.json"), encoding="utf-8") as f:
        rules = {c["name"]: c["swap"] for c in json.load(f)["columns"]}
    table = scoring_table(ids, texts, features, names, rules, tta)
    featured = time.monotonic()
    scores = score_on_devices(package_dir, basemodel_dir, table, work_dir, batch_size or manifest["inference"]["batch_size"])
    p = {(i, s): v for i, s, v in zip(scores.column("id").to_pylist(), scores.column("pass").to_pylist(), scores.column("p_a").to_pylist())}
    p_a = [(p[(i, 0)] + 1 - p[(i, 1)]) / 2 if tta else p[(i, 0)] for i in ids]
    winners = [predicted_winner(v) for v in p_a]
    validate(ids, winners, ids)
    write_submission(submission_file, ids, winners)
    pq.write_table(pa.table({"id": pa.array(ids, pa.string()), "p_a": pa.array(p_a, pa.float64())}), os.path.join(work_dir, "predictions.parquet"))
    done = time.monotonic()
    return {"rows": len(ids), "features_s": round(featured - started, 2), "scoring_s": round(done - featured, 2), "submission": submission_file}
