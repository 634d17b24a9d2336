-- The split's training pairs (what every teacher must cover) with the original row's hard label,
-- and the per-teacher probabilities the soft labels average.
CREATE OR REPLACE TABLE train_pairs AS
SELECT pair_id, coalesce(any_value(winner) FILTER (WHERE NOT swapped), any_value(winner)) AS winner
FROM read_parquet(getvariable('train_path'))
GROUP BY pair_id;
CREATE OR REPLACE TABLE soft (pair_id VARCHAR, teacher VARCHAR, weight DOUBLE, p DOUBLE);
