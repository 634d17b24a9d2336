COPY (
  SELECT id, source, prompt, response_a, response_b, model_a, model_b, language, label AS winner
  FROM classified
  WHERE drop_reason IS NULL
  ORDER BY src_idx, row_no
-- Row groups of 16k rows let the next stage scan the file on every core.
) TO (getvariable('output_path')) (FORMAT parquet, ROW_GROUP_SIZE 16384);
