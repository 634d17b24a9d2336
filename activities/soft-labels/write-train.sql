-- The student's train.parquet: the split's rows in their order, plus teacher_p, the teachers'
-- weighted mean probability that THIS row's response_a wins (a swapped copy gets 1 - p). The
-- file's key-value metadata says how the trainer weighs the soft labels (distill.alpha and
-- temperature): the student's key covers them through the file's hash, the teachers' keys don't.
COPY (
  SELECT source.* EXCLUDE (file_row_number), CASE WHEN source.swapped THEN 1 - label.p ELSE label.p END AS teacher_p
  FROM read_parquet(getvariable('train_path'), file_row_number = true) AS source
  JOIN (SELECT pair_id, sum(weight * p) / sum(weight) AS p FROM soft GROUP BY pair_id) AS label USING (pair_id)
  ORDER BY source.file_row_number
) TO (getvariable('output_path')) (
  FORMAT parquet, ROW_GROUP_SIZE 16384,
  KV_METADATA { distill_alpha: getvariable('distill_alpha'), distill_temperature: getvariable('distill_temperature') }
);
