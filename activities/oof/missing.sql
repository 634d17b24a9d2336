-- Training rows no teacher predicted: how many, and the first few in file order.
SELECT count(*)::INTEGER AS n, list(id ORDER BY file_row_number)[1:3] AS first
FROM split_rows
WHERE id NOT IN (SELECT id FROM predicted);
