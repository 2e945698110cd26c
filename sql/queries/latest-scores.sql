-- The latest successful score of every account, worst first.
--   sqlite3 "$HISTORY_DB_PATH" < sql/queries/latest-scores.sql
SELECT account_id, coalesce(account_alias, '-'), total_resources,
    compliant_resources, violation_count,
    printf('%.4f', compliance_score), finished_at
FROM latest_account_scores
ORDER BY compliance_score, account_id;
