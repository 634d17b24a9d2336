-- Rows of a teacher's training data whose pair it also predicted (fold getvariable('fold')):
-- the prediction would not be out of fold. A swapped copy counts, it is the same judgement.
SELECT count(*)::INTEGER AS n, list(CAST(t.id AS VARCHAR) ORDER BY t.id)[1:3] AS first
FROM read_parquet(getvariable('teacher_train')) AS t
WHERE t.pair_id IN (
  SELECT s.pair_id FROM predicted AS p JOIN split_rows AS s USING (id) WHERE p.fold = getvariable('fold')
);
