-- Run on the file read as latin-1 (every byte is one character U+0000..U+00FF), so the original
-- bytes can be checked against the UTF-8 grammar (RFC 3629). Returns every bad cell of the first bad row.
WITH cells AS (
  UNPIVOT (SELECT rowid AS __row_no, {{id}} AS __id, * FROM raw)
  ON COLUMNS(* EXCLUDE (__row_no, __id)) INTO NAME column_name VALUE text
)
SELECT __row_no AS row_no, __id AS id, column_name
FROM cells
WHERE NOT regexp_full_match(text, '(?s)(?:[\x00-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2})*')
QUALIFY __row_no = min(__row_no) OVER ();
