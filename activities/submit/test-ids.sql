-- The ids a submission must cover, in file order.
SELECT id::VARCHAR AS id FROM read_parquet($path)
