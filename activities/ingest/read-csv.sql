-- Every dialect option is explicit: the Kaggle CSV quotes with '"' and escapes a quote by doubling
-- it, its first header cell is empty (DuckDB names that column column0), and a text can span lines.
-- {{diagnose}} is empty, or (after a failure) the options that keep the bad lines in reject_errors.
-- The table keeps file order, so rowid is the data row's position in the file.
CREATE OR REPLACE TABLE raw AS
SELECT * FROM read_csv(
  getvariable('source_path'),
  header = true, delim = ',', quote = '"', escape = '"', skip = 0,
  all_varchar = true, strict_mode = true, null_padding = false,
  max_line_size = {{max_line_size}}, buffer_size = 67108864,
  encoding = {{encoding}}{{diagnose}}
);
