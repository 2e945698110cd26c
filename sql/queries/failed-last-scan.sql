-- Accounts the latest finished scan could not cover, with the reason.
--   sqlite3 "$HISTORY_DB_PATH" < sql/queries/failed-last-scan.sql
SELECT a.account_id, a.status, coalesce(a.error, '-')
FROM account_results AS a
WHERE a.scan_id = (SELECT max(id) FROM scans WHERE status <> 'running')
    AND a.status <> 'ok'
ORDER BY a.account_id;
