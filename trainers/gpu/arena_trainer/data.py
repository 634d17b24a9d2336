"""Split parquet files, feature columns, and the shard / A-B swap selection of trainers/cpu/data.ts."""

import json
import math
from dataclasses import dataclass

import numpy as np

from . import schemas
from .errors import UserInputError
from .rng import MASK32

REQUIRED_COLUMNS = ("id", "pair_id", "swapped", "winner", "prompt", "response_a", "response_b")
# The optional soft-label column of a distillation student's split (docs/gpu-trainer.md, "Soft labels").
TEACHER_COLUMN = "teacher_p"
# Its loss weights, in the split file's key-value metadata (activities/soft-labels/write-train.sql).
SOFT_LOSS_METADATA = {"alpha": "distill_alpha", "temperature": "distill_temperature"}


@dataclass(frozen=True)
class SoftLabelLoss:
    """The soft-label loss's weights (loss.py): distill.alpha and temperature, as the split file gives them."""

    alpha: float
    temperature: float
STD_FLOOR = 1e-6


@dataclass
class SplitRows:
    """One split, sorted by id as the CPU trainer's read-split.sql does, so shuffles agree."""

    file: str
    ids: list
    pair_ids: list
    swapped: np.ndarray  # bool [n]
    labels: np.ndarray  # float32 [n], 1 when model_a wins
    prompts: list
    responses_a: list
    responses_b: list
    features: np.ndarray  # float64 [n, F], feature_columns.json order
    # The teachers' p that this row's response_a wins, NaN where a row has none; None without the column.
    teacher_p: np.ndarray | None = None
    # How the soft labels weigh in the loss; None without them.
    soft_loss: SoftLabelLoss | None = None

    def __len__(self) -> int:
        return len(self.ids)


_FEATURE_COLUMNS = schemas.validator(schemas.load("feature_columns.schema.json"))


def read_feature_columns(file: str) -> list:
    """The feature names of feature_columns.json in model input order. The file's shape comes from
    lib/feature-columns.ts (messages as its reader writes them); the swap pairing is checked there,
    by the stages that swap, since this trainer only lays out feature vectors."""
    try:
        with open(file, encoding="utf-8") as f:
            parsed = json.load(f)
    except (OSError, ValueError) as err:
        raise UserInputError(f"{file}: cannot read feature columns: {err}") from None
    problem = schemas.first_problem(_FEATURE_COLUMNS, parsed)
    if problem is not None:
        path, what = problem
        raise UserInputError(f"{file}: key '{schemas.key_text(path) or '(root)'}': {what}")
    names = [column["name"] for column in parsed["columns"]]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise UserInputError(f"{file}: key 'columns[{i}].name': '{name}' is listed twice")
    return names


def read_table(file: str, columns: list):
    """The named columns of a parquet file as Python lists, rejecting a missing file or column."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(file)
    except (OSError, ValueError) as err:
        raise UserInputError(f"{file}: cannot read parquet: {str(err).splitlines()[0]}") from None
    for column in columns:
        if column not in schema.names:
            raise UserInputError(f'{file}: missing column "{column}"')
    table = pq.read_table(file, columns=list(columns))
    return {name: table.column(name).to_pylist() for name in columns}


def feature_matrix(file: str, table: dict, ids: list, feature_columns: list, order) -> np.ndarray:
    out = np.empty((len(order), len(feature_columns)), dtype=np.float64)
    for f, column in enumerate(feature_columns):
        values = table[column]
        for k, i in enumerate(order):
            value = values[i]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                shown = "null" if value is None else str(value)
                raise UserInputError(f'{file}: row id {ids[k]}: feature column "{column}" is {shown}')
            out[k, f] = value
    return out


def _shown(value: float) -> str:
    """A number in an error message, NaN and Infinity spelt as trainers/cpu's messages spell them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return str(value)


def read_teacher_p(file: str, ids: list, order) -> np.ndarray | None:
    """The soft labels in `order` (NaN for NULL), or None when the split has no teacher_p column;
    a non-numeric column or a value outside [0, 1] is refused with the row's id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(file)
    if TEACHER_COLUMN not in schema.names:
        return None
    kind = schema.field(TEACHER_COLUMN).type
    if not (pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise UserInputError(f'{file}: column "{TEACHER_COLUMN}" has type {kind}, expected double')
    values = pq.read_table(file, columns=[TEACHER_COLUMN]).column(TEACHER_COLUMN).cast(pa.float64()).to_pylist()
    out = np.empty(len(order), dtype=np.float64)
    for k, i in enumerate(order):
        value = values[i]
        if value is not None and not 0 <= value <= 1:
            raise UserInputError(f'{file}: row id {ids[k]}: column "{TEACHER_COLUMN}" is {_shown(value)}, expected a probability in [0, 1]')
        out[k] = math.nan if value is None else value
    return out


def read_soft_loss(file: str) -> SoftLabelLoss:
    """The soft-label loss's alpha and temperature from the split file's key-value metadata: the
    soft_labels stage writes them beside teacher_p, so that the student's key covers them through
    the file's hash while the teachers' keys do not."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(file).metadata or {}

    def value(key: str, valid, expected: str) -> float:
        raw = metadata.get(key.encode())
        if raw is None:
            raise UserInputError(f'{file}: column "{TEACHER_COLUMN}" needs the file\'s key-value metadata {key} (the soft_labels stage writes it)')
        text = raw.decode()
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if not valid(x):
            raise UserInputError(f"{file}: metadata {key} is {json.dumps(text)}, expected {expected}")
        return x

    return SoftLabelLoss(
        alpha=value(SOFT_LOSS_METADATA["alpha"], lambda x: 0 <= x <= 1, "a number in [0, 1]"),
        temperature=value(SOFT_LOSS_METADATA["temperature"], lambda x: math.isfinite(x) and x > 0, "a positive number"),
    )


def read_split(file: str, feature_columns: list) -> SplitRows:
    """Reads a split parquet, rejecting missing columns, an empty split, bad labels, non-finite
    features and soft labels that are not probabilities."""
    table = read_table(file, [*REQUIRED_COLUMNS, *feature_columns])
    raw_ids = table["id"]
    n = len(raw_ids)
    if n == 0:
        raise UserInputError(f"{file}: the split has no rows")
    for i, value in enumerate(raw_ids):
        if not isinstance(value, str):
            raise UserInputError(f'{file}: row {i + 1}: column "id" is null')
    order = sorted(range(n), key=lambda i: raw_ids[i])
    ids = [raw_ids[i] for i in order]
    labels = np.empty(n, dtype=np.float32)
    for k, i in enumerate(order):
        winner = table["winner"][i]
        if winner not in ("model_a", "model_b"):
            raise UserInputError(f'{file}: row id {ids[k]}: column "winner" is {json.dumps(winner)}, expected model_a or model_b')
        for column in ("pair_id", "swapped"):
            if table[column][i] is None:
                raise UserInputError(f'{file}: row id {ids[k]}: column "{column}" is null')
        labels[k] = 1.0 if winner == "model_a" else 0.0
    text = lambda column: [table[column][i] or "" for i in order]  # noqa: E731
    return SplitRows(
        file=file,
        ids=ids,
        pair_ids=[table["pair_id"][i] for i in order],
        swapped=np.array([bool(table["swapped"][i]) for i in order], dtype=bool),
        labels=labels,
        prompts=text("prompt"),
        responses_a=text("response_a"),
        responses_b=text("response_b"),
        features=feature_matrix(file, table, ids, feature_columns, order),
        teacher_p=(teacher_p := read_teacher_p(file, ids, order)),
        soft_loss=None if teacher_p is None else read_soft_loss(file),
    )


def feature_scaling(split: SplitRows):
    """Mean and population standard deviation (floored at STD_FLOOR) of every feature over the split."""
    mean = split.features.mean(axis=0)
    std = np.maximum(np.sqrt(((split.features - mean) ** 2).mean(axis=0)), STD_FLOOR)
    return mean.astype(np.float32), std.astype(np.float32)


def shard_of_pair(pair_id: str, count: int) -> int:
    """FNV-1a over the UTF-16 code units of pair_id, modulo the shard count (as trainers/cpu/data.ts)."""
    h = 0x811C9DC5
    units = pair_id.encode("utf-16-le")
    for k in range(0, len(units), 2):
        h = ((h ^ (units[k] | units[k + 1] << 8)) * 0x01000193) & MASK32
    return h % count


def training_row_indices(split: SplitRows, shard: dict, mode: str, epoch: int) -> list:
    """Rows a shard (or DDP rank) trains on in `epoch`, ascending. none = originals of its pairs;
    append = both orientations of its pairs; alternate = swapped copies in odd epochs. per_gpu, as
    the reference's DDP script: every shard trains on every pair, even shards in the original
    orientation and odd shards swapped, so with 2+ shards each pair is seen both ways every epoch
    (at the cost of count × the rows of a hash partition); one shard sees the originals only, as
    the reference did on one GPU."""
    want_swapped = epoch % 2 == 1 if mode == "alternate" else shard["index"] % 2 == 1 if mode == "per_gpu" else False
    picked = []
    for i in range(len(split)):
        if mode != "per_gpu" and shard_of_pair(split.pair_ids[i], shard["count"]) != shard["index"]:
            continue
        if mode != "append" and bool(split.swapped[i]) != want_swapped:
            continue
        picked.append(i)
    return picked
