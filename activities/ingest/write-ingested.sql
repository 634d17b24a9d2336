COPY (
  SELECT id, source, prompt, response_a, response_b, model_a, model_b, language, label AS winner
  FROM classified
  WHERE drop_reason IS NULL
  ORDER BY src_idx, row_no
) TO (getvariable('output_path')) (FORMAT parquet);
