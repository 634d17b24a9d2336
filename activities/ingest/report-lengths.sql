-- Text lengths in characters (code points) of the kept rows; both responses pool into one distribution.
WITH kept AS (SELECT prompt, response_a, response_b FROM classified WHERE drop_reason IS NULL)
SELECT
  (SELECT quantile_disc(length(prompt), [0.5, 0.9, 0.99]) FROM kept) AS prompt,
  (SELECT quantile_disc(n, [0.5, 0.9, 0.99])
   FROM (SELECT length(response_a) AS n FROM kept UNION ALL SELECT length(response_b) FROM kept)) AS response;
