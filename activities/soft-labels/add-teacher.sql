-- The teacher's probability of every training pair, with its weight.
INSERT INTO soft
SELECT pair_id, getvariable('teacher_name'), getvariable('teacher_weight'), p
FROM teacher_p JOIN train_pairs USING (pair_id);
