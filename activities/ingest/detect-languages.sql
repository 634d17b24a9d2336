-- Gives the rows of {{target}} that had no language the label detect-languages.ts found for their
-- first user turn (table detected_language), and drops the turns, needed no more.
UPDATE {{target}} t SET language = d.language, language_detected = true, first_turn = NULL
FROM detected_language d
WHERE t.src_idx = d.src_idx AND t.row_no = d.row_no;
