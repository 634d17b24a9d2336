-- Each original row, then (unless the mode is none) its A/B-swapped copy right after it.
-- {{swap}} is the REPLACE list built from feature_columns.json; positions stay, so UNION ALL lines up.
COPY (
  WITH source AS (SELECT * FROM read_parquet(getvariable('input_path'), file_row_number = true))
  SELECT * EXCLUDE (file_row_number) FROM (
    SELECT * EXCLUDE (file_row_number), CAST(id AS VARCHAR) AS pair_id, false AS swapped, file_row_number
    FROM source
    UNION ALL
    SELECT * EXCLUDE (file_row_number) REPLACE ({{swap}}), CAST(id AS VARCHAR) AS pair_id, true AS swapped, file_row_number
    FROM source
    WHERE getvariable('with_swapped')
  )
  ORDER BY file_row_number, swapped
-- Row groups of 16k rows let the next stage scan the file on every core.
) TO (getvariable('output_path')) (FORMAT parquet, ROW_GROUP_SIZE 16384);
