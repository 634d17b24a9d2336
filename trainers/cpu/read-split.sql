-- One split of the augmented table, in a stable order so that shuffles are reproducible.
-- The features placeholder is the list of feature columns as quoted identifiers, each cast to DOUBLE;
-- the teacher placeholder is `, teacher_p` when the split has soft labels, else empty.
SELECT id, pair_id, swapped, winner, prompt, response_a, response_b{{teacher}}{{features}}
FROM read_parquet($path)
ORDER BY id
