"""The engineered features of a test table, by the pipeline's own SQL (features/plan.json, written
from activities/features at package time) run by DuckDB's Python package. Only what the pipeline
computes in TypeScript is computed here, in Python, into the same tables the SQL reads: the per-text
counts and the 3-gram similarities (text_counts.py) into `text_measure_values`, and each text's
language label (language_id.py) into `text_languages`."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import PackageError
from .language_id import language
from .text_counts import counts, similarity, unknown_counts

TEXT_FIELDS = ("prompt", "response_a", "response_b")
SCAN = "{{scan}}"


def read_test(file: str, max_text_chars: int) -> pa.Table:
    """id and the three texts of a WSDM-format test parquet, texts cut to `max_text_chars` as ingest cuts them."""
    try:
        names = pq.read_schema(file).names
    except (OSError, ValueError) as err:
        raise PackageError(f"{file}: cannot read parquet: {str(err).splitlines()[0]}") from None
    for column in ("id", *TEXT_FIELDS):
        if column not in names:
            raise PackageError(f'{file}: missing column "{column}"')
    table = pq.read_table(file, columns=["id", *TEXT_FIELDS])
    ids = [None if v is None else str(v) for v in table.column("id").to_pylist()]
    seen = set()
    for row, value in enumerate(ids):
        if value is None:
            raise PackageError(f'{file}: row {row + 1}: column "id" is NULL')
        if value in seen:
            raise PackageError(f'{file}: id "{value}" appears more than once')
        seen.add(value)
    cut = lambda v: v if v is None else v[:max_text_chars]  # noqa: E731
    return pa.table({"id": pa.array(ids, pa.string()), **{f: pa.array([cut(v) for v in table.column(f).to_pylist()], pa.string()) for f in TEXT_FIELDS}})


def _measures(table: pa.Table, names: list, with_similarity: bool) -> pa.Table:
    texts = {f: table.column(f).to_pylist() for f in TEXT_FIELDS}
    columns = {"row_idx": pa.array(range(table.num_rows), pa.int32())}
    for field in TEXT_FIELDS:
        per_text = [counts(t, names) for t in texts[field]]
        for k, name in enumerate(names):
            columns[f"{field}_{name}"] = pa.array([c[k] for c in per_text], pa.int32())
    for field in TEXT_FIELDS[1:]:
        values = [similarity(p, r) if with_similarity else 0.0 for p, r in zip(texts["prompt"], texts[field])]
        columns[f"{field}_similarity"] = pa.array(values, pa.float64())
    return pa.table(columns)


def _languages(table: pa.Table, label_chars: int, names: dict) -> pa.Table:
    """text_languages (row_idx, field, language): the label of each text's first `label_chars`
    characters, a NULL text labelled as an empty one (text-languages.ts)."""
    rows, fields, labels = [], [], []
    for field in TEXT_FIELDS:
        for row, text in enumerate(table.column(field).to_pylist()):
            rows.append(row)
            fields.append(field)
            labels.append(language((text or "")[:label_chars], names))
    return pa.table({"row_idx": pa.array(rows, pa.int32()), "field": pa.array(fields, pa.string()), "language": pa.array(labels, pa.string())})


def _load_lexicon(connection, file: str) -> None:
    with open(file, encoding="utf-8") as f:
        lexicon = json.load(f)
    words = pa.table({"word": pa.array(list(lexicon["labels"]), pa.string()), "score": pa.array(list(lexicon["labels"].values()), pa.int32())})
    negators = pa.table({"word": pa.array(list(lexicon["negators"]), pa.string())})
    connection.register("lexicon_rows", words)
    connection.register("negator_rows", negators)
    connection.execute("CREATE OR REPLACE TABLE sentiment_lexicon AS SELECT word, score FROM lexicon_rows")
    connection.execute("CREATE OR REPLACE TABLE sentiment_negators AS SELECT word FROM negator_rows")


def compute_features(package_dir: str, test_file: str, work_dir: str) -> tuple:
    """(ids, feature matrix rows as lists in plan column order, column names) of the test file."""
    import duckdb

    features_dir = os.path.join(package_dir, "features")
    with open(os.path.join(features_dir, "plan.json"), encoding="utf-8") as f:
        plan = json.load(f)
    missing = unknown_counts(plan["count_names"])
    if missing:
        raise PackageError(f"features/plan.json: count(s) {', '.join(missing)} of activities/features/text-counts.ts have no Python version in arena_infer/text_counts.py")
    table = read_test(test_file, plan["max_text_chars"])
    os.makedirs(work_dir, exist_ok=True)
    rows_file = os.path.join(work_dir, "test-rows.parquet")
    pq.write_table(table, rows_file)
    scan = f"read_parquet('{rows_file.replace(chr(39), chr(39) * 2)}', file_row_number = true)"
    connection = duckdb.connect()
    try:
        if plan["sentiment"]:
            _load_lexicon(connection, os.path.join(features_dir, "sentiment_lexicon.json"))
        connection.register("measure_rows", _measures(table, plan["count_names"], plan["similarity"]))
        connection.execute("CREATE OR REPLACE TABLE text_measure_values AS SELECT * FROM measure_rows")
        with open(os.path.join(features_dir, "language_names.json"), encoding="utf-8") as f:
            connection.register("language_rows", _languages(table, plan["label_chars"], json.load(f)))
        connection.execute("CREATE OR REPLACE TABLE text_languages AS SELECT * FROM language_rows")
        for field in TEXT_FIELDS:
            connection.execute(plan["field_sql"][field].replace(SCAN, scan))
        result = connection.execute(plan["table_sql"].replace(SCAN, scan)).to_arrow_table()
    finally:
        connection.close()
    columns = plan["columns"]
    return result.column("id").to_pylist(), table, [result.column(c).to_pylist() for c in columns], columns


if __name__ == "__main__":
    # python -m arena_infer.features PACKAGE TEST.parquet OUT.parquet: the features alone (id and
    # every feature column), to compare with the pipeline's or to inspect.
    import sys

    ids, _, values, names = compute_features(sys.argv[1], sys.argv[2], os.path.join(os.path.dirname(os.path.abspath(sys.argv[3])), "features-work"))
    pq.write_table(pa.table({"id": pa.array(ids, pa.string()), **{n: pa.array(v, pa.float64()) for n, v in zip(names, values)}}), sys.argv[3])
