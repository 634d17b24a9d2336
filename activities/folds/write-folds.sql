-- folds.parquet: pair_id -> fold, in pair order.
COPY (SELECT pair_id, fold FROM folds ORDER BY pair_id) TO (getvariable('output_path')) (FORMAT parquet);
