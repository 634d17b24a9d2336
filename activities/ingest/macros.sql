-- Helpers shared by the ingest scripts. The turn separator comes from getvariable('turn_separator').

-- Blank means nothing but white space (Unicode spaces included), or no text at all.
CREATE OR REPLACE MACRO is_blank(t) AS t IS NULL OR regexp_full_match(t, '[\s\p{Z}]*');

-- Why an LMSYS text cell is not a JSON list of strings (items may be null), or NULL when it is.
-- CASE evaluates a branch only for rows that reach it, so json_type never sees invalid JSON.
CREATE OR REPLACE MACRO json_list_problem(t) AS CASE
  WHEN t IS NULL THEN NULL
  WHEN NOT json_valid(t) THEN 'is not valid JSON'
  WHEN json_type(t) <> 'ARRAY' THEN 'is not a JSON list'
  WHEN list_bool_or(list_transform(json_extract(t, '$[*]'), item -> json_type(item) NOT IN ('VARCHAR', 'NULL')))
    THEN 'is not a JSON list of strings'
END;

-- The fast test that a cell is a JSON list of strings and nulls (json_structure merges the item
-- types: strings with nulls give ["VARCHAR"], nulls alone or no items ["NULL"]); json_list_problem
-- explains the cells that fail it.
CREATE OR REPLACE MACRO is_json_string_list(t) AS CASE
  WHEN t IS NULL THEN true
  WHEN json_valid(t) THEN json_structure(t) IN ('["VARCHAR"]', '["NULL"]')
  ELSE false
END;

-- One text from a list of turns: null turns are skipped, the rest joined with the separator.
CREATE OR REPLACE MACRO flatten_turns(t) AS
  array_to_string(list_filter(json_extract_string(t, '$[*]'), turn -> turn IS NOT NULL), getvariable('turn_separator'));

-- An LMSYS one-hot winner cell as 0 or 1; an empty cell is 0; anything else is NULL (a bad value).
CREATE OR REPLACE MACRO winner_flag(v) AS CASE
  WHEN v IS NULL OR trim(v) = '' THEN 0
  WHEN trim(v) IN ('1', '1.0', 'True', 'true') THEN 1
  WHEN trim(v) IN ('0', '0.0', 'False', 'false') THEN 0
END;
