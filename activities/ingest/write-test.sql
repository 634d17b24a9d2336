COPY (
  SELECT id, source, prompt, response_a, response_b, language FROM staged_test ORDER BY row_no
-- Row groups of 16k rows let the next stage scan the file on every core.
) TO (getvariable('output_path')) (FORMAT parquet, ROW_GROUP_SIZE 16384);
