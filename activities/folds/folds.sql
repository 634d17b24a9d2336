-- One row per training pair with its fold. Pairs are ranked by md5(seed:pair_id), as the split
-- ranks them, within each language; dealing the languages one after another round-robin over
-- the folds puts every language's pairs evenly into every fold (sizes differ by at most one).
CREATE OR REPLACE TABLE folds AS
WITH pairs AS (
  SELECT
    pair_id,
    coalesce(any_value({{language}}) FILTER (WHERE NOT swapped), any_value({{language}}), 'unknown') AS language,
    count(*)::INTEGER AS rows,
    md5(CAST(getvariable('seed') AS VARCHAR) || ':' || pair_id) AS rank_key
  FROM read_parquet(getvariable('input_path'))
  GROUP BY pair_id
)
SELECT
  pair_id, language, rows,
  ((row_number() OVER (ORDER BY language, rank_key, pair_id) - 1) % getvariable('folds'))::INTEGER AS fold
FROM pairs;
