-- Cosine similarity of the prompt and each response over their bags of character 3-grams
-- (code points, case kept): dot(P, R) / (|P| |R|) with integer gram counts; 0 when either text
-- has fewer than 3 characters. NULL texts count as empty. Computed with the counts on the worker
-- threads of text-measure-pool.ts (trigram-similarity.ts): grouping the grams in SQL took 3.6 s per
-- 10,000 rows, the hash table there about 0.5 s on one thread (bench/features.ts).
SELECT row_idx, field,
  c.similarity AS similarity, -- feature
FROM text_measures c
WHERE field <> 'prompt'
