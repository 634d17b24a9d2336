-- The soft label of every training pair: the teachers' weighted mean, as write-train.sql writes it.
CREATE OR REPLACE TABLE teacher_p AS
SELECT pair_id, sum(weight * p) / sum(weight) AS p, NULL::DOUBLE AS gap FROM soft GROUP BY pair_id;
