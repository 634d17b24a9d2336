"""Soft-label training of the GPU trainer (distill.alpha, distill.temperature, column teacher_p) on the
tiny Gemma-2: the loss and its gradient, the same loss as the CPU trainer's, and trainer processes
(alpha = 1 equals no soft labels bit for bit, alpha = 0 pulls the model to the teacher, bad values
are refused)."""

import json
import math
import subprocess

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from safetensors.torch import load_file

from arena_trainer.loss import summed_loss
from arena_trainer.data import SoftLabelLoss
from conftest import FEATURES, REPO_ROOT, deep_merge, labelled, load_config, run_trainer, train_spec, with_swaps

GRID_Z = [-30.0, -3.0, -0.4, 0.0, 0.7, 5.0, 30.0]
GRID_P = [math.nan, 0.0, 0.2, 0.5, 0.93, 1.0]
SETTINGS = [(alpha, t) for alpha in (0.0, 0.3, 1.0) for t in (1.0, 2.0, 4.5)]
# The grid, every (z, y, p) for each setting, as one batch.
ROWS = [(z, y, p) for p in GRID_P for y in (0.0, 1.0) for z in GRID_Z]

TS_PROBE = """
import { rowLoss } from '{root}/trainers/cpu/loss';
const [rows, settings] = JSON.parse(process.argv[2]);
console.log(JSON.stringify(settings.map(([alpha, temperature]: number[]) =>
  rows.map(([z, y, p]: number[]) => rowLoss(z, y, p === null ? NaN : p, { alpha, temperature })))));
"""


def batch(dtype=torch.float64):
    z, y, p = (torch.tensor([r[k] for r in ROWS], dtype=dtype) for k in range(3))
    return z, y, p


def test_the_gradient_in_the_logit_is_the_stated_formula_and_matches_finite_differences():
    z, y, p = batch()
    for alpha, t in SETTINGS:
        distill = SoftLabelLoss(alpha=alpha, temperature=t)
        logits = z.clone().requires_grad_(True)
        summed_loss(logits, y, p, distill).backward()
        q = torch.sigmoid((torch.log(p.clamp(1e-6, 1 - 1e-6)) - torch.log1p(-p.clamp(1e-6, 1 - 1e-6))) / t)
        soft = alpha * (torch.sigmoid(z) - y) + (1 - alpha) * t * (torch.sigmoid(z / t) - q)
        expected = torch.where(torch.isnan(p), torch.sigmoid(z) - y, soft)
        assert torch.allclose(logits.grad, expected, rtol=1e-9, atol=1e-12), (alpha, t)
        # Row by row: the loss of one row moves with its own logit only.
        assert torch.autograd.gradcheck(lambda x: summed_loss(x, y, p, distill), (z.clone().requires_grad_(True),), eps=1e-6, atol=1e-6)


def test_the_loss_is_the_cpu_trainers_row_by_row(tmp_path):
    probe = tmp_path / "probe.ts"
    probe.write_text(TS_PROBE.replace("{root}", REPO_ROOT))
    rows = [[z, y, None if math.isnan(p) else p] for z, y, p in ROWS]
    out = subprocess.run(["node", "--import", "tsx", str(probe), json.dumps([rows, SETTINGS])], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60)
    expected = json.loads(out.stdout)
    z, y, p = batch()
    for (alpha, t), cpu_rows in zip(SETTINGS, expected):
        distill = SoftLabelLoss(alpha=alpha, temperature=t)
        for k, cpu in enumerate(cpu_rows):
            logit = z[k : k + 1].clone().requires_grad_(True)
            loss = summed_loss(logit, y[k : k + 1], p[k : k + 1], distill)
            loss.backward()
            assert loss.item() == pytest.approx(cpu["loss"], rel=1e-9, abs=1e-12), (alpha, t, ROWS[k])
            assert logit.grad.item() == pytest.approx(cpu["grad"], rel=1e-9, abs=1e-12), (alpha, t, ROWS[k])


def teacher_probability(row: dict) -> float:
    """A teacher surer than chance but less than the hard label, from a feature the model sees:
    σ(1.5·log_len_diff), which is 1 - p on a swapped copy since its log_len_diff is negated."""
    return 1 / (1 + math.exp(-1.5 * row["log_len_diff"]))


def soft_labels(rows: list) -> list:
    """teacher_p of each row; every 7th pair has none (NULL)."""
    pairs = sorted({r["pair_id"] for r in rows})
    without = {pair for k, pair in enumerate(pairs) if k % 7 == 3}
    return [None if r["pair_id"] in without else teacher_probability(r) for r in rows]


def write_soft_split(path: str, rows: list, teacher_p: list, arrow_type=pa.float64(), alpha: float = 0.5) -> str:
    """A split as conftest.write_split writes it, plus the teacher_p column and its loss weights in
    the file's metadata, as the soft_labels stage writes them."""
    columns = ["id", "pair_id", "swapped", "prompt", "response_a", "response_b", "winner", *[f["name"] for f in FEATURES]]
    table = pa.table({**{c: [r[c] for r in rows] for c in columns}, "teacher_p": pa.array(teacher_p, arrow_type)})
    pq.write_table(table.replace_schema_metadata({"distill_alpha": str(alpha), "distill_temperature": "2"}), path)
    return path


@pytest.fixture(scope="module")
def soft_data(tmp_path_factory, sample_rows, dataset):
    """The conftest dataset's train rows (96 pairs, both orders) with soft labels; the same valid split."""
    rows = with_swaps(labelled(sample_rows[:96]))
    folder = tmp_path_factory.mktemp("soft")
    split = lambda alpha: {**dataset, "train": write_soft_split(str(folder / f"train-alpha-{alpha}.parquet"), rows, soft_labels(rows), alpha=alpha)}  # noqa: E731
    return {"rows": rows, "split": split(0.0), "alpha_one": split(1.0)}


def tiny_config(basemodel: str) -> dict:
    # Full-precision float32 on CPU; 4 epochs so that alpha = 0 has room to fit the teacher.
    return deep_merge(load_config("gemma2_tiny_cpu"), {"model": {"basemodel_path": basemodel}, "trainer": {"epochs": 4}})


def trained(config: dict, data: dict, folder, **fields) -> str:
    code, events, log = run_trainer("train", train_spec(config, data, folder, **fields), folder)
    assert code == 0, log
    return events[-1]["checkpoint"]


def test_alpha_one_with_a_teacher_p_column_trains_bit_identical_weights_to_no_column(tmp_path, basemodel, dataset, soft_data):
    # 6 of the 24 steps: every step already goes through the soft-label path.
    first_steps = {"round": {"index": 0, "epoch_start": 0, "epoch_end": 4, "step_end": 6}}
    hard = load_file(f"{trained(tiny_config(basemodel), dataset, tmp_path / 'hard', **first_steps)}/weights.safetensors")
    alpha_one = load_file(f"{trained(tiny_config(basemodel), soft_data['alpha_one'], tmp_path / 'alpha-one', **first_steps)}/weights.safetensors")
    assert hard.keys() == alpha_one.keys()
    for name in hard:
        assert torch.equal(hard[name], alpha_one[name]), name


def probabilities(model, settings, split) -> np.ndarray:
    """p(model_a wins) of every row of `split`, dropout off, as the trainer's evaluation runs the model."""
    from arena_trainer.batches import model_inputs
    from arena_trainer.model import load_tokenizer
    from arena_trainer.text import TextEncoder

    encoder = TextEncoder(load_tokenizer(settings.model.basemodel_path), settings.model.max_length, settings.model.truncation, settings.model.tokenization)
    out = np.empty(len(split))
    model.eval()
    with torch.no_grad():
        for start in range(0, len(split), 32):
            rows = list(range(start, min(start + 32, len(split))))
            inputs = model_inputs(encoder, [split.prompts[i] for i in rows], [split.responses_a[i] for i in rows], [split.responses_b[i] for i in rows], split.features[rows], torch.device("cpu"))
            out[rows] = torch.sigmoid(model(*inputs).float().squeeze(-1)).numpy()
    return out


def kl_to_teacher(teacher_p: np.ndarray, student_p: np.ndarray, t: float) -> float:
    """Mean KL(teacher_T ‖ student_T) over the rows with a soft label, as the distill design writes it."""
    has = ~np.isnan(teacher_p)
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    pt = 1 / (1 + np.exp(-logit(np.clip(teacher_p[has], 1e-6, 1 - 1e-6)) / t))
    ps = 1 / (1 + np.exp(-logit(np.clip(student_p[has], 1e-12, 1 - 1e-12)) / t))
    return float(np.mean(pt * np.log(pt / ps) + (1 - pt) * np.log((1 - pt) / (1 - ps))))


def test_alpha_zero_moves_the_models_predictions_to_the_teachers_probabilities(tmp_path, basemodel, dataset, soft_data):
    from arena_trainer.data import feature_scaling, read_feature_columns, read_split
    from arena_trainer.model import build_model
    from arena_trainer.restore import restore_model
    from arena_trainer.rng import derive_seed
    from arena_trainer.spec import settings_from_config
    from arena_trainer.train import INIT_STREAM

    config = tiny_config(basemodel)
    settings = settings_from_config("test", config)
    split = read_split(soft_data["split"]["train"], read_feature_columns(dataset["feature_columns"]))
    assert split.soft_loss == SoftLabelLoss(alpha=0.0, temperature=2.0), "the loss weights come from the file's metadata"
    # The model every fresh run starts from: the seed's initial weights, the training split's scaling.
    initial = build_model(settings.model, len(FEATURES), torch.device("cpu"), init_seed=derive_seed(settings.seed, INIT_STREAM), quantize=False, training=False)
    mean, std = feature_scaling(split)
    initial.feature_mean.copy_(torch.from_numpy(mean))
    initial.feature_std.copy_(torch.from_numpy(std))
    soft, _ = restore_model(settings, trained(config, soft_data["split"], tmp_path), torch.device("cpu"), quantize=False)
    before, after = (kl_to_teacher(split.teacher_p, probabilities(m, settings, split), 2.0) for m in (initial, soft))
    print(f"mean KL(teacher_T || student_T), T=2, over {int((~np.isnan(split.teacher_p)).sum())} rows: initial {before:.5f}, soft labels (alpha 0) {after:.5f}")
    assert after < before / 2, (before, after)


@pytest.mark.parametrize(
    "value, message",
    [
        (1.5, 'row id {rogue}: column "teacher_p" is 1.5, expected a probability in [0, 1]'),
        (math.nan, 'row id {rogue}: column "teacher_p" is NaN, expected a probability in [0, 1]'),
        (-math.inf, 'row id {rogue}: column "teacher_p" is -Infinity, expected a probability in [0, 1]'),
        ("0.5", 'column "teacher_p" has type string, expected double'),
    ],
)
def test_a_teacher_p_that_is_not_a_probability_fails_with_the_file_row_id_and_column(tmp_path, basemodel, dataset, soft_data, value, message):
    rows, teacher_p = soft_data["rows"], soft_labels(soft_data["rows"])
    # The last row, in id order, of those with a soft label: the one that gets the bad value.
    rogue = max(r["id"] for r, p in zip(rows, teacher_p) if p is not None)
    if isinstance(value, str):
        bad = write_soft_split(str(tmp_path / "train.parquet"), rows, [None if p is None else str(p) for p in teacher_p], pa.string())
    else:
        bad = write_soft_split(str(tmp_path / "train.parquet"), rows, [value if r["id"] == rogue else p for r, p in zip(rows, teacher_p)])
    code, events, log = run_trainer("train", train_spec(tiny_config(basemodel), {**dataset, "train": bad}, tmp_path), tmp_path)
    assert code == 2, log
    assert events == [{"event": "error", "kind": "user", "message": f"{bad}: {message.format(rogue=rogue)}"}]


@pytest.mark.parametrize(
    "metadata, message",
    [
        ({}, "column \"teacher_p\" needs the file's key-value metadata distill_alpha (the soft_labels stage writes it)"),
        ({"distill_alpha": "0.5", "distill_temperature": "0"}, 'metadata distill_temperature is "0", expected a positive number'),
    ],
)
def test_a_teacher_p_column_without_valid_loss_weights_fails_with_the_file_and_key(tmp_path, dataset, soft_data, metadata, message):
    from arena_trainer.data import read_feature_columns, read_split
    from arena_trainer.errors import UserInputError

    rows = soft_data["rows"]
    path = write_soft_split(str(tmp_path / "train.parquet"), rows, soft_labels(rows))
    pq.write_table(pq.read_table(path).replace_schema_metadata(metadata), path)
    with pytest.raises(UserInputError) as raised:
        read_split(path, read_feature_columns(dataset["feature_columns"]))
    assert str(raised.value) == f"{path}: {message}"
