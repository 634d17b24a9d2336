-- Cosine similarity of the prompt and each response over their bags of character 3-grams
-- (code points, case kept): dot(P, R) / (|P| |R|) with integer gram counts; 0 when either text
-- has fewer than 3 characters. NULL texts count as empty.
WITH grams AS (
  -- A gram is its three code points packed into one BIGINT (21 bits each): exact, and grouping
  -- integers is several times faster than grouping strings. Zipped shifted copies, not cp[i] in a
  -- lambda: a list that a lambda captures is copied for every element.
  SELECT row_idx, field,
    unnest(list_transform(list_zip(cp[1:-3], cp[2:-2], cp[3:-1]), g -> (g[1]::BIGINT << 42) | (g[2]::BIGINT << 21) | g[3])) AS gram
  FROM (
    SELECT row_idx, field, list_transform(string_split(text, ''), ch -> unicode(ch)) AS cp
    FROM texts WHERE length(text) >= 3
  )
),
bag AS (
  SELECT row_idx, field, gram, count(*) AS n FROM grams GROUP BY row_idx, field, gram
),
norms AS (
  SELECT row_idx, field, sqrt(sum(n * n)) AS norm FROM bag GROUP BY row_idx, field
),
dots AS (
  SELECT r.row_idx, r.field, sum(p.n * r.n) AS dot
  FROM bag p JOIN bag r ON r.row_idx = p.row_idx AND r.gram = p.gram
  WHERE p.field = 'prompt' AND r.field <> 'prompt'
  GROUP BY r.row_idx, r.field
)
SELECT t.row_idx, t.field,
  coalesce(d.dot / (pn.norm * rn.norm), 0) AS similarity, -- feature
FROM texts t
LEFT JOIN dots d ON d.row_idx = t.row_idx AND d.field = t.field
LEFT JOIN norms rn ON rn.row_idx = t.row_idx AND rn.field = t.field
LEFT JOIN norms pn ON pn.row_idx = t.row_idx AND pn.field = 'prompt'
WHERE t.field <> 'prompt'
