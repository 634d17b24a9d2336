-- Rows of every source, normalised, before any row is dropped. label: model_a | model_b | tie | NULL.
-- truncated: a text was cut to getvariable('max_text_chars'). language: NULL until detected when the
-- source gave none; first_turn (the first user turn, uncut) is kept only for those rows, for
-- detect-languages.ts; language_detected: the label came from it.
CREATE OR REPLACE TABLE staged (
  src_idx INTEGER, row_no BIGINT, id VARCHAR, source VARCHAR,
  prompt VARCHAR, response_a VARCHAR, response_b VARCHAR,
  model_a VARCHAR, model_b VARCHAR, language VARCHAR, label VARCHAR, truncated BOOLEAN,
  first_turn VARCHAR, language_detected BOOLEAN
);
CREATE OR REPLACE TABLE staged_test AS SELECT * FROM staged LIMIT 0;
