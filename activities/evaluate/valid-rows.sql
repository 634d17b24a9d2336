-- What evaluation needs besides the predictions. length() counts characters (code points), not bytes.
SELECT
  id::VARCHAR AS id,
  winner,
  coalesce(language, 'unknown') AS language,
  coalesce(source, 'unknown') AS source,
  length(response_a) AS length_a,
  length(response_b) AS length_b
FROM read_parquet($path)
