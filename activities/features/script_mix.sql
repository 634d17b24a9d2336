-- Script mix of each text: the share of its letters (\p{L}) in each writing system of WSDM's main
-- languages (Latin; Cyrillic; Han for Chinese; kana for Japanese; Hangul; Arabic for Arabic and
-- Persian); `other` is the rest (Devanagari, Thai, Hebrew, …). A text without letters has 0 everywhere.
WITH letters AS (
  SELECT row_idx, field, coalesce(text, '') AS text,
    length(regexp_replace(coalesce(text, ''), '\PL', '', 'g')) AS n
  FROM texts
),
-- A character counts for a script when it is a letter of it (not its digits or punctuation).
shares AS (
  SELECT row_idx, field, n,
    length(regexp_replace(text, '\PL|\P{Latin}', '', 'g')) AS latin,
    length(regexp_replace(text, '\PL|\P{Cyrillic}', '', 'g')) AS cyrillic,
    length(regexp_replace(text, '\PL|\P{Han}', '', 'g')) AS han,
    length(regexp_replace(text, '\PL|[^\p{Hiragana}\p{Katakana}]', '', 'g')) AS kana,
    length(regexp_replace(text, '\PL|\P{Hangul}', '', 'g')) AS hangul,
    length(regexp_replace(text, '\PL|\P{Arabic}', '', 'g')) AS arabic
  FROM letters
)
SELECT row_idx, field,
  latin / greatest(n, 1)    AS script_latin, -- feature
  cyrillic / greatest(n, 1) AS script_cyrillic, -- feature
  han / greatest(n, 1)      AS script_han, -- feature
  kana / greatest(n, 1)     AS script_kana, -- feature
  hangul / greatest(n, 1)   AS script_hangul, -- feature
  arabic / greatest(n, 1)   AS script_arabic, -- feature
  greatest(n - latin - cyrillic - han - kana - hangul - arabic, 0) / greatest(n, 1) AS script_other, -- feature
FROM shares
