-- Label balance, language counts and conflicting duplicates, as (kind, key, n) rows.
SELECT 'label' AS kind, label AS key, count(*)::INTEGER AS n FROM classified WHERE drop_reason IS NULL GROUP BY ALL
UNION ALL
SELECT 'language', language, count(*)::INTEGER FROM classified WHERE drop_reason IS NULL GROUP BY ALL
UNION ALL
SELECT 'test_language', language, count(*)::INTEGER FROM staged_test GROUP BY ALL
UNION ALL
SELECT 'conflict', 'duplicates_with_conflicting_label', count(*)::INTEGER FROM classified WHERE label_conflict
ORDER BY kind, n DESC, key;
