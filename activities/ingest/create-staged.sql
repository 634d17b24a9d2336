-- Rows of every source, normalised, before any row is dropped. label: model_a | model_b | tie | NULL.
-- truncated: a text was cut to getvariable('max_text_chars').
CREATE OR REPLACE TABLE staged (
  src_idx INTEGER, row_no BIGINT, id VARCHAR, source VARCHAR,
  prompt VARCHAR, response_a VARCHAR, response_b VARCHAR,
  model_a VARCHAR, model_b VARCHAR, language VARCHAR, label VARCHAR, truncated BOOLEAN
);
CREATE OR REPLACE TABLE staged_test AS SELECT * FROM staged LIMIT 0;
