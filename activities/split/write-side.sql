-- The rows of one side in input order; validation (getvariable('valid_side')) takes originals only.
COPY (
  SELECT source.* EXCLUDE (file_row_number)
  FROM read_parquet(getvariable('input_path'), file_row_number = true) AS source
  JOIN assigned USING (pair_id)
  WHERE assigned.in_valid = getvariable('valid_side') AND NOT (getvariable('valid_side') AND source.swapped)
  ORDER BY source.file_row_number
) TO (getvariable('output_path')) (FORMAT parquet);
