-- The split's training rows (what must be predicted) and an empty table of the teachers' predictions.
CREATE OR REPLACE TABLE split_rows AS
SELECT CAST(id AS VARCHAR) AS id, pair_id, swapped, file_row_number
FROM read_parquet(getvariable('split_train'), file_row_number = true);
CREATE OR REPLACE TABLE predicted (id VARCHAR, fold INTEGER, p_model_a DOUBLE);
