/*
 * costdb: the 002 migration of a version-1 history, the Cost Explorer cache
 * (round trip, every part of the key, replacement, unavailable answers,
 * line order, rollback), the gap computed on hand-built scan rows whose
 * sums are worked out in comments, Cost Explorer's resource names, the
 * overflow and error paths, and the sql/queries/cost-*.sql files run with
 * the sqlite3 shell.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>

#include "ce.h"
#include "costdb.h"
#include "dbfixture.h"
#include "errbuf.h"
#include "store.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define ACCT_A	"111111111111"
#define ACCT_B	"222222222222"
#define PAYER	"999999999999"
#define ARN_I1	"arn:aws:ec2:us-east-1:" ACCT_A ":instance/i-1"
#define ARN_V2	"arn:aws:ec2:us-west-2:" ACCT_A ":volume/vol-2"
#define ARN_B3	"arn:aws:s3:::logs-b"
#define ARN_D4	"arn:aws:rds:us-east-1:" ACCT_A ":db:db4"
#define ARN_F5	"arn:aws:lambda:us-east-1:" ACCT_A ":function:f5"
#define ARN_I6	"arn:aws:ec2:us-east-1:" ACCT_A ":instance/i-6"
#define ARN_I7	"arn:aws:ec2:ap-south-1:" ACCT_A ":instance/i-7"
#define ARN_C8	"arn:aws:ecs:us-east-1:" ACCT_A ":cluster/c8"
#define ARN_OLD	"arn:aws:ec2:us-east-1:" ACCT_A ":instance/i-old"
#define ARN_VB	"arn:aws:ec2:us-east-1:" ACCT_B ":volume/vol-b"

/* The text of sql/001-initial.sql, from the generated sql/schema.c. */
extern const char store_sql_001_initial[];

static int
setup(void **state)
{
	return db_fixture_setup(state, "test-costdb", "history.db");
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* The resource-level key of ACCT_A asked by itself; tests vary copies. */
static const struct costdb_key key_a = {
	.day = "2026-11-25", .caller_account = ACCT_A, .account_id = ACCT_A,
	.tag_key = NULL, .start = "2026-11-11", .end = "2026-11-25",
	.metric = CE_METRIC_UNBLENDED,
};

static int64_t
put_ok(struct store *st, const struct costdb_key *k,
    enum costdb_status status, unsigned requests, struct ce_line *v,
    size_t count)
{
	struct ce_lines lines = { .v = v, .count = count };
	struct errbuf err;
	int64_t id = -1;

	if (costdb_put(st, k, status, requests, &lines, &id, &err) == -1)
		fail_msg("costdb_put: %s", err.msg);
	assert_true(id > 0);
	return id;
}

static int
find(struct store *st, const struct costdb_key *k, int64_t *id,
    enum costdb_status *status)
{
	struct errbuf err;
	int rv;

	rv = costdb_find(st, k, id, status, &err);
	if (rv == -1)
		fail_msg("costdb_find: %s", err.msg);
	return rv;
}

static void
test_costdb_migrates_version_1(void **state)
{
	struct db_fixture *f = *state;
	struct ce_line v[] = { { ACCT_A, "i-1", 5 } };
	struct store *st;
	enum costdb_status status;
	int64_t id;
	sqlite3 *db;

	/* A history written by a tagwarden that knew only 001. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	exec_ok(db, store_sql_001_initial);
	exec_ok(db, "PRAGMA user_version = 1; INSERT INTO scans (started_at, "
	    "multi_account, requested_accounts, requested_types, policy_hash) "
	    "VALUES ('2026-11-01T00:00:00Z', 0, '[]', '[]', 'h')");
	sqlite3_close(db);

	st = db_open(f->path);
	db = store_sqlite(st);
	assert_int_equal(store_schema_version(), 2);
	assert_int_equal(db_int(db, "PRAGMA user_version"), 2);
	/* The old rows survive; 002's tables, index and view exist. */
	assert_int_equal(db_int(db, "SELECT count(*) FROM scans"), 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name IN ('cost_fetches', 'cost_lines', 'cost_fetches_key', "
	    "'cost_resources')"), 4);
	id = put_ok(st, &key_a, COSTDB_OK, 1, v, nitems(v));
	store_close(st);
	/* Re-opened: no second migration (it would fail on CREATE TABLE). */
	st = db_open(f->path);
	assert_int_equal(find(st, &key_a, &(int64_t){ 0 }, &status), 1);
	assert_int_equal(db_int(store_sqlite(st), "SELECT count(*) FROM "
	    "cost_fetches"), 1);
	assert_true(id > 0);
	store_close(st);
}

static void
test_costdb_put_find(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	/* The other account's line is not this fetch's. */
	struct ce_line v[] = {
		{ ACCT_A, "i-1", 1500000000 },
		{ ACCT_B, "i-9", 7 },
		{ ACCT_A, ARN_D4, -2000000000 },
	};
	enum costdb_status status = COSTDB_UNAVAILABLE;
	sqlite3 *db = store_sqlite(st);
	int64_t id, got = 0;

	assert_int_equal(find(st, &key_a, &got, &status), 0);
	id = put_ok(st, &key_a, COSTDB_OK, 3, v, nitems(v));
	assert_int_equal(find(st, &key_a, &got, &status), 1);
	assert_int_equal(got, id);
	assert_int_equal(status, COSTDB_OK);
	assert_int_equal(db_int(db, "SELECT count(*) FROM cost_lines"), 2);
	/* 1500000000 - 2000000000 */
	assert_int_equal(db_int(db, "SELECT sum(amount_nanos) FROM cost_lines"),
	    -500000000);
	assert_int_equal(db_int(db, "SELECT requests = 3 AND method = "
	    "'resource' AND tag_key IS NULL AND status = 'ok' AND fetched_at "
	    "GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
	    "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z' FROM cost_fetches"), 1);
	store_close(st);
}

static void
test_costdb_find_misses(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct costdb_key k, tag = key_a;
	enum costdb_status status;
	int64_t id;
	size_t i;

	tag.tag_key = "Owner";
	put_ok(st, &key_a, COSTDB_OK, 1, NULL, 0);
	put_ok(st, &tag, COSTDB_OK, 1, NULL, 0);
	for (i = 0; i < 8; i++) {
		k = key_a;
		switch (i) {
		case 0: k.day = "2026-11-26"; break;
		case 1: k.caller_account = PAYER; break;
		case 2: k.account_id = ACCT_B; break;
		case 3: k.tag_key = "CostCenter"; break;
		case 4: k.start = "2026-11-10"; break;
		case 5: k.end = "2026-11-24"; break;
		case 6: k.metric = CE_METRIC_AMORTIZED; break;
		/* The tag method's key is not the resource method's. */
		case 7: k.tag_key = ""; break;
		}
		if (find(st, &k, &id, &status) != 0)
			fail_msg("key variant %zu found a fetch", i);
	}
	assert_int_equal(find(st, &tag, &id, &status), 1);
	assert_int_equal(db_int(store_sqlite(st), "SELECT count(*) FROM "
	    "cost_fetches"), 2);
	store_close(st);
}

static void
test_costdb_put_replaces(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct ce_line v1[] = { { ACCT_A, "i-1", 10 }, { ACCT_A, "i-2", 20 } };
	struct ce_line v2[] = { { ACCT_A, "i-3", 30 } };
	struct costdb_key other = key_a;
	enum costdb_status status;
	sqlite3 *db = store_sqlite(st);
	int64_t id, got;

	other.day = "2026-11-24";
	put_ok(st, &other, COSTDB_OK, 1, v1, nitems(v1));
	put_ok(st, &key_a, COSTDB_OK, 1, v1, nitems(v1));
	id = put_ok(st, &key_a, COSTDB_OK, 2, v2, nitems(v2));
	assert_int_equal(find(st, &key_a, &got, &status), 1);
	assert_int_equal(got, id);
	/* other's fetch and 2 lines, key_a's new fetch and 1 line. */
	assert_int_equal(db_int(db, "SELECT count(*) FROM cost_fetches"), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM cost_lines"), 3);
	assert_int_equal(db_int(db, "SELECT count(*) FROM cost_lines WHERE "
	    "fetch_id NOT IN (SELECT id FROM cost_fetches)"), 0);
	assert_int_equal(db_int(db, "SELECT requests FROM cost_fetches WHERE "
	    "day = '2026-11-25'"), 2);
	store_close(st);
}

static void
test_costdb_unavailable(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct ce_line v[] = { { ACCT_A, "i-1", 10 } };
	enum costdb_status status = COSTDB_OK;
	struct costdb_gap g;
	struct errbuf err;
	int64_t id, got;

	id = put_ok(st, &key_a, COSTDB_UNAVAILABLE, 1, v, nitems(v));
	assert_int_equal(find(st, &key_a, &got, &status), 1);
	assert_int_equal(got, id);
	assert_int_equal(status, COSTDB_UNAVAILABLE);
	assert_int_equal(db_int(store_sqlite(st), "SELECT count(*) FROM "
	    "cost_lines"), 0);
	/* No lines, no resources: every figure 0, every breakdown empty. */
	if (costdb_resource_gap(st, 1, ACCT_A, id, &g, &err) == -1)
		fail_msg("costdb_resource_gap: %s", err.msg);
	assert_true(g.violating == 0 && g.unreadable == 0 && g.matched == 0 &&
	    g.total == 0);
	assert_int_equal(json_object_size(g.by_region) +
	    json_object_size(g.by_type) + json_object_size(g.by_tag_key), 0);
	costdb_gap_clear(&g);
	store_close(st);
}

struct collected {
	char	 keys[8][64];
	int64_t	 nanos[8];
	size_t	 n, stop_at;
};

static int
collect(const char *key, int64_t nanos, void *arg)
{
	struct collected *c = arg;

	assert_true(c->n < nitems(c->keys));
	snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key);
	c->nanos[c->n++] = nanos;
	return c->n == c->stop_at ? -1 : 0;
}

static void
test_costdb_lines_order(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct ce_line v[] = {
		{ ACCT_A, "vol-2", 2 }, { ACCT_A, "i-9", 9 },
		{ ACCT_A, ARN_D4, 4 }, { ACCT_A, "NoResourceId", 1 },
		{ ACCT_A, "", 0 },
	};
	/* Byte order: "" < 'N' (0x4e) < 'a' (0x61) < 'i' < 'v'. */
	const char *want[] = { "", "NoResourceId", ARN_D4, "i-9", "vol-2" };
	const int64_t want_nanos[] = { 0, 1, 4, 9, 2 };
	struct collected c = { .stop_at = 0 };
	struct errbuf err;
	int64_t id;
	size_t i;

	id = put_ok(st, &key_a, COSTDB_OK, 1, v, nitems(v));
	assert_int_equal(costdb_lines(st, id, collect, &c, &err), 0);
	assert_int_equal(c.n, nitems(want));
	for (i = 0; i < nitems(want); i++) {
		assert_string_equal(c.keys[i], want[i]);
		assert_int_equal(c.nanos[i], want_nanos[i]);
	}
	/* fn failing on the second line stops there. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(costdb_lines(st, id, collect, &c, &err), -1);
	assert_int_equal(c.n, 2);
	/* A fetch without lines calls nothing. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(costdb_lines(st, id + 1, collect, &c, &err), 0);
	assert_int_equal(c.n, 0);
	store_close(st);
}

/* --- a hand-built scan --- */

static void
add_account(sqlite3 *db, int scan_id, const char *acct)
{
	char *sql = sqlite3_mprintf("INSERT INTO account_results (scan_id, "
	    "account_id, status, started_at, finished_at, cache_key) VALUES "
	    "(%d, %Q, 'ok', '2026-11-25T0%d:00:00Z', '2026-11-25T0%d:01:00Z', "
	    "'k')", scan_id, acct, scan_id, scan_id);

	exec_ok(db, sql);
	sqlite3_free(sql);
}

/* tags NULL: unreadable. */
static void
add_resource(sqlite3 *db, int scan_id, const char *acct, const char *region,
    const char *type, const char *arn, const char *id, const char *tags,
    int in_scope)
{
	char *sql = sqlite3_mprintf("INSERT INTO resources (scan_id, "
	    "account_id, region, resource_arn, resource_type, resource_id, "
	    "tags, compliant, in_scope) VALUES (%d, %Q, %Q, %Q, %Q, %Q, %Q, 0, "
	    "%d)", scan_id, acct, region, arn, type, id, tags, in_scope);

	exec_ok(db, sql);
	sqlite3_free(sql);
}

static void
add_violation(sqlite3 *db, int scan_id, const char *acct, const char *arn,
    const char *tag, const char *vtype, const char *severity)
{
	char *sql = sqlite3_mprintf("INSERT INTO violations (scan_id, "
	    "account_id, region, resource_arn, resource_type, tag_name, "
	    "violation_type, severity, message) SELECT scan_id, account_id, "
	    "region, resource_arn, resource_type, %Q, %Q, %Q, 'm' FROM "
	    "resources WHERE scan_id = %d AND account_id = %Q AND "
	    "resource_arn = %Q", tag, vtype, severity, scan_id, acct, arn);

	exec_ok(db, sql);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_free(sql);
}

/*
 * Scan 1 (older): ACCT_A with i-old. Scan 2: ACCT_A with
 *   i-1  ec2:instance    us-east-1  errors Owner (twice) and CostCenter
 *   vol-2 ec2:volume     us-west-2  error Environment, warning Owner
 *   logs-b s3:bucket     eu-west-1  unreadable (in scope, tags NULL)
 *   db4  rds:db          us-east-1  warning Owner only
 *   f5   lambda:function us-east-1  error Owner
 *   i-6  ec2:instance    us-east-1  out of scope (tags NULL too)
 *   i-7  ec2:instance    ap-south-1 compliant
 *   c8   ecs:cluster     us-east-1  error Owner, no cost line
 * and ACCT_B with vol-b (error Owner).
 */
static void
build_scans(sqlite3 *db)
{
	int i;

	for (i = 1; i <= 2; i++)
		exec_ok(db, "INSERT INTO scans (started_at, multi_account, "
		    "requested_accounts, requested_types, policy_hash) VALUES "
		    "('2026-11-25T00:00:00Z', 1, '[]', '[]', 'h')");
	add_account(db, 1, ACCT_A);
	add_resource(db, 1, ACCT_A, "us-east-1", "ec2:instance", ARN_OLD,
	    "i-old", "{}", 1);
	add_violation(db, 1, ACCT_A, ARN_OLD, "Owner", "missing_required_tag",
	    "error");
	add_account(db, 2, ACCT_A);
	add_account(db, 2, ACCT_B);
	add_resource(db, 2, ACCT_A, "us-east-1", "ec2:instance", ARN_I1, "i-1",
	    "{}", 1);
	add_violation(db, 2, ACCT_A, ARN_I1, "Owner", "invalid_value",
	    "error");
	add_violation(db, 2, ACCT_A, ARN_I1, "Owner", "invalid_format",
	    "error");
	add_violation(db, 2, ACCT_A, ARN_I1, "CostCenter",
	    "missing_required_tag", "error");
	add_resource(db, 2, ACCT_A, "us-west-2", "ec2:volume", ARN_V2, "vol-2",
	    "{}", 1);
	add_violation(db, 2, ACCT_A, ARN_V2, "Environment", "invalid_value",
	    "error");
	add_violation(db, 2, ACCT_A, ARN_V2, "Owner", "missing_required_tag",
	    "warning");
	add_resource(db, 2, ACCT_A, "eu-west-1", "s3:bucket", ARN_B3, "logs-b",
	    NULL, 1);
	add_resource(db, 2, ACCT_A, "us-east-1", "rds:db", ARN_D4, "db4",
	    "{}", 1);
	add_violation(db, 2, ACCT_A, ARN_D4, "Owner", "missing_required_tag",
	    "warning");
	add_resource(db, 2, ACCT_A, "us-east-1", "lambda:function", ARN_F5,
	    "f5", "{}", 1);
	add_violation(db, 2, ACCT_A, ARN_F5, "Owner", "missing_required_tag",
	    "error");
	add_resource(db, 2, ACCT_A, "us-east-1", "ec2:instance", ARN_I6, "i-6",
	    NULL, 0);
	add_resource(db, 2, ACCT_A, "ap-south-1", "ec2:instance", ARN_I7,
	    "i-7", "{\"Owner\":\"x\"}", 1);
	exec_ok(db, "UPDATE resources SET compliant = 1 WHERE resource_id = "
	    "'i-7'");
	add_resource(db, 2, ACCT_A, "us-east-1", "ecs:cluster", ARN_C8, "c8",
	    "{}", 1);
	add_violation(db, 2, ACCT_A, ARN_C8, "Owner", "missing_required_tag",
	    "error");
	add_resource(db, 2, ACCT_B, "us-east-1", "ec2:volume", ARN_VB, "vol-b",
	    "{}", 1);
	add_violation(db, 2, ACCT_B, ARN_VB, "Owner", "missing_required_tag",
	    "error");
}

/*
 * ACCT_A's lines. Matched by id (ec2, s3) or ARN (others):
 *   i-1 100e9, vol-2 20e9, logs-b 3e9, ARN_D4 400e6, ARN_F5 50e6,
 *   i-6 6e6, i-7 700e3; sum 123,456,700,000.
 * Matching nothing this scan saw of ACCT_A:
 *   NoResourceId 80,000; "db4" (an rds id: CE names it by ARN) 9,000;
 *   ARN_I1 (an ec2 ARN: CE names it by id) 800; i-old (scan 1 only) 10;
 *   vol-b (ACCT_B's) 1; sum 89,811.
 */
static struct ce_line lines_a[] = {
	{ ACCT_A, "i-1", 100000000000 }, { ACCT_A, "vol-2", 20000000000 },
	{ ACCT_A, "logs-b", 3000000000 }, { ACCT_A, ARN_D4, 400000000 },
	{ ACCT_A, ARN_F5, 50000000 }, { ACCT_A, "i-6", 6000000 },
	{ ACCT_A, "i-7", 700000 }, { ACCT_A, "NoResourceId", 80000 },
	{ ACCT_A, "db4", 9000 }, { ACCT_A, ARN_I1, 800 },
	{ ACCT_A, "i-old", 10 }, { ACCT_A, "vol-b", 1 },
};

static int64_t
jnanos(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("no integer for %s", key);
	return json_integer_value(v);
}

static void
test_costdb_resource_gap(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct costdb_gap g;
	struct errbuf err;
	int64_t id;

	build_scans(store_sqlite(st));
	id = put_ok(st, &key_a, COSTDB_OK, 1, lines_a, nitems(lines_a));
	if (costdb_resource_gap(st, 2, ACCT_A, id, &g, &err) == -1)
		fail_msg("costdb_resource_gap: %s", err.msg);
	/* i-1 + vol-2 + f5 (i-1 once for its three errors; db4 warns). */
	assert_int_equal(g.violating, 120050000000);
	/* logs-b only: i-6 has no tags but is out of scope. */
	assert_int_equal(g.unreadable, 3000000000);
	assert_int_equal(g.matched, 123456700000);
	/* 123,456,700,000 + 89,811 */
	assert_int_equal(g.total, 123456789811);
	/* us-east-1: i-1 + f5; us-west-2: vol-2; eu-west-1: logs-b. */
	assert_int_equal(json_object_size(g.by_region), 3);
	assert_int_equal(jnanos(g.by_region, "us-east-1"), 100050000000);
	assert_int_equal(jnanos(g.by_region, "us-west-2"), 20000000000);
	assert_int_equal(jnanos(g.by_region, "eu-west-1"), 3000000000);
	/* i-6 and i-7 (ec2:instance) count in neither. */
	assert_int_equal(json_object_size(g.by_type), 4);
	assert_int_equal(jnanos(g.by_type, "ec2:instance"), 100000000000);
	assert_int_equal(jnanos(g.by_type, "ec2:volume"), 20000000000);
	assert_int_equal(jnanos(g.by_type, "s3:bucket"), 3000000000);
	assert_int_equal(jnanos(g.by_type, "lambda:function"), 50000000);
	/*
	 * Owner: i-1 (two Owner errors, once) + f5; vol-2's and db4's Owner
	 * are warnings, c8 has no line. CostCenter: i-1. Environment: vol-2.
	 */
	assert_int_equal(json_object_size(g.by_tag_key), 3);
	assert_int_equal(jnanos(g.by_tag_key, "Owner"), 100050000000);
	assert_int_equal(jnanos(g.by_tag_key, "CostCenter"), 100000000000);
	assert_int_equal(jnanos(g.by_tag_key, "Environment"), 20000000000);
	costdb_gap_clear(&g);
	assert_null(g.by_region);

	/* Scan 1 saw only i-old: violating 10, matched 10. */
	if (costdb_resource_gap(st, 1, ACCT_A, id, &g, &err) == -1)
		fail_msg("costdb_resource_gap: %s", err.msg);
	assert_int_equal(g.violating, 10);
	assert_int_equal(g.unreadable, 0);
	assert_int_equal(g.matched, 10);
	assert_int_equal(g.total, 123456789811);
	assert_int_equal(jnanos(g.by_tag_key, "Owner"), 10);
	costdb_gap_clear(&g);
	store_close(st);
}

static void
test_costdb_resource_cost(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct errbuf err;
	int64_t id, nanos = -1;

	id = put_ok(st, &key_a, COSTDB_OK, 1, lines_a, nitems(lines_a));
	assert_int_equal(costdb_resource_cost(st, id, "i-1", &nanos, &err), 0);
	assert_int_equal(nanos, 100000000000);
	assert_int_equal(costdb_resource_cost(st, id, ARN_D4, &nanos, &err),
	    0);
	assert_int_equal(nanos, 400000000);
	nanos = -1;
	assert_int_equal(costdb_resource_cost(st, id, "i-none", &nanos, &err),
	    0);
	assert_int_equal(nanos, 0);
	/* Another fetch has none of them. */
	nanos = -1;
	assert_int_equal(costdb_resource_cost(st, id + 1, "i-1", &nanos, &err),
	    0);
	assert_int_equal(nanos, 0);
	store_close(st);
}

static void
test_costdb_ce_resource_id(void **state)
{
	struct db_fixture *f = *state;
	static const struct {
		const char	*type, *id, *arn;
		int		 by_id;
	} rows[] = {
		{ "ec2:instance", "i-1", ARN_I1, 1 },
		{ "ec2:volume", "vol-2", ARN_V2, 1 },
		{ "s3:bucket", "logs-b", ARN_B3, 1 },
		{ "rds:db", "db4", ARN_D4, 0 },
		{ "lambda:function", "f5", ARN_F5, 0 },
		{ "ecs:cluster", "c8", ARN_C8, 0 },
		/* Neither a prefix match nor the whole s3:bucket. */
		{ "s3:bucketx", "x", "arn:x", 0 },
		{ "ec2", "y", "arn:y", 0 },
	};
	struct store *st = db_open(f->path);
	sqlite3_stmt *s;
	const char *c;
	size_t i, n = 0;

	for (i = 0; i < nitems(rows); i++)
		assert_ptr_equal(costdb_ce_resource_id(rows[i].type,
		    rows[i].id, rows[i].arn), rows[i].by_id ? rows[i].id :
		    rows[i].arn);
	/* The cost_resources view, which the gap joins on, agrees. */
	build_scans(store_sqlite(st));
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(st), "SELECT "
	    "r.resource_type, r.resource_id, r.resource_arn, c.ce_resource_id "
	    "FROM resources AS r JOIN cost_resources AS c USING (scan_id, "
	    "account_id, resource_arn)", -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		c = costdb_ce_resource_id((const char *)sqlite3_column_text(s,
		    0), (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2));
		assert_string_equal(c, sqlite3_column_text(s, 3));
		n++;
	}
	sqlite3_finalize(s);
	assert_int_equal(n, 10);
	store_close(st);
}

static void
test_costdb_errors(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	/* INT64_MAX + 1 overflows any sum that holds both. */
	struct ce_line big[] = { { ACCT_A, "i-1", INT64_MAX },
	    { ACCT_A, "i-6", 1 } };
	struct ce_line dup[] = { { ACCT_A, "i-1", 1 }, { ACCT_A, "i-1", 2 } };
	struct ce_lines dup_lines = { .v = dup, .count = nitems(dup) };
	struct costdb_key bad = key_a;
	enum costdb_status status;
	struct costdb_gap g;
	struct errbuf err;
	int64_t id, got, b;

	build_scans(store_sqlite(st));
	id = put_ok(st, &key_a, COSTDB_OK, 1, big, nitems(big));
	assert_int_equal(costdb_resource_gap(st, 2, ACCT_A, id, &g, &err), -1);
	assert_non_null(strstr(err.msg, "integer overflow"));
	assert_non_null(strstr(err.msg, "HISTORY_DB_PATH="));
	assert_non_null(strstr(err.msg, "scan 2 account " ACCT_A));
	assert_null(g.by_region);

	/* A line twice: nothing of the new answer, the old one intact. */
	assert_int_equal(costdb_put(st, &key_a, COSTDB_OK, 1, &dup_lines, &got,
	    &err), -1);
	assert_non_null(strstr(err.msg, "line \"i-1\" of account " ACCT_A));
	assert_non_null(strstr(err.msg, "UNIQUE constraint failed"));
	assert_int_equal(find(st, &key_a, &got, &status), 1);
	assert_int_equal(got, id);
	assert_int_equal(db_int(store_sqlite(st), "SELECT count(*) FROM "
	    "cost_lines"), 2);

	/* Not an account id: the schema's CHECK refuses it. */
	bad.account_id = "12345";
	assert_int_equal(costdb_put(st, &bad, COSTDB_OK, 1, NULL, &got, &err),
	    -1);
	assert_non_null(strstr(err.msg, "for account 12345"));
	assert_non_null(strstr(err.msg, "CHECK constraint failed"));

	/* The gap of a fetch that is missing or covers another account. */
	assert_int_equal(costdb_resource_gap(st, 2, ACCT_A, id + 100, &g, &err),
	    -1);
	assert_non_null(strstr(err.msg, "does not exist"));
	bad = key_a;
	bad.account_id = ACCT_B;
	b = put_ok(st, &bad, COSTDB_OK, 1, NULL, 0);
	assert_int_equal(costdb_resource_gap(st, 2, ACCT_A, b, &g, &err), -1);
	assert_non_null(strstr(err.msg, "covers account " ACCT_B ", not "
	    ACCT_A));
	store_close(st);
}

/* --- sql/queries/cost-*.sql --- */

static char *
shell(const char *db, const char *query)
{
	static char out[4096];
	char cmd[1024];
	size_t n;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "sqlite3 -batch -bail '%s' < "
	    "'%s/sql/queries/%s'", db, TEST_SRCDIR, query);
	assert_non_null(fp = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	assert_int_equal(pclose(fp), 0);
	return out;
}

static void
test_costdb_queries_with_shell(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct ce_line vb[] = { { ACCT_B, "vol-b", 5000000000 } };
	struct costdb_key kb = key_a, old = key_a, tag = key_a;

	build_scans(store_sqlite(st));
	/* Older and tag-method fetches are not the latest resource one. */
	old.day = "2026-11-24";
	put_ok(st, &old, COSTDB_OK, 1, vb, 0);
	put_ok(st, &key_a, COSTDB_OK, 1, lines_a, nitems(lines_a));
	tag.tag_key = "Owner";
	put_ok(st, &tag, COSTDB_OK, 1, NULL, 0);
	kb.account_id = kb.caller_account = ACCT_B;
	put_ok(st, &kb, COSTDB_OK, 1, vb, nitems(vb));
	store_close(st);
	/*
	 * Latest scan of both is 2. ACCT_A as in test_costdb_resource_gap:
	 * violating 120.05, unreadable 3.00, gap 123.05, total
	 * 123.456789811 = 123.46. ACCT_B: vol-b violating 5.00.
	 */
	assert_string_equal(shell(f->path, "cost-latest-gap.sql"),
	    ACCT_A "|2026-11-11..2026-11-25|123.05|120.05|3.00|123.46\n"
	    ACCT_B "|2026-11-11..2026-11-25|5.00|5.00|0.00|5.00\n");
	assert_string_equal(shell(f->path, "cost-top-resources.sql"),
	    ACCT_A "|us-east-1|ec2:instance|" ARN_I1 "|violating|"
	    "CostCenter,Owner|100.00\n"
	    ACCT_A "|us-west-2|ec2:volume|" ARN_V2 "|violating|Environment|"
	    "20.00\n"
	    ACCT_B "|us-east-1|ec2:volume|" ARN_VB "|violating|Owner|5.00\n"
	    ACCT_A "|eu-west-1|s3:bucket|" ARN_B3 "|unreadable|-|3.00\n"
	    ACCT_A "|us-east-1|lambda:function|" ARN_F5 "|violating|Owner|"
	    "0.05\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_costdb_migrates_version_1,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_put_find, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_find_misses, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_put_replaces, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_unavailable, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_lines_order, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_resource_gap,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_resource_cost,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_ce_resource_id,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_errors, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_costdb_queries_with_shell,
		    setup, db_fixture_teardown),
	};

	return cmocka_run_group_tests_name("costdb", tests, NULL, NULL);
}
