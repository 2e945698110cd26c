-- tagwarden history, schema version 2: Cost Explorer answers and the view
-- that names each scanned resource the way Cost Explorer does. Applied by
-- supervisor/store.c inside one transaction that also sets PRAGMA
-- user_version = 2; written and read by supervisor/costdb.c.
--
-- Amounts are integer nano-dollars (USD x 1e9), so that SUM() is exact
-- (SQLite raises "integer overflow" rather than rounding). Nothing here is
-- free text from AWS except the group keys Cost Explorer answers with
-- (resource ids, ARNs, tag values): no error messages, no credentials.

-- One Cost Explorer answer for one linked account, cached for the rest of
-- the UTC day it was fetched on: a second scan that day with the same
-- caller, account, query and window sends no (paid) request.
CREATE TABLE cost_fetches (
	id			INTEGER PRIMARY KEY,
	fetched_at		TEXT NOT NULL
	    DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	day			TEXT NOT NULL CHECK (day GLOB
	    '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
	-- Whose credentials asked (the account itself, or the payer or
	-- delegated administrator of COST_EXPLORER_ACCOUNT_ID).
	caller_account		TEXT NOT NULL CHECK (length(caller_account) = 12
	    AND caller_account NOT GLOB '*[^0-9]*'),
	-- The linked account the lines cover.
	account_id		TEXT NOT NULL CHECK (length(account_id) = 12
	    AND account_id NOT GLOB '*[^0-9]*'),
	-- 'resource': GetCostAndUsageWithResources by RESOURCE_ID, tag_key
	-- NULL; 'tag': GetCostAndUsage by the cost allocation tag tag_key.
	method			TEXT NOT NULL CHECK (method IN ('resource', 'tag')),
	tag_key			TEXT,
	period_start		TEXT NOT NULL,	-- YYYY-MM-DD, inclusive
	period_end		TEXT NOT NULL,	-- YYYY-MM-DD, exclusive
	metric			TEXT NOT NULL,	-- UnblendedCost, AmortizedCost
	-- 'unavailable': DataUnavailableException (resource-level data not
	-- enabled); such a fetch has no lines and is cached like any other.
	status			TEXT NOT NULL CHECK (status IN ('ok',
	    'unavailable')),
	-- Page requests the query made (each billed $0.01); one query can
	-- answer several accounts, and each of their rows repeats its count.
	requests		INTEGER NOT NULL DEFAULT 0 CHECK (requests >= 0),
	CHECK ((method = 'resource' AND tag_key IS NULL) OR
	    (method = 'tag' AND tag_key IS NOT NULL AND tag_key <> ''))
);
-- The cache key. NULLs are distinct in a UNIQUE index, so the resource
-- method's NULL tag_key is indexed as '' (no tag key is empty); lookups
-- use the same expression so that they use this index.
CREATE UNIQUE INDEX cost_fetches_key ON cost_fetches (day, caller_account,
    account_id, method, coalesce(tag_key, ''), period_start, period_end,
    metric);

-- The answer's lines: the amount of one group key over the whole window.
-- key is a RESOURCE_ID (an EC2 or S3 id, an ARN, "NoResourceId") or, for
-- the tag method, the tag value ('' for spend without the tag).
CREATE TABLE cost_lines (
	fetch_id		INTEGER NOT NULL
	    REFERENCES cost_fetches (id) ON DELETE CASCADE,
	key			TEXT NOT NULL,
	amount_nanos		INTEGER NOT NULL
	    CHECK (typeof(amount_nanos) = 'integer'),
	PRIMARY KEY (fetch_id, key)
) WITHOUT ROWID;

-- Every scanned resource with the name Cost Explorer gives it in
-- RESOURCE_ID (the id for ec2:* types and S3 buckets, the ARN for every
-- other type; supervisor/costdb.c costdb_ce_resource_id() says the same)
-- and the two states the cost attribution gap counts. A resource cannot be
-- both: unreadable tags give no violations. Filtered by (scan_id,
-- account_id), the view reads resources by their primary key.
CREATE VIEW cost_resources AS
SELECT r.scan_id, r.account_id, r.region, r.resource_type, r.resource_arn,
    CASE WHEN r.resource_type GLOB 'ec2:*' OR r.resource_type = 's3:bucket'
	THEN r.resource_id ELSE r.resource_arn
    END AS ce_resource_id,
    EXISTS (SELECT 1 FROM violations AS v
	WHERE v.scan_id = r.scan_id AND v.account_id = r.account_id
	AND v.resource_arn = r.resource_arn AND v.severity = 'error')
	AS violating,
    (r.in_scope = 1 AND r.tags IS NULL) AS unreadable
FROM resources AS r;
