-- The resource-level cost attribution gap of every account: its latest
-- successful scan joined with its latest resource-level Cost Explorer
-- answer, in USD over that answer's window (tagwarden's own output also
-- scales it to the requested period): window, gap (violating + unreadable),
-- violating, unreadable and every line's total, largest gap first.
--   sqlite3 "$HISTORY_DB_PATH" < sql/queries/cost-latest-gap.sql
WITH latest_fetch AS (
    SELECT account_id, max(id) AS id FROM cost_fetches
    WHERE method = 'resource' AND status = 'ok' GROUP BY account_id),
gap AS (
    SELECT s.account_id, f.id AS fetch_id,
	coalesce(sum(CASE WHEN c.violating THEN l.amount_nanos END), 0)
	    AS violating,
	coalesce(sum(CASE WHEN c.unreadable THEN l.amount_nanos END), 0)
	    AS unreadable
    FROM latest_account_scores AS s
    JOIN latest_fetch AS f ON f.account_id = s.account_id
    JOIN cost_resources AS c
	ON c.scan_id = s.scan_id AND c.account_id = s.account_id
    LEFT JOIN cost_lines AS l
	ON l.fetch_id = f.id AND l.key = c.ce_resource_id
    GROUP BY s.account_id, f.id)
SELECT g.account_id, cf.period_start || '..' || cf.period_end,
    printf('%.2f', (g.violating + g.unreadable) / 1e9),
    printf('%.2f', g.violating / 1e9), printf('%.2f', g.unreadable / 1e9),
    printf('%.2f', (SELECT coalesce(sum(amount_nanos), 0) FROM cost_lines
	WHERE fetch_id = g.fetch_id) / 1e9)
FROM gap AS g JOIN cost_fetches AS cf ON cf.id = g.fetch_id
ORDER BY g.violating + g.unreadable DESC, g.account_id;
