-- The 20 costliest resources in the gap: from each account's latest
-- successful scan and latest resource-level Cost Explorer answer, those
-- with an error-severity violation (and the keys it is on) or unreadable
-- tags, with their USD over the answer's window, costliest first.
--   sqlite3 "$HISTORY_DB_PATH" < sql/queries/cost-top-resources.sql
WITH latest_fetch AS (
    SELECT account_id, max(id) AS id FROM cost_fetches
    WHERE method = 'resource' AND status = 'ok' GROUP BY account_id)
SELECT c.account_id, c.region, c.resource_type, c.resource_arn,
    CASE WHEN c.violating THEN 'violating' ELSE 'unreadable' END,
    coalesce((SELECT group_concat(tag_name, ',') FROM (
	SELECT DISTINCT v.tag_name FROM violations AS v
	WHERE v.scan_id = c.scan_id AND v.account_id = c.account_id
	AND v.resource_arn = c.resource_arn AND v.severity = 'error'
	ORDER BY v.tag_name)), '-'),
    printf('%.2f', l.amount_nanos / 1e9)
FROM latest_account_scores AS s
JOIN latest_fetch AS f ON f.account_id = s.account_id
JOIN cost_resources AS c
    ON c.scan_id = s.scan_id AND c.account_id = s.account_id
JOIN cost_lines AS l ON l.fetch_id = f.id AND l.key = c.ce_resource_id
WHERE c.violating OR c.unreadable
ORDER BY l.amount_nanos DESC, c.account_id, c.resource_arn
LIMIT 20;
