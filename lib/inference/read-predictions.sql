-- The trainer's p_a for every row of the scored table, in the table's order. A row it did not score
-- has no p_a; one it scored twice has scored > 1.
WITH scored AS (
  SELECT id::VARCHAR AS id, any_value(p_a) AS p_a, count(*) AS scored
  FROM read_parquet(getvariable('predictions_path'))
  GROUP BY id::VARCHAR
)
SELECT t.id::VARCHAR AS id, s.p_a::DOUBLE AS p_a, coalesce(s.scored, 0) AS scored
FROM read_parquet(getvariable('table_path'), file_row_number = true) AS t
LEFT JOIN scored AS s ON s.id = t.id::VARCHAR
ORDER BY t.file_row_number
