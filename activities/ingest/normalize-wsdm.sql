-- WSDM parquet: plain-string texts (BLOB columns are decoded, a cell that is not UTF-8 is flagged).
-- An error quotes at most 60 characters of a cell.
CREATE OR REPLACE VIEW src AS
SELECT
  rowid AS row_no,
  CAST({{id}} AS VARCHAR) AS id,
  {{prompt}} AS prompt, {{prompt_bad_utf8}} AS prompt_bad_utf8,
  {{response_a}} AS response_a, {{response_a_bad_utf8}} AS response_a_bad_utf8,
  {{response_b}} AS response_b, {{response_b_bad_utf8}} AS response_b_bad_utf8,
  CAST({{model_a}} AS VARCHAR) AS model_a,
  CAST({{model_b}} AS VARCHAR) AS model_b,
  CAST({{language}} AS VARCHAR) AS language,
  CASE WHEN CAST({{winner}} AS VARCHAR) IN ('model_a', 'model_b') THEN CAST({{winner}} AS VARCHAR) END AS label,
  'winner' AS label_problem_column,
  CASE WHEN NOT is_blank(CAST({{winner}} AS VARCHAR)) AND CAST({{winner}} AS VARCHAR) NOT IN ('model_a', 'model_b')
    THEN 'is ''' || left(CAST({{winner}} AS VARCHAR), 60) || ''', not model_a or model_b' END AS label_problem
FROM raw;
