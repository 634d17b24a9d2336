-- The rows with A and B exchanged, for the trainer's own predict: ids stay, so the original and the
-- swapped predictions line up. {{features}} is each feature column swapped by its rule.
COPY (
  SELECT id, prompt, response_b AS response_a, response_a AS response_b{{features}}
  FROM read_parquet(getvariable('input_path'))
) TO (getvariable('output_path')) (FORMAT parquet)
