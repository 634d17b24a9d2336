-- The first row, in file order, that breaks a rule, and the first column of it that does; a
-- problem quotes at most 60 characters of its cell.
-- getvariable('json_lists'): texts are JSON lists (LMSYS); getvariable('unique_ids'): ids must not repeat.
WITH problems AS (
  SELECT row_no, id, 0 AS column_order, 'id' AS column_name, 'is empty' AS problem
  FROM src WHERE is_blank(id)
  UNION ALL
  SELECT row_no, id, 0, 'id', 'repeats the id of row ' || (first_row_no + 1)
  FROM (SELECT row_no, id, min(row_no) OVER (PARTITION BY id) AS first_row_no FROM src WHERE NOT is_blank(id))
  WHERE getvariable('unique_ids') AND row_no > first_row_no
  UNION ALL
  SELECT row_no, id, 1, 'prompt', 'is not valid UTF-8' FROM src WHERE prompt_bad_utf8
  UNION ALL
  SELECT row_no, id, 2, 'response_a', 'is not valid UTF-8' FROM src WHERE response_a_bad_utf8
  UNION ALL
  SELECT row_no, id, 3, 'response_b', 'is not valid UTF-8' FROM src WHERE response_b_bad_utf8
  UNION ALL
  SELECT row_no, id, 1, 'prompt', json_list_problem(prompt) || ': ' || left(prompt, 60)
  FROM src WHERE getvariable('json_lists') AND NOT is_json_string_list(prompt) AND json_list_problem(prompt) IS NOT NULL
  UNION ALL
  SELECT row_no, id, 2, 'response_a', json_list_problem(response_a) || ': ' || left(response_a, 60)
  FROM src WHERE getvariable('json_lists') AND NOT is_json_string_list(response_a) AND json_list_problem(response_a) IS NOT NULL
  UNION ALL
  SELECT row_no, id, 3, 'response_b', json_list_problem(response_b) || ': ' || left(response_b, 60)
  FROM src WHERE getvariable('json_lists') AND NOT is_json_string_list(response_b) AND json_list_problem(response_b) IS NOT NULL
  UNION ALL
  SELECT row_no, id, 4, label_problem_column, label_problem FROM src WHERE label_problem IS NOT NULL
)
SELECT row_no, id, column_name, problem FROM problems ORDER BY row_no, column_order LIMIT 1;
