-- The first line the CSV reader rejected, after a read with store_rejects.
SELECT line, column_name, error_message, csv_line FROM reject_errors ORDER BY line, column_idx LIMIT 1;
