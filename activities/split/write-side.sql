-- The rows of one side in input order; validation (getvariable('valid_side')) takes originals only.
COPY (
  SELECT source.* EXCLUDE (file_row_number)
  FROM read_parquet(getvariable('input_path'), file_row_number = true) AS source
  JOIN assigned USING (pair_id)
  WHERE assigned.in_valid = getvariable('valid_side') AND NOT (getvariable('valid_side') AND source.swapped)
  ORDER BY source.file_row_number
-- Row groups of 16k rows let the next stage scan the file on every core.
) TO (getvariable('output_path')) (FORMAT parquet, ROW_GROUP_SIZE 16384);
