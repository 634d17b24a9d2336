-- The first row without an id.
SELECT row_no FROM teacher_rows WHERE id IS NULL OR CAST(id AS VARCHAR) = '' ORDER BY row_no LIMIT 1;
