-- Rows of the file just read.
SELECT count(*) AS n FROM raw;
