-- Gives every training row its drop reason (NULL: kept). Invalid rows go first; among the rest a
-- duplicate is the same prompt with the same two responses in either order, and the first by
-- (source order, file order) is kept.
CREATE OR REPLACE TABLE classified AS
WITH checked AS (
  SELECT *,
    CASE
      WHEN label = 'tie' THEN 'tie'
      WHEN label IS NULL THEN 'missing_label'
      WHEN is_blank(prompt) THEN 'empty_prompt'
      WHEN is_blank(response_a) OR is_blank(response_b) THEN 'empty_response'
    END AS invalid_reason
  FROM staged
),
ranked AS (
  SELECT *,
    row_number() OVER same_pair AS duplicate_rank,
    first_value(src_idx) OVER same_pair AS first_src_idx,
    first_value(response_a) OVER same_pair AS first_response_a,
    first_value(label) OVER same_pair AS first_label
  FROM checked
  WHERE invalid_reason IS NULL
  WINDOW same_pair AS (
    PARTITION BY prompt, least(response_a, response_b), greatest(response_a, response_b)
    ORDER BY src_idx, row_no
  )
)
SELECT * EXCLUDE (invalid_reason), invalid_reason AS drop_reason, false AS label_conflict
FROM checked WHERE invalid_reason IS NOT NULL
UNION ALL
SELECT
  * EXCLUDE (invalid_reason, duplicate_rank, first_src_idx, first_response_a, first_label),
  CASE
    WHEN duplicate_rank = 1 THEN NULL
    WHEN response_a <> first_response_a THEN 'duplicate_swapped'
    WHEN src_idx = first_src_idx THEN 'duplicate_within_source'
    ELSE 'duplicate_across_sources'
  END,
  -- a kept row and its duplicate disagree when the same orientation has another winner, or the swapped one the same
  duplicate_rank > 1 AND ((response_a = first_response_a) <> (label = first_label))
FROM ranked;
