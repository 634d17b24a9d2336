-- AFINN-165 polarity of each response: the `sentiment` npm package's `comparative` score, its
-- algorithm in SQL over its own lexicon and negators (loaded by sentiment-lexicon.ts). Tokens: the
-- lower-cased text with \n and .,/#!?$%^&*;:{}=_`"~() made spaces, runs of 2+ JavaScript
-- whitespace made one space, trimmed, split on ' '. A lexicon word right after a negator counts
-- negated; the score is divided by the token count (an empty text has one empty token: 0).
-- AFINN is English: only a response text-languages.ts labels English gets a score (sentiment_scored
-- 1); any other has none, given as 0 with sentiment_scored 0 (the trainers take no NULL features).
WITH tokenized AS (
  SELECT row_idx, field, string_split(
      regexp_replace(
        regexp_replace(
          regexp_replace(lower(coalesce(text, '')), '[\n.,/#!?$%^&*;:{}=_`"~()]', ' ', 'g'),
          '[\t\n\x0B\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]{2,}', ' ', 'g'),
        '^[\t\n\x0B\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]+|[\t\n\x0B\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]+$', '', 'g'),
      ' ') AS words
  FROM texts
  WHERE field <> 'prompt'
),
tokens AS (
  SELECT row_idx, field, unnest(words) AS word, unnest(list_prepend(NULL::VARCHAR, words)) AS previous FROM tokenized
),
scores AS (
  SELECT k.row_idx, k.field,
    sum(CASE WHEN k.previous IN (SELECT word FROM sentiment_negators) THEN -l.score ELSE l.score END) AS score
  FROM tokens k JOIN sentiment_lexicon l ON l.word = k.word
  GROUP BY k.row_idx, k.field
)
SELECT t.row_idx, t.field,
  CASE WHEN l.language = 'English' THEN coalesce(s.score, 0) / len(t.words) ELSE 0 END AS sentiment, -- feature: signed
  (l.language = 'English')::DOUBLE AS sentiment_scored, -- feature
FROM tokenized t
JOIN text_languages l ON l.row_idx = t.row_idx AND l.field = t.field
LEFT JOIN scores s ON s.row_idx = t.row_idx AND s.field = t.field
