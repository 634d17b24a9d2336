-- Rows to predict, in file order; the placeholder below becomes the quoted feature columns.
SELECT id::VARCHAR AS id, prompt, response_a, response_b{{feature_columns}}
FROM read_parquet($path)
