-- Rows with a text cut to getvariable('max_text_chars'): per training source, and for the test file (src_idx NULL).
SELECT src_idx, count(*)::INTEGER AS n FROM staged WHERE truncated GROUP BY src_idx
UNION ALL
SELECT NULL, count(*)::INTEGER FROM staged_test WHERE truncated;
