-- One row per pair: its language (from the original row) and its rank key md5(seed:pair_id),
-- which is stable across DuckDB versions and easy to reproduce elsewhere. The smallest keys are
-- sampled first and, within each stratum, go to validation first.
CREATE OR REPLACE TABLE pairs AS
SELECT
  pair_id,
  coalesce(any_value({{language}}) FILTER (WHERE NOT swapped), any_value({{language}})) AS language,
  md5(CAST(getvariable('seed') AS VARCHAR) || ':' || pair_id) AS rank_key
FROM read_parquet(getvariable('input_path'))
GROUP BY pair_id;

CREATE OR REPLACE TABLE assigned AS
WITH sampled AS (
  SELECT * FROM pairs
  QUALIFY getvariable('sample_size') IS NULL
    OR row_number() OVER (ORDER BY rank_key, pair_id) <= getvariable('sample_size')
)
SELECT
  pair_id, language,
  -- round() rounds half away from zero: each stratum gets round(n * validation_size) pairs.
  row_number() OVER stratum <= round(count(*) OVER (PARTITION BY {{stratum}}) * getvariable('validation_size')) AS in_valid
FROM sampled
WINDOW stratum AS (PARTITION BY {{stratum}} ORDER BY rank_key, pair_id);
