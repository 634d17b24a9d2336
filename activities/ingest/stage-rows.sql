-- Appends the checked rows of one source, texts flattened and cut to getvariable('max_text_chars')
-- characters, to {{target}}. A blank language is left NULL for detect-languages.ts, which reads first_turn.
INSERT INTO {{target}}
SELECT
  getvariable('source_index'), row_no, id, getvariable('source_name'),
  left(prompt_text, getvariable('max_text_chars')),
  left(response_a_text, getvariable('max_text_chars')),
  left(response_b_text, getvariable('max_text_chars')),
  model_a, model_b,
  CASE WHEN NOT is_blank(language) THEN language END,
  label,
  coalesce(greatest(length(prompt_text), length(response_a_text), length(response_b_text)) > getvariable('max_text_chars'), false),
  CASE WHEN is_blank(language) THEN coalesce({{first_turn}}, '') END,
  false
FROM (SELECT *, {{prompt}} AS prompt_text, {{response_a}} AS response_a_text, {{response_b}} AS response_b_text FROM src);
