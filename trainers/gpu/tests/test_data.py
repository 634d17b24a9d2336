"""Shard, A/B-swap and shuffle selection agree with the built-in CPU trainer; split files are checked."""

import json
import os
import subprocess

import numpy as np
import pytest

from arena_trainer.data import feature_scaling, read_feature_columns, read_split, shard_of_pair, training_row_indices
from arena_trainer.errors import UserInputError
from arena_trainer.rng import Mulberry32, derive_seed, shuffle_in_place
from conftest import FEATURES, REPO_ROOT, labelled, with_swaps, write_split

COLUMNS = [f["name"] for f in FEATURES]
PAIR_IDS = ["a", "1234567", "pair-ß-東京", "😀 emoji", "", "x" * 40]

TS_PROBE = """
import { shardOfPair } from '{root}/trainers/cpu/data';
import { deriveSeed, Mulberry32, shuffleInPlace } from '{root}/trainers/cpu/rng';
const ids: string[] = JSON.parse(process.argv[2]);
const order = Int32Array.from({ length: 50 }, (_, i) => i);
shuffleInPlace(order, new Mulberry32(deriveSeed(42, 2, 1, 0, 2)));
const rng = new Mulberry32(deriveSeed(7, -3, 4294967295));
console.log(JSON.stringify({
  shards: ids.map((id) => [2, 3, 8].map((n) => shardOfPair(id, n))),
  seeds: [deriveSeed(42, 1), deriveSeed(42, 3, 1, 2, 0), deriveSeed(0)],
  order: Array.from(order),
  draws: [rng.next(), rng.next(), rng.next()],
}));
"""


def test_shards_seeds_and_shuffles_match_the_typescript_trainer(tmp_path):
    probe = tmp_path / "probe.ts"
    probe.write_text(TS_PROBE.replace("{root}", REPO_ROOT))
    out = subprocess.run(["node", "--import", "tsx", str(probe), json.dumps(PAIR_IDS)], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60)
    expected = json.loads(out.stdout)
    assert [[shard_of_pair(i, n) for n in (2, 3, 8)] for i in PAIR_IDS] == expected["shards"]
    assert [derive_seed(42, 1), derive_seed(42, 3, 1, 2, 0), derive_seed(0)] == expected["seeds"]
    order = list(range(50))
    shuffle_in_place(order, Mulberry32(derive_seed(42, 2, 1, 0, 2)))
    assert order == expected["order"]
    rng = Mulberry32(derive_seed(7, -3, 4294967295))
    assert [rng.next(), rng.next(), rng.next()] == expected["draws"]


@pytest.fixture(scope="module")
def split(tmp_path_factory, sample_rows):
    path = tmp_path_factory.mktemp("split") / "train.parquet"
    return read_split(write_split(str(path), with_swaps(labelled(sample_rows[:40]))), COLUMNS)


def test_split_is_sorted_by_id_with_labels_and_features(split):
    assert split.ids == sorted(split.ids)
    i = split.ids.index(split.pair_ids[0] + "#swap") if not split.swapped[0] else 0
    assert split.labels[0] + split.labels[i] == 1.0
    assert split.features.shape == (80, len(COLUMNS))


def test_modes_pick_rows_as_the_cpu_trainer_does(split):
    shards = [{"index": k, "count": 2} for k in range(2)]
    both = [training_row_indices(split, s, "append", 0) for s in shards]
    assert sorted(both[0] + both[1]) == list(range(80))
    for s, rows in zip(shards, both):
        assert all(shard_of_pair(split.pair_ids[i], 2) == s["index"] for i in rows)
    # per_gpu: shard 0 trains the originals of every pair, shard 1 the swapped copies of every pair.
    assert not any(split.swapped[i] for i in training_row_indices(split, shards[0], "per_gpu", 0))
    assert all(split.swapped[i] for i in training_row_indices(split, shards[1], "per_gpu", 0))
    # alternate: swapped copies in odd epochs only.
    assert all(split.swapped[i] for i in training_row_indices(split, shards[0], "alternate", 1))
    assert not any(split.swapped[i] for i in training_row_indices(split, shards[0], "alternate", 2))
    assert not any(split.swapped[i] for i in training_row_indices(split, shards[0], "none", 1))


def test_feature_scaling_is_population_mean_and_std(split):
    mean, std = feature_scaling(split)
    np.testing.assert_allclose(mean, split.features.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, split.features.std(axis=0), rtol=1e-5)


def test_bad_splits_are_rejected_naming_file_and_column_or_row(tmp_path, sample_rows):
    rows = with_swaps(labelled(sample_rows[:3]))
    path = write_split(str(tmp_path / "bad.parquet"), [{**r, "winner": "tie"} if r["id"] == rows[2]["id"] else r for r in rows])
    with pytest.raises(UserInputError, match=rf"bad.parquet: row id {rows[2]['id']}: column \"winner\" is \"tie\""):
        read_split(path, COLUMNS)
    path = write_split(str(tmp_path / "nan.parquet"), [{**r, "log_len_a": float("nan")} if r is rows[0] else r for r in rows])
    with pytest.raises(UserInputError, match=rf"nan.parquet: row id {rows[0]['id']}: feature column \"log_len_a\" is nan"):
        read_split(path, COLUMNS)
    with pytest.raises(UserInputError, match=r"missing column \"no_such_feature\""):
        read_split(path, [*COLUMNS, "no_such_feature"])
    with pytest.raises(UserInputError, match="cannot read parquet"):
        read_split(os.path.join(tmp_path, "absent.parquet"), COLUMNS)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ([{"name": "len_a", "swap": "mirror"}], "key 'columns[0].swap': 'mirror' is not one of ['negate', 'reciprocal', 'keep']"),
        ([{"name": "len_a", "swap": "keep", "scale": 2}], "key 'columns[0].scale': is not a known key"),
        ([{"name": "len_a", "swap": "keep"}, {"name": "len_a", "swap": "negate"}], "key 'columns[1].name': 'len_a' is listed twice"),
        ([], "key 'columns': [] should be non-empty"),
    ],
)
def test_a_bad_feature_columns_file_is_rejected_with_the_key_named(tmp_path, columns, message):
    """The shape is lib/feature-columns.ts's, through the generated feature_columns.schema.json."""
    file = tmp_path / "feature_columns.json"
    file.write_text(json.dumps({"columns": columns}))
    with pytest.raises(UserInputError) as caught:
        read_feature_columns(str(file))
    assert str(caught.value) == f"{file}: {message}"
    file.write_text(json.dumps({"columns": FEATURES}))
    assert read_feature_columns(str(file)) == COLUMNS


def test_per_gpu_shows_every_pair_in_both_orientations_every_epoch(split):
    """The reference's DDP augmentation: over 2 (or 4) shards or ranks, each epoch holds every pair
    once per orientation; over 3, odd ranks swap, so originals come twice; one shard: originals only."""
    pairs = sorted(set(split.pair_ids))
    for epoch in (0, 1):
        for count in (2, 4):
            seen = [(split.pair_ids[i], bool(split.swapped[i])) for k in range(count) for i in training_row_indices(split, {"index": k, "count": count}, "per_gpu", epoch)]
            assert sorted(seen) == sorted([(p, s) for p in pairs for s in (False, True)] * (count // 2))
        three = [bool(split.swapped[i]) for k in range(3) for i in training_row_indices(split, {"index": k, "count": 3}, "per_gpu", epoch)]
        assert (three.count(False), three.count(True)) == (2 * len(pairs), len(pairs))
        alone = training_row_indices(split, {"index": 0, "count": 1}, "per_gpu", epoch)
        assert sorted(split.pair_ids[i] for i in alone) == pairs and not any(split.swapped[i] for i in alone)
