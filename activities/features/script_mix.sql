-- Script mix of each text: the share of its letters (\p{L}) in each writing system of WSDM's main
-- languages (Latin; Cyrillic; Han for Chinese; kana for Japanese; Hangul; Arabic for Arabic and
-- Persian); `other` is the rest (Devanagari, Thai, Hebrew, …). A text without letters has 0 everywhere.
-- Over the text's first 1,000 characters, the head its language label reads (text-languages.ts):
-- a regular expression per script over whole texts would take minutes at 57,000 rows. Runs of
-- characters are removed at once (`+`): many times faster than one match per character.
WITH head AS (
  SELECT row_idx, field, left(coalesce(text, ''), 1000) AS text FROM texts
),
-- A character counts for a script when it is a letter of it (not its digits or punctuation).
shares AS (
  SELECT row_idx, field,
    length(regexp_replace(text, '\PL+', '', 'g')) AS n,
    length(regexp_replace(text, '(\PL|\P{Latin})+', '', 'g')) AS latin,
    length(regexp_replace(text, '(\PL|\P{Cyrillic})+', '', 'g')) AS cyrillic,
    length(regexp_replace(text, '(\PL|\P{Han})+', '', 'g')) AS han,
    length(regexp_replace(text, '(\PL|[^\p{Hiragana}\p{Katakana}])+', '', 'g')) AS kana,
    length(regexp_replace(text, '(\PL|\P{Hangul})+', '', 'g')) AS hangul,
    length(regexp_replace(text, '(\PL|\P{Arabic})+', '', 'g')) AS arabic
  FROM head
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
