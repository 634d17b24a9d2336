-- Appends the checked rows of one source, texts flattened, to {{target}}.
INSERT INTO {{target}}
SELECT
  getvariable('source_index'), row_no, id, getvariable('source_name'),
  {{prompt}}, {{response_a}}, {{response_b}},
  model_a, model_b,
  CASE WHEN is_blank(language) THEN 'unknown' ELSE language END,
  label
FROM src;
