-- One probability per pair from an imported file: p_model_a, or with both orders given
-- (p_model_a + 1 - p_model_a_swapped) / 2; gap = |p_model_a - (1 - p_model_a_swapped)|.
CREATE OR REPLACE TABLE teacher_p AS
SELECT pair_id, CASE WHEN ps IS NULL THEN p ELSE (p + 1 - ps) / 2 END AS p, abs(p - (1 - ps)) AS gap
FROM (
  SELECT CAST(id AS VARCHAR) AS pair_id, TRY_CAST(p_model_a AS DOUBLE) AS p, {{swapped}} AS ps
  FROM teacher_rows
);
