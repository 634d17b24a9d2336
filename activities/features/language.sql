-- Language-aware features of each response, over text_languages (text-languages.ts: every text's
-- WSDM-convention language label). A judge who asked in one language mostly wants the answer in it.
-- in_prompt_language: the response has the prompt's language (1) or not (0); "unknown" matches nothing.
SELECT t.row_idx, t.field,
  (r.language = p.language AND r.language <> 'unknown')::DOUBLE AS in_prompt_language, -- feature
FROM texts t
JOIN text_languages r ON r.row_idx = t.row_idx AND r.field = t.field
JOIN text_languages p ON p.row_idx = t.row_idx AND p.field = 'prompt'
