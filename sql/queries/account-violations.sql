-- Every violation of one account in its latest successful scan.
--   sqlite3 -cmd ".param set :account_id '111111111111'" \
--       "$HISTORY_DB_PATH" < sql/queries/account-violations.sql
SELECT v.region, v.resource_arn, v.tag_name, v.violation_type, v.severity,
    coalesce(v.current_value, '-')
FROM violations AS v
WHERE v.account_id = :account_id
    AND v.scan_id = (SELECT scan_id FROM latest_account_scores
	WHERE account_id = :account_id)
ORDER BY v.region, v.resource_arn, v.tag_name;
