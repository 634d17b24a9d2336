-- The split's training rows of one side of fold getvariable('fold'): valid_side true = that fold's
-- rows (both orders, the teacher's out-of-fold rows), false = every other fold's rows; input order.
COPY (
  SELECT source.* EXCLUDE (file_row_number)
  FROM read_parquet(getvariable('train_path'), file_row_number = true) AS source
  JOIN read_parquet(getvariable('folds_path')) AS folds USING (pair_id)
  WHERE (folds.fold = getvariable('fold')) = getvariable('valid_side')
  ORDER BY source.file_row_number
) TO (getvariable('output_path')) (FORMAT parquet, ROW_GROUP_SIZE 16384);
