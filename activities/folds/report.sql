-- Pairs and rows per fold, and pairs per language and fold.
SELECT fold, language, count(*)::INTEGER AS pairs, sum(rows)::INTEGER AS rows
FROM folds
GROUP BY fold, language
ORDER BY fold, language;
