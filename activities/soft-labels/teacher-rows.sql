-- An imported teacher file as read, every row numbered from 1 in file order (one thread keeps the order).
CREATE OR REPLACE TABLE teacher_rows AS
SELECT row_number() OVER () AS row_no, * FROM {{reader}};
