-- One split of the augmented table, in a stable order so that shuffles are reproducible.
-- The features placeholder is the list of feature columns as quoted identifiers, each cast to DOUBLE.
SELECT id, pair_id, swapped, winner, prompt, response_a, response_b{{features}}
FROM read_parquet($path)
ORDER BY id
