-- Daily compliance over the last 30 days (UTC): accounts, resources,
-- compliant resources, violations and the score of each day.
--   sqlite3 "$HISTORY_DB_PATH" < sql/queries/trend-30-days.sql
SELECT day, accounts, resources, compliant, violations,
    printf('%.4f', compliance_score)
FROM daily_compliance_trend
WHERE day >= date('now', '-30 days')
ORDER BY day;
