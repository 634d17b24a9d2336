-- One probability per pair from the out-of-fold predictions, which give both orders of a pair:
-- (p + 1 - p_swapped) / 2 as for an imported teacher; a pair predicted in one order only keeps it.
CREATE OR REPLACE TABLE teacher_p AS
SELECT
  pair_id,
  avg(CASE WHEN swapped THEN 1 - p_model_a ELSE p_model_a END) AS p,
  abs(any_value(p_model_a) FILTER (WHERE NOT swapped) - (1 - any_value(p_model_a) FILTER (WHERE swapped))) AS gap
FROM read_parquet(getvariable('teacher_path'))
GROUP BY pair_id;
