-- The ids a submission must cover, in file order.
SELECT id FROM read_parquet($path)
