-- tagwarden history, schema version 1. Applied by supervisor/store.c inside
-- one transaction that also sets PRAGMA user_version = 1; later changes are
-- new files (002-*.sql), never edits of this one.
--
-- Times are ISO 8601 UTC text, "YYYY-MM-DDTHH:MM:SSZ": fixed width, so
-- text order is time order, and sqlite's date functions read them.
-- There is no column for credentials: nothing here can hold a key, a secret
-- or a session token, and store.c scrubs credential-shaped text from every
-- free-text value it writes.

-- One row per scan request (CLI run or MCP tool call).
CREATE TABLE scans (
	id			INTEGER PRIMARY KEY,
	started_at		TEXT NOT NULL,
	finished_at		TEXT,		-- NULL: still running, or killed
	status			TEXT NOT NULL DEFAULT 'running'
	    CHECK (status IN ('running', 'complete', 'partial', 'failed',
	    'cancelled')),
	multi_account		INTEGER NOT NULL CHECK (multi_account IN (0, 1)),
	requested_accounts	TEXT NOT NULL,	-- JSON array; [] = local account
	requested_regions	TEXT,		-- JSON array; NULL = every enabled
	requested_types		TEXT NOT NULL,	-- JSON array
	policy_hash		TEXT NOT NULL,
	cost_collected		INTEGER NOT NULL DEFAULT 0
	    CHECK (cost_collected IN (0, 1)),
	accounts_total		INTEGER NOT NULL DEFAULT 0,
	accounts_ok		INTEGER NOT NULL DEFAULT 0,
	total_resources		INTEGER NOT NULL DEFAULT 0,
	compliant_resources	INTEGER NOT NULL DEFAULT 0,
	violation_count		INTEGER NOT NULL DEFAULT 0,
	error			TEXT		-- why the whole scan failed
);

-- One row per account of a scan, written with that account's regions,
-- resources and violations in one transaction when its job is final.
-- Counts cover in-scope resources whose tags could be read.
CREATE TABLE account_results (
	scan_id			INTEGER NOT NULL
	    REFERENCES scans (id) ON DELETE CASCADE,
	account_id		TEXT NOT NULL CHECK (length(account_id) = 12
	    AND account_id NOT GLOB '*[^0-9]*'),
	status			TEXT NOT NULL CHECK (status IN ('ok', 'failed',
	    'timeout', 'skipped', 'cancelled')),
	error			TEXT,
	started_at		TEXT NOT NULL,
	finished_at		TEXT NOT NULL,
	duration_ms		INTEGER NOT NULL DEFAULT 0,
	account_alias		TEXT,
	total_resources		INTEGER NOT NULL DEFAULT 0,
	compliant_resources	INTEGER NOT NULL DEFAULT 0,
	violation_count		INTEGER NOT NULL DEFAULT 0,
	unreadable_resources	INTEGER NOT NULL DEFAULT 0,
	assumed_role_arn	TEXT,		-- NULL: the local account
	-- The result cache: an ok row with from_cache = 0 is reused for the
	-- same account and cache_key (regions, types, policy hash) within
	-- CACHE_TTL_SECONDS; a reuse is copied into the new scan with
	-- from_cache = 1 and cache_scan_id naming the scan it came from.
	cache_key		TEXT NOT NULL,
	from_cache		INTEGER NOT NULL DEFAULT 0
	    CHECK (from_cache IN (0, 1)),
	cache_scan_id		INTEGER REFERENCES scans (id) ON DELETE SET NULL,
	PRIMARY KEY (scan_id, account_id)
);
CREATE INDEX account_results_latest
    ON account_results (account_id, status, scan_id);
CREATE INDEX account_results_cache
    ON account_results (account_id, cache_key, finished_at)
    WHERE status = 'ok' AND from_cache = 0;
CREATE INDEX account_results_day ON account_results (finished_at);

CREATE TABLE region_results (
	scan_id			INTEGER NOT NULL,
	account_id		TEXT NOT NULL,
	region			TEXT NOT NULL,
	status			TEXT NOT NULL
	    CHECK (status IN ('ok', 'failed', 'skipped')),
	error			TEXT,
	aws_code		TEXT,
	resources		INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (scan_id, account_id, region),
	FOREIGN KEY (scan_id, account_id)
	    REFERENCES account_results (scan_id, account_id) ON DELETE CASCADE
);

-- Per-resource state of an ok account, kept for drift detection.
CREATE TABLE resources (
	scan_id			INTEGER NOT NULL,
	account_id		TEXT NOT NULL,
	region			TEXT NOT NULL,
	resource_arn		TEXT NOT NULL,
	resource_type		TEXT NOT NULL,
	resource_id		TEXT NOT NULL,
	tags			TEXT,		-- JSON object; NULL: unreadable
	tags_error		TEXT,		-- why the tags could not be read
	compliant		INTEGER NOT NULL CHECK (compliant IN (0, 1)),
	in_scope		INTEGER NOT NULL CHECK (in_scope IN (0, 1)),
	created_at		TEXT,
	state			TEXT,
	PRIMARY KEY (scan_id, account_id, resource_arn),
	FOREIGN KEY (scan_id, account_id)
	    REFERENCES account_results (scan_id, account_id) ON DELETE CASCADE
);
CREATE INDEX resources_arn ON resources (account_id, resource_arn, scan_id);
CREATE INDEX resources_type ON resources (scan_id, resource_type);

CREATE TABLE violations (
	id			INTEGER PRIMARY KEY,
	scan_id			INTEGER NOT NULL,
	account_id		TEXT NOT NULL,
	region			TEXT NOT NULL,
	resource_arn		TEXT NOT NULL,
	resource_type		TEXT NOT NULL,
	tag_name		TEXT NOT NULL,
	violation_type		TEXT NOT NULL CHECK (violation_type IN
	    ('missing_required_tag', 'invalid_value', 'invalid_format')),
	severity		TEXT NOT NULL
	    CHECK (severity IN ('error', 'warning')),
	current_value		TEXT,
	allowed_values		TEXT,		-- JSON array or NULL
	message			TEXT NOT NULL,
	FOREIGN KEY (scan_id, account_id, resource_arn)
	    REFERENCES resources (scan_id, account_id, resource_arn)
	    ON DELETE CASCADE
);
CREATE INDEX violations_resource
    ON violations (scan_id, account_id, resource_arn);
CREATE INDEX violations_account ON violations (account_id, scan_id);

-- The latest successful result of every account ever scanned.
CREATE VIEW latest_account_scores AS
SELECT a.account_id, a.account_alias, a.scan_id, a.finished_at,
    a.total_resources, a.compliant_resources, a.violation_count,
    CASE WHEN a.total_resources = 0 THEN 1.0
	ELSE 1.0 * a.compliant_resources / a.total_resources
    END AS compliance_score
FROM account_results AS a
WHERE a.status = 'ok' AND a.scan_id = (
    SELECT max(b.scan_id) FROM account_results AS b
    WHERE b.account_id = a.account_id AND b.status = 'ok');

-- Per UTC day: the last successful result of each account that day, summed.
-- Taking one result per account and day keeps repeated scans from counting
-- the same resources twice.
CREATE VIEW daily_compliance_trend AS
WITH last_of_day AS (
    SELECT date(finished_at) AS day, account_id, total_resources,
	compliant_resources, violation_count,
	row_number() OVER (PARTITION BY date(finished_at), account_id
	    ORDER BY finished_at DESC, scan_id DESC) AS n
    FROM account_results WHERE status = 'ok')
SELECT day, count(*) AS accounts, sum(total_resources) AS resources,
    sum(compliant_resources) AS compliant, sum(violation_count) AS violations,
    CASE WHEN sum(total_resources) = 0 THEN 1.0
	ELSE 1.0 * sum(compliant_resources) / sum(total_resources)
    END AS compliance_score
FROM last_of_day WHERE n = 1
GROUP BY day;

-- Non-compliance by resource type over the latest scan that has a
-- successful account, worst first. Out-of-scope resources and resources
-- whose tags could not be read are not counted, as in the scores.
CREATE VIEW worst_resource_types AS
SELECT r.scan_id, r.resource_type, count(*) AS resources,
    sum(r.compliant) AS compliant,
    count(*) - sum(r.compliant) AS noncompliant,
    1.0 * (count(*) - sum(r.compliant)) / count(*) AS noncompliance_rate,
    (SELECT count(*) FROM violations AS v
	WHERE v.scan_id = r.scan_id
	AND v.resource_type = r.resource_type) AS violations
FROM resources AS r
WHERE r.scan_id = (SELECT max(scan_id) FROM account_results
	WHERE status = 'ok')
    AND r.in_scope = 1 AND r.tags IS NOT NULL
GROUP BY r.scan_id, r.resource_type
ORDER BY noncompliant DESC, noncompliance_rate DESC, r.resource_type;
