-- Training pairs the teacher gives no probability for, and rows it gives beyond the training pairs.
SELECT
  (SELECT count(*) FROM train_pairs)::INTEGER AS pairs,
  (SELECT count(*) FROM train_pairs WHERE pair_id NOT IN (SELECT pair_id FROM teacher_p))::INTEGER AS missing,
  (SELECT list(pair_id ORDER BY pair_id)[1:3] FROM train_pairs WHERE pair_id NOT IN (SELECT pair_id FROM teacher_p)) AS first_missing,
  (SELECT count(*) FROM teacher_p WHERE pair_id NOT IN (SELECT pair_id FROM train_pairs))::INTEGER AS extra;
