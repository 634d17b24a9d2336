-- The first id given on more than one row, and its first two rows.
SELECT CAST(id AS VARCHAR) AS id, list(row_no ORDER BY row_no)[1:2] AS row_nos
FROM teacher_rows
GROUP BY CAST(id AS VARCHAR)
HAVING count(*) > 1
ORDER BY min(row_no)
LIMIT 1;
