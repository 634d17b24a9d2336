-- Training pairs without a fold: folds.parquet is not the one of this train.parquet.
SELECT count(DISTINCT pair_id)::INTEGER AS pairs, min(pair_id) AS first
FROM read_parquet(getvariable('train_path'))
WHERE pair_id NOT IN (SELECT pair_id FROM read_parquet(getvariable('folds_path')));
