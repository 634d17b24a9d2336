-- oof.parquet: every training row of the split, in its order, with its out-of-fold prediction.
COPY (
  SELECT s.id, s.pair_id, s.swapped, p.p_model_a, p.fold
  FROM split_rows AS s JOIN predicted AS p USING (id)
  ORDER BY s.file_row_number
) TO (getvariable('output_path')) (FORMAT parquet);
