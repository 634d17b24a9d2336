SELECT src_idx, coalesce(drop_reason, 'kept') AS outcome, count(*)::INTEGER AS n
FROM classified GROUP BY ALL ORDER BY ALL;
