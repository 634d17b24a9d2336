-- Rows of every source, normalised, before any row is dropped. label: model_a | model_b | tie | NULL.
CREATE OR REPLACE TABLE staged (
  src_idx INTEGER, row_no BIGINT, id VARCHAR, source VARCHAR,
  prompt VARCHAR, response_a VARCHAR, response_b VARCHAR,
  model_a VARCHAR, model_b VARCHAR, language VARCHAR, label VARCHAR
);
CREATE OR REPLACE TABLE staged_test AS SELECT * FROM staged LIMIT 0;
