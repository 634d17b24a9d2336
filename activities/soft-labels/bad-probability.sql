-- The first row whose {{column}} is empty, not a number, or outside [0, 1] (NaN included).
SELECT row_no, CAST(id AS VARCHAR) AS id, CAST({{column}} AS VARCHAR) AS raw, TRY_CAST({{column}} AS DOUBLE) AS p
FROM teacher_rows
WHERE TRY_CAST({{column}} AS DOUBLE) IS NULL OR NOT (TRY_CAST({{column}} AS DOUBLE) BETWEEN 0 AND 1)
ORDER BY row_no
LIMIT 1;
