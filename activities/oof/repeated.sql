-- Rows more than one teacher predicted, with their folds.
SELECT id, list(fold ORDER BY fold) AS folds
FROM predicted
GROUP BY id
HAVING count(*) > 1
ORDER BY id
LIMIT 3;
