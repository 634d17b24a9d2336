-- The table keeps file order, so rowid is the row's position in the file.
CREATE OR REPLACE TABLE raw AS SELECT * FROM read_parquet(getvariable('source_path'));
