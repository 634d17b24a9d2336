-- The reference project's 19 features of one text (prompt, response_a or response_b), over the
-- Python-`re` counts of text-counts.ts (the `text_measures` view of measure-texts.ts). NULL texts
-- count as empty. Ratios to the length are 0 for an empty text instead of the reference's NaN.
-- One feature per line, tagged `-- feature`; `-- feature: signed` marks one that can be negative.
SELECT row_idx, field,
  c.chars                           AS len, -- feature
  c.spaces                          AS spaces, -- feature
  c.punct                           AS punct, -- feature
  c.question                        AS question, -- feature
  c.quotes                          AS quot, -- feature
  c.formatting                      AS formatting_chars, -- feature
  c.math                            AS math_chars, -- feature
  c.curly_open                      AS curly_open, -- feature
  c.curly_close                     AS curly_close, -- feature
  c.round_open                      AS round_open, -- feature
  c.round_close                     AS round_close, -- feature
  c.nonword                         AS special_chars, -- feature
  c.digits                          AS digits, -- feature
  c.lower / greatest(c.chars, 1)    AS lower, -- feature
  c.upper / greatest(c.chars, 1)    AS upper, -- feature
  c.cjk_runs / greatest(c.chars, 1) AS chinese, -- feature
  c.round_open - c.round_close      AS round_balance, -- feature: signed
  c.curly_open - c.curly_close      AS curly_balance, -- feature: signed
  c.json                            AS json, -- feature
FROM text_measures c
