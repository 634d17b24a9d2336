-- Pairs and rows per side and language.
SELECT
  language,
  count(DISTINCT pair_id) FILTER (WHERE NOT in_valid)::INTEGER AS train_pairs,
  count(DISTINCT pair_id) FILTER (WHERE in_valid)::INTEGER AS valid_pairs
FROM assigned
GROUP BY language
ORDER BY language;
