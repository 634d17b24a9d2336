-- The first kept training row whose id an earlier kept row already has (ids are keys downstream).
SELECT src_idx, row_no, id, first_src_idx, first_row_no FROM (
  SELECT src_idx, row_no, id,
    first_value(src_idx) OVER same_id AS first_src_idx,
    first_value(row_no) OVER same_id AS first_row_no,
    row_number() OVER same_id AS id_rank
  FROM classified
  WHERE drop_reason IS NULL
  WINDOW same_id AS (PARTITION BY id ORDER BY src_idx, row_no)
)
WHERE id_rank > 1
ORDER BY src_idx, row_no
LIMIT 1;
