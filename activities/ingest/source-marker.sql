-- The key-value metadata that generateSynthetic writes into its parquet files.
SELECT decode(value) AS value FROM parquet_kv_metadata(getvariable('source_path')) WHERE decode(key) = 'arena_source';
