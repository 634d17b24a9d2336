COPY (
  SELECT id, source, prompt, response_a, response_b, language FROM staged_test ORDER BY row_no
) TO (getvariable('output_path')) (FORMAT parquet);
