-- Kept training rows per source and language, and test rows per language (src_idx NULL), each with
-- how many of their labels were detected rather than given by the file.
SELECT src_idx, language, count(*)::INTEGER AS n, (count(*) FILTER (WHERE language_detected))::INTEGER AS detected
FROM classified WHERE drop_reason IS NULL GROUP BY ALL
UNION ALL
SELECT NULL, language, count(*)::INTEGER, (count(*) FILTER (WHERE language_detected))::INTEGER FROM staged_test GROUP BY ALL
ORDER BY src_idx NULLS LAST, n DESC, language;
