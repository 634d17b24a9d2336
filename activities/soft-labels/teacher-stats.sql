-- Over the training pairs: the mean swap gap (NULL when one order only), the worst pairs, and
-- how the teacher's probability scores against the hard label (accuracy, log loss clipped at 1e-15).
SELECT
  avg(gap) AS mean_gap,
  list(pair_id ORDER BY gap DESC, pair_id)[1:3] AS worst_ids,
  list(gap ORDER BY gap DESC, pair_id)[1:3] AS worst_gaps,
  avg(CASE WHEN (p >= 0.5) = (winner = 'model_a') THEN 1 ELSE 0 END) AS accuracy,
  avg(-ln(greatest(CASE WHEN winner = 'model_a' THEN p ELSE 1 - p END, 1e-15))) AS log_loss
FROM teacher_p JOIN train_pairs USING (pair_id);
