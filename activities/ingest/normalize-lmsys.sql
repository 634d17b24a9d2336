-- LMSYS CSV: texts stay JSON lists here (checked before they are flattened); the one-hot winner
-- becomes a label, with tie kept as its own value so that it can be counted when dropped. An error
-- quotes at most 60 characters of a cell.
CREATE OR REPLACE VIEW src AS
WITH flags AS (
  SELECT
    rowid AS row_no, *,
    winner_flag({{winner_model_a}}) AS flag_a,
    winner_flag({{winner_model_b}}) AS flag_b,
    winner_flag({{winner_tie}}) AS flag_tie
  FROM raw
)
SELECT
  row_no,
  CAST({{id}} AS VARCHAR) AS id,
  {{prompt}} AS prompt, false AS prompt_bad_utf8,
  {{response_a}} AS response_a, false AS response_a_bad_utf8,
  {{response_b}} AS response_b, false AS response_b_bad_utf8,
  CAST({{model_a}} AS VARCHAR) AS model_a,
  CAST({{model_b}} AS VARCHAR) AS model_b,
  CAST({{language}} AS VARCHAR) AS language,
  CASE
    WHEN NOT {{labelled}} THEN NULL
    WHEN flag_a = 1 AND flag_b = 0 AND flag_tie = 0 THEN 'model_a'
    WHEN flag_a = 0 AND flag_b = 1 AND flag_tie = 0 THEN 'model_b'
    WHEN flag_a = 0 AND flag_b = 0 AND flag_tie = 1 THEN 'tie'
  END AS label,
  CASE
    WHEN flag_a IS NULL THEN 'winner_model_a'
    WHEN flag_b IS NULL THEN 'winner_model_b'
    WHEN flag_tie IS NULL THEN 'winner_tie'
    ELSE 'winner_model_a, winner_model_b, winner_tie'
  END AS label_problem_column,
  CASE
    WHEN NOT {{labelled}} THEN NULL
    WHEN flag_a IS NULL THEN 'is ''' || left({{winner_model_a}}, 60) || ''', not 0 or 1'
    WHEN flag_b IS NULL THEN 'is ''' || left({{winner_model_b}}, 60) || ''', not 0 or 1'
    WHEN flag_tie IS NULL THEN 'is ''' || left({{winner_tie}}, 60) || ''', not 0 or 1'
    WHEN flag_a + flag_b + flag_tie > 1 THEN 'more than one winner column is 1'
  END AS label_problem
FROM flags;
