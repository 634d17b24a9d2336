-- Predicted rows that are not training rows of the split, per fold.
SELECT fold, count(*)::INTEGER AS n, list(id ORDER BY id)[1:3] AS first
FROM predicted
WHERE id NOT IN (SELECT id FROM split_rows)
GROUP BY fold
ORDER BY fold
LIMIT 1;
