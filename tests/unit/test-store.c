/*
 * store: migrations from an empty file, re-open, a newer schema refused,
 * one account per transaction (a rollback or a kill leaves nothing of it),
 * the views and the files in sql/queries/ (run with the sqlite3 shell)
 * against a hand-built history whose numbers are worked out in comments,
 * the result cache, and that credential-shaped text never reaches the file.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>

#include "dbfixture.h"
#include "errbuf.h"
#include "proto.h"
#include "store.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define ACCT_A	"111111111111"
#define ACCT_B	"222222222222"
#define KEY	"{\"policy\":\"abc\",\"regions\":null,\"types\":[\"ec2:instance\"]}"
#define DAY	86400

#define AKID	"AKIAIOSFODNN7EXAMPLE"
#define SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static int
setup(void **state)
{
	/* Two directory levels that do not exist yet. */
	return db_fixture_setup(state, "test-store",
	    "state/tagwarden/history.db");
}

static double
q_real(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	double v;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return v;
}

static json_t *
vio(const char *tag, const char *type, const char *severity,
    const char *current)
{
	/* tag_name, violation_type, severity, current_value, allowed_values,
	 * message */
	return json_pack("[s, s, s, s?, n, s]", tag, type, severity, current,
	    "tag Owner is missing");
}

/* A RESOURCE_BATCH resource row; violations (stolen) may be NULL. */
static json_t *
res(const char *arn, const char *type, const char *region, int readable,
    int in_scope, int compliant, json_t *violations)
{
	json_t *r;

	/* resource_arn, resource_id, resource_type, region, tags,
	 * tags_error, created_at, state, in_scope, compliant, violations */
	r = json_pack("[s, s, s, s, o, o, n, s, b, b, o]", arn,
	    strrchr(arn, '/') != NULL ? strrchr(arn, '/') + 1 : arn, type,
	    region, readable ? json_pack("{s:s}", "Name", "web") : json_null(),
	    readable ? json_null() : json_string("AccessDenied"), "running",
	    in_scope, compliant, violations != NULL ? violations :
	    json_array());
	assert_non_null(r);
	return r;
}

static void
add_res(struct store_account *a, json_t *r)
{
	store_account_add_resource(a, r);
	json_decref(r);
}

static int64_t
begin_scan(struct store *st, time_t t)
{
	struct store_scan sc = { .started_at = t, .multi_account = 1,
	    .policy_hash = "abc" };
	struct errbuf err;
	int64_t id;

	if (store_scan_begin(st, &sc, &id, &err) == -1)
		fail_msg("store_scan_begin: %s", err.msg);
	return id;
}

static void
finish_scan(struct store *st, int64_t id, time_t t, const char *status)
{
	struct store_scan_end e = { .finished_at = t, .status = status };
	struct errbuf err;

	if (store_scan_finish(st, id, &e, &err) == -1)
		fail_msg("store_scan_finish: %s", err.msg);
}

static void
commit(struct store *st, int64_t scan_id, const char *account,
    const char *status, const char *error, time_t finished, long long total,
    long long compliant, long long violations, struct store_account *a)
{
	struct store_account_row row = { .account_id = account,
	    .status = status, .error = error, .started_at = finished - 5,
	    .finished_at = finished, .duration_ms = 5000,
	    .total_resources = total, .compliant_resources = compliant,
	    .violations = violations, .cache_key = KEY };
	struct errbuf err;

	if (store_account_commit(st, scan_id, &row, a, &err) == -1)
		fail_msg("store_account_commit: %s", err.msg);
}

static void
test_store_migrates_empty(void **state)
{
	struct db_fixture *f = *state;
	struct store *st;
	struct stat sb;
	char dir[128];
	sqlite3 *db;

	st = db_open(f->path);
	db = store_sqlite(st);
	snprintf(dir, sizeof(dir), "%s/state/tagwarden", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(db_int(db, "PRAGMA user_version"), 2);
	assert_int_equal(store_schema_version(), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name IN ('scans', 'account_results', "
	    "'region_results', 'resources', 'violations')"), 5);
	assert_int_equal(db_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'view' AND name IN ('latest_account_scores', "
	    "'daily_compliance_trend', 'worst_resource_types')"), 3);
	assert_int_equal(db_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(db_int(db, "SELECT journal_mode = 'wal' FROM "
	    "pragma_journal_mode"), 1);
	assert_int_equal(db_int(db, "PRAGMA busy_timeout"),
	    STORE_BUSY_TIMEOUT_MS);
	store_close(st);
}

static void
test_store_reopen_is_noop(void **state)
{
	struct db_fixture *f = *state;
	struct store *st;

	st = db_open(f->path);
	begin_scan(st, 1000);
	store_close(st);
	/* A second migration would fail on CREATE TABLE scans. */
	st = db_open(f->path);
	assert_int_equal(db_int(store_sqlite(st), "PRAGMA user_version"), 2);
	assert_int_equal(db_int(store_sqlite(st), "SELECT count(*) FROM scans"),
	    1);
	store_close(st);
}

static void
test_store_newer_db_refused(void **state)
{
	struct db_fixture *f = *state;
	struct errbuf err;
	sqlite3 *db;

	store_close(db_open(f->path));
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->path, &err));
	assert_non_null(strstr(err.msg, "schema version 7"));
	assert_non_null(strstr(err.msg, "only up to version 2"));
	assert_non_null(strstr(err.msg, "HISTORY_DB_PATH="));
}

static void
test_store_not_a_database(void **state)
{
	struct db_fixture *f = *state;
	struct errbuf err;
	char path[128];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/junk.db", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	for (i = 0; i < 200; i++)
		fputs("this is not sqlite ", fp);
	fclose(fp);
	assert_null(store_open(path, &err));
	assert_non_null(strstr(err.msg, "not a database"));
	assert_non_null(strstr(err.msg, path));
}

/* Three resources, two of them with violations (3 violations), 2 regions. */
static void
account_a_json(json_t **resources, json_t **regions)
{
	json_t *vs = json_array();

	*resources = json_array();
	*regions = json_array();
	json_array_append_new(vs, vio("Owner", "missing_required_tag",
	    "error", NULL));
	json_array_append_new(vs, vio("Environment", "invalid_value", "error",
	    "prod"));
	json_array_append_new(*resources, res("arn:aws:ec2:us-east-1:1:"
	    "instance/i-1", "ec2:instance", "us-east-1", 1, 1, 0, vs));
	vs = json_array();
	json_array_append_new(vs, vio("CostCenter", "invalid_format",
	    "warning", "x"));
	json_array_append_new(*resources, res("arn:aws:s3:::b1", "s3:bucket",
	    "eu-west-1", 1, 1, 1, vs));
	json_array_append_new(*resources, res("arn:aws:ec2:us-east-1:1:"
	    "instance/i-2", "ec2:instance", "us-east-1", 1, 1, 1, NULL));
	json_array_append_new(*regions, json_pack("{s:s, s:s, s:n, s:n, s:i}",
	    "region", "us-east-1", "status", "ok", "error", "aws_code",
	    "resources", 2));
	json_array_append_new(*regions, json_pack("{s:s, s:s, s:s, s:s, s:i}",
	    "region", "ap-south-2", "status", "skipped", "error",
	    "region not enabled", "aws_code", "OptInRequired", "resources", 0));
}

static struct store_account *
account_a(void)
{
	struct store_account *a = store_account_new();
	json_t *resources, *regions, *item;
	size_t i;

	account_a_json(&resources, &regions);
	json_array_foreach(resources, i, item)
		store_account_add_resource(a, item);
	json_array_foreach(regions, i, item)
		store_account_add_region(a, item);
	json_decref(resources);
	json_decref(regions);
	return a;
}

static void
test_store_account_commit_atomic(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct store_account *a = account_a();
	int64_t id = begin_scan(st, 1000);
	sqlite3 *other;

	/* Another connection, as the sqlite3 shell would be. */
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(store_account_nresources(a), 3);
	assert_int_equal(db_int(other, "SELECT count(*) FROM resources"), 0);
	commit(st, id, ACCT_A, "ok", NULL, 1010, 3, 2, 3, a);
	assert_int_equal(db_int(other, "SELECT count(*) FROM account_results"),
	    1);
	assert_int_equal(db_int(other, "SELECT count(*) FROM resources"), 3);
	assert_int_equal(db_int(other, "SELECT count(*) FROM violations"), 3);
	assert_int_equal(db_int(other, "SELECT count(*) FROM region_results"),
	    2);
	assert_int_equal(db_int(other, "SELECT count(*) FROM resources WHERE "
	    "tags = '{\"Name\":\"web\"}'"), 3);
	sqlite3_close(other);
	store_account_free(a);
	store_close(st);
}

static void
test_store_failed_account_keeps_no_resources(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct store_account *a = account_a();
	int64_t id = begin_scan(st, 1000);
	sqlite3 *db = store_sqlite(st);

	/* A timed-out account streamed resources: only its row and regions. */
	commit(st, id, ACCT_A, "timeout", "scan timed out after 30 s", 1030,
	    0, 0, 0, a);
	assert_int_equal(db_int(db, "SELECT count(*) FROM account_results "
	    "WHERE status = 'timeout'"), 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM resources"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM region_results"), 2);
	store_account_free(a);
	store_close(st);
}

static void
test_store_rollback_leaves_nothing(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct store_account *a = account_a();
	struct store_account_row row = { .account_id = ACCT_B, .status = "ok",
	    .started_at = 1000, .finished_at = 1001, .cache_key = KEY };
	int64_t id = begin_scan(st, 1000);
	sqlite3 *db = store_sqlite(st);
	json_t *vs = json_array();
	struct errbuf err;

	/* The last violation breaks the severity CHECK: all must go. */
	json_array_append_new(vs, vio("Owner", "missing_required_tag",
	    "fatal", NULL));
	add_res(a, res("arn:aws:ec2:us-east-1:1:instance/i-9", "ec2:instance",
	    "us-east-1", 1, 1, 0, vs));
	assert_int_equal(store_account_commit(st, id, &row, a, &err), -1);
	assert_non_null(strstr(err.msg, "account 222222222222"));
	assert_non_null(strstr(err.msg, "CHECK constraint failed"));
	assert_int_equal(db_int(db, "SELECT count(*) FROM account_results"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM region_results"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM resources"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM violations"), 0);
	assert_int_equal(sqlite3_get_autocommit(db), 1);
	store_account_free(a);
	/* The statements are reusable after the failure. */
	a = account_a();
	commit(st, id, ACCT_A, "ok", NULL, 1010, 3, 2, 3, a);
	assert_int_equal(db_int(db, "SELECT count(*) FROM resources"), 3);
	store_account_free(a);
	store_close(st);
}

static int kill_after;

static void
kill_hook(void *arg, int op, const char *dbname, const char *table,
    sqlite3_int64 rowid)
{
	(void)arg;
	(void)op;
	(void)dbname;
	(void)rowid;
	if (strcmp(table, "resources") == 0 && --kill_after == 0)
		raise(SIGKILL);
}

/* A process killed in the middle of account B's transaction. */
static void
kill_child(const char *path)
{
	struct store *st = db_open(path);
	struct store_account *a = account_a(), *b = store_account_new();
	int64_t id = begin_scan(st, 1000);
	char arn[64];
	int i;

	commit(st, id, ACCT_A, "ok", NULL, 1010, 3, 2, 3, a);
	for (i = 0; i < 10; i++) {
		snprintf(arn, sizeof(arn), "arn:aws:ec2:us-east-1:2:"
		    "instance/i-%d", i);
		add_res(b, res(arn, "ec2:instance", "us-east-1", 1, 1, 1,
		    NULL));
	}
	kill_after = 5;
	sqlite3_update_hook(store_sqlite(st), kill_hook, NULL);
	commit(st, id, ACCT_B, "ok", NULL, 1020, 10, 10, 0, b);
	_exit(3);	/* not reached */
}

static void
test_store_kill_loses_only_account_in_flight(void **state)
{
	struct db_fixture *f = *state;
	struct store *st;
	sqlite3 *db;
	pid_t pid;
	int status;

	store_close(db_open(f->path));
	if ((pid = fork()) == 0)
		kill_child(f->path);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	st = db_open(f->path);
	db = store_sqlite(st);
	assert_int_equal(db_int(db, "SELECT count(*) FROM resources WHERE "
	    "account_id = '" ACCT_A "'"), 3);
	assert_int_equal(db_int(db, "SELECT count(*) FROM account_results "
	    "WHERE account_id = '" ACCT_B "'"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM resources WHERE "
	    "account_id = '" ACCT_B "'"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM "
	    "pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	store_close(st);
}

/*
 * The hand-built history (day0 = today 00:00 UTC):
 *   scan 1, day0-40d: A ok, 1 resource, 1 compliant.
 *   scan 2, day0-3d:  A ok, 4 in scope, 3 compliant, 1 violation;
 *                     B ok, 3 in scope, 1 compliant, 2 violations.
 *   scan 3, day0+10h: A ok, 5/5, 0 violations; B failed (AssumeRole).
 *   scan 4, day0+11h: A ok (alias prod): ec2 i-1 compliant, i-2 with 2
 *                     error violations, i-3 with 1; s3 b1 compliant with a
 *                     warning (eu-west-1); plus an out-of-scope lambda and
 *                     a bucket whose tags could not be read (not counted):
 *                     4 in scope, 2 compliant, 4 violations.
 *                     B timed out.
 */
static time_t
day0(void)
{
	time_t now = time(NULL);

	return now - now % DAY;
}

static struct store_account *
n_resources(const char *prefix, int n, int ncompliant)
{
	struct store_account *a = store_account_new();
	char arn[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(arn, sizeof(arn), "arn:aws:ec2:us-east-1:%s:"
		    "instance/i-%d", prefix, i);
		add_res(a, res(arn, "ec2:instance", "us-east-1", 1, 1,
		    i < ncompliant, NULL));
	}
	return a;
}

static struct store_account *
scan4_a(void)
{
	struct store_account *a = store_account_new();
	json_t *vs = json_array();

	add_res(a, res("arn:aws:ec2:us-east-1:1:instance/i-1", "ec2:instance",
	    "us-east-1", 1, 1, 1, NULL));
	json_array_append_new(vs, vio("Owner", "missing_required_tag",
	    "error", NULL));
	json_array_append_new(vs, vio("Environment", "invalid_value", "error",
	    "prod"));
	add_res(a, res("arn:aws:ec2:us-east-1:1:instance/i-2", "ec2:instance",
	    "us-east-1", 1, 1, 0, vs));
	vs = json_array();
	json_array_append_new(vs, vio("Owner", "missing_required_tag",
	    "error", NULL));
	add_res(a, res("arn:aws:ec2:us-east-1:1:instance/i-3", "ec2:instance",
	    "us-east-1", 1, 1, 0, vs));
	vs = json_array();
	json_array_append_new(vs, vio("CostCenter", "invalid_value",
	    "warning", "cc-1"));
	add_res(a, res("arn:aws:s3:::b1", "s3:bucket", "eu-west-1", 1, 1, 1,
	    vs));
	add_res(a, res("arn:aws:lambda:us-east-1:1:function/f", "lambda:other",
	    "us-east-1", 1, 0, 0, NULL));
	add_res(a, res("arn:aws:s3:::locked", "s3:bucket", "us-east-1", 0, 1,
	    0, NULL));
	return a;
}

static void
commit_alias(struct store *st, int64_t id, time_t t, struct store_account *a)
{
	struct store_account_row row = { .account_id = ACCT_A, .status = "ok",
	    .started_at = t - 5, .finished_at = t, .duration_ms = 5000,
	    .account_alias = "prod", .total_resources = 4,
	    .compliant_resources = 2, .violations = 4,
	    .unreadable_resources = 1, .cache_key = KEY };
	struct errbuf err;

	if (store_account_commit(st, id, &row, a, &err) == -1)
		fail_msg("%s", err.msg);
}

static void
build_history(struct store *st)
{
	struct store_account *a;
	time_t d0 = day0(), t;
	int64_t id;

	t = d0 - 40 * DAY + 12 * 3600;
	id = begin_scan(st, t);
	commit(st, id, ACCT_A, "ok", NULL, t, 1, 1, 0, a = n_resources("a1",
	    1, 1));
	store_account_free(a);
	finish_scan(st, id, t, "complete");
	t = d0 - 3 * DAY + 12 * 3600;
	id = begin_scan(st, t);
	commit(st, id, ACCT_A, "ok", NULL, t, 4, 3, 1, a = n_resources("a2",
	    4, 3));
	store_account_free(a);
	commit(st, id, ACCT_B, "ok", NULL, t + 60, 3, 1, 2,
	    a = n_resources("b2", 3, 1));
	store_account_free(a);
	finish_scan(st, id, t + 60, "complete");
	t = d0 + 10 * 3600;
	id = begin_scan(st, t);
	commit(st, id, ACCT_A, "ok", NULL, t, 5, 5, 0, a = n_resources("a3",
	    5, 5));
	store_account_free(a);
	commit(st, id, ACCT_B, "failed", "AssumeRole failed for "
	    "arn:aws:iam::222222222222:role/R: AccessDenied: no", t, 0, 0, 0,
	    NULL);
	finish_scan(st, id, t, "partial");
	t = d0 + 11 * 3600;
	id = begin_scan(st, t);
	commit_alias(st, id, t, a = scan4_a());
	store_account_free(a);
	commit(st, id, ACCT_B, "timeout", "scan timed out after 30 s", t, 0, 0,
	    0, NULL);
	finish_scan(st, id, t, "partial");
}

static void
test_store_views_hand_computed(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	sqlite3 *db = store_sqlite(st);

	build_history(st);
	/* Latest ok: A from scan 4 (2/4), B from scan 2 (1/3). */
	assert_int_equal(db_int(db, "SELECT scan_id FROM latest_account_scores "
	    "WHERE account_id = '" ACCT_A "'"), 4);
	assert_int_equal(db_int(db, "SELECT scan_id FROM latest_account_scores "
	    "WHERE account_id = '" ACCT_B "'"), 2);
	assert_true(q_real(db, "SELECT compliance_score FROM "
	    "latest_account_scores WHERE account_id = '" ACCT_A "'") == 0.5);
	assert_true(q_real(db, "SELECT compliance_score FROM "
	    "latest_account_scores WHERE account_id = '" ACCT_B "'") ==
	    1.0 / 3.0);
	/* Three days, one per scan day; today counts only scan 4's A. */
	assert_int_equal(db_int(db, "SELECT count(*) FROM "
	    "daily_compliance_trend"), 3);
	assert_int_equal(db_int(db, "SELECT resources FROM "
	    "daily_compliance_trend WHERE day = date('now')"), 4);
	/* Three days ago: A 3/4 and B 1/3 = 4/7. */
	assert_true(q_real(db, "SELECT compliance_score FROM "
	    "daily_compliance_trend WHERE day = date('now', '-3 days')") ==
	    4.0 / 7.0);
	/* Scan 4: ec2 2 of 3 non-compliant, s3 0 of 1 (locked not counted). */
	assert_int_equal(db_int(db, "SELECT count(*) FROM "
	    "worst_resource_types"), 2);
	assert_int_equal(db_int(db, "SELECT noncompliant FROM "
	    "worst_resource_types WHERE resource_type = 'ec2:instance'"), 2);
	assert_int_equal(db_int(db, "SELECT resources FROM "
	    "worst_resource_types WHERE resource_type = 's3:bucket'"), 1);
	store_close(st);
}

/* Everything the sqlite3 shell prints for one query file. */
static char *
shell(const char *db, const char *query, const char *param)
{
	static char out[4096];
	char cmd[1024];
	size_t n;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "sqlite3 -batch -bail %s%s%s '%s' "
	    "< '%s/sql/queries/%s'", param != NULL ? "-cmd \"" : "",
	    param != NULL ? param : "", param != NULL ? "\"" : "", db,
	    TEST_SRCDIR, query);
	assert_non_null(fp = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	assert_int_equal(pclose(fp), 0);
	return out;
}

static void
test_store_queries_with_shell(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	char want[2048], d3[16], dt[16], ta[32], tb[32];
	time_t d0 = day0(), t;
	struct tm tm;

	build_history(st);
	store_close(st);
	t = d0 - 3 * DAY;
	strftime(d3, sizeof(d3), "%Y-%m-%d", gmtime_r(&t, &tm));
	strftime(dt, sizeof(dt), "%Y-%m-%d", gmtime_r(&d0, &tm));
	t = d0 + 11 * 3600;
	strftime(ta, sizeof(ta), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	t = d0 - 3 * DAY + 12 * 3600 + 60;
	strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	/* Worst first: B 1/3, then A 2/4. */
	snprintf(want, sizeof(want), ACCT_B "|-|3|1|2|0.3333|%s\n"
	    ACCT_A "|prod|4|2|4|0.5000|%s\n", tb, ta);
	assert_string_equal(shell(f->path, "latest-scores.sql", NULL), want);
	/* The day 40 days back is outside the window. */
	snprintf(want, sizeof(want), "%s|2|7|4|3|0.5714\n%s|1|4|2|4|0.5000\n",
	    d3, dt);
	assert_string_equal(shell(f->path, "trend-30-days.sql", NULL), want);
	assert_string_equal(shell(f->path, "worst-types.sql", NULL),
	    "ec2:instance|3|2|0.6667|3\ns3:bucket|1|0|0.0000|1\n");
	assert_string_equal(shell(f->path, "account-violations.sql",
	    ".param set :account_id '" ACCT_A "'"),
	    "eu-west-1|arn:aws:s3:::b1|CostCenter|invalid_value|warning|cc-1\n"
	    "us-east-1|arn:aws:ec2:us-east-1:1:instance/i-2|Environment|"
	    "invalid_value|error|prod\n"
	    "us-east-1|arn:aws:ec2:us-east-1:1:instance/i-2|Owner|"
	    "missing_required_tag|error|-\n"
	    "us-east-1|arn:aws:ec2:us-east-1:1:instance/i-3|Owner|"
	    "missing_required_tag|error|-\n");
	assert_string_equal(shell(f->path, "failed-last-scan.sql", NULL),
	    ACCT_B "|timeout|scan timed out after 30 s\n");
}

static void
test_store_cache_find(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct store_account *a = account_a();
	struct store_account_row row = { .account_id = ACCT_A, .status = "ok",
	    .started_at = 1000000, .finished_at = 1000000,
	    .account_alias = "prod", .assumed_role_arn =
	    "arn:aws:iam::111111111111:role/R", .cache_key = KEY };
	struct store_cached hit;
	struct errbuf err;
	json_t *resources, *regions;
	int64_t s1, s2;

	account_a_json(&resources, &regions);
	s1 = begin_scan(st, 1000000);
	assert_int_equal(store_account_commit(st, s1, &row, a, &err), 0);
	assert_int_equal(store_cache_find(st, ACCT_A, KEY, 999000, &hit,
	    &err), 1);
	assert_int_equal(hit.scan_id, s1);
	assert_int_equal(hit.finished_at, 1000000);
	assert_string_equal(hit.account_alias, "prod");
	assert_string_equal(hit.assumed_role_arn, row.assumed_role_arn);
	/* The same resources, violations and regions as were written. */
	assert_true(json_equal(hit.resources, resources));
	assert_true(json_equal(hit.regions, regions));
	json_decref(resources);
	json_decref(regions);
	store_cached_clear(&hit);
	/* Another key, another account, or too old: no hit. */
	assert_int_equal(store_cache_find(st, ACCT_A, "other", 0, &hit, &err),
	    0);
	assert_int_equal(store_cache_find(st, ACCT_B, KEY, 0, &hit, &err), 0);
	assert_int_equal(store_cache_find(st, ACCT_A, KEY, 1000001, &hit,
	    &err), 0);
	/* A later reuse (from_cache) never extends the original's age. */
	s2 = begin_scan(st, 2000000);
	row.from_cache = 1;
	row.cache_scan_id = s1;
	row.finished_at = 2000000;
	assert_int_equal(store_account_commit(st, s2, &row, a, &err), 0);
	assert_int_equal(store_cache_find(st, ACCT_A, KEY, 1500000, &hit,
	    &err), 0);
	assert_int_equal(store_cache_find(st, ACCT_A, KEY, 0, &hit, &err), 1);
	assert_int_equal(hit.scan_id, s1);
	store_cached_clear(&hit);
	store_account_free(a);
	store_close(st);
}

static void
test_store_redact_rules(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "AccessDenied: " AKID " is not authorized",
		  "AccessDenied: [redacted] is not authorized" },
		{ "key=ASIAIOSFODNN7EXAMPLE;", "key=[redacted];" },
		{ "secret " SECRET " end", "secret [redacted] end" },
		/* A hex digest has no upper case: kept. */
		{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852"
		  "b855", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4"
		  "95991b7852b855" },
		{ "arn:aws:ec2:us-east-1:111111111111:instance/"
		  "i-0123456789abcdef0", "arn:aws:ec2:us-east-1:111111111111:"
		  "instance/i-0123456789abcdef0" },
		{ "production", "production" },
		{ "", "" },
		/* AKIA followed by lower case is not a key ID. */
		{ "AKIAnotakeyatallreally", "AKIAnotakeyatallreally" },
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		s = store_redact(cases[i].in);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

/* Does the file contain needle anywhere? */
static int
file_has(const char *path, const char *needle)
{
	static char buf[4 * 1024 * 1024];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static void
test_store_no_credentials(void **state)
{
	static const char *const bad[] = {
		"secret", "token", "password", "credential", "access_key"
	};
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct store_account *a = store_account_new();
	struct store_account_row row = { .account_id = ACCT_A, .status = "ok",
	    .error = "AccessDenied for " AKID " signed with " SECRET,
	    .started_at = 1, .finished_at = 2,
	    .account_alias = "alias " AKID, .cache_key = KEY };
	char token[300], wal[160], sql[256];
	struct errbuf err;
	sqlite3_stmt *s;
	int64_t id;
	json_t *r;
	size_t i;

	/* No column whose name could mean a credential. */
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(st), "SELECT "
	    "lower(p.name) FROM sqlite_master AS m, pragma_table_info(m.name) "
	    "AS p WHERE m.type = 'table'", -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		for (i = 0; i < nitems(bad); i++)
			assert_null(strstr((const char *)sqlite3_column_text(s,
			    0), bad[i]));
	sqlite3_finalize(s);
	/* A session-token-shaped value: 280 mixed base64 characters. */
	for (i = 0; i < 280; i++)
		token[i] = "AbCdEf0123+/"[i % 12];
	token[280] = '\0';
	r = res("arn:aws:ec2:us-east-1:1:instance/i-1", "ec2:instance",
	    "us-east-1", 1, 1, 1, NULL);
	json_array_set_new(r, PROTO_RES_TAGS, json_pack("{s:s, s:s}", "Leak",
	    SECRET, "Token", token));
	json_array_set_new(r, PROTO_RES_STATE, json_string("pending " AKID));
	add_res(a, r);
	id = begin_scan(st, 1);
	assert_int_equal(store_account_commit(st, id, &row, a, &err),
	    0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM resources WHERE tags "
	    "LIKE '%%[redacted]%%' AND state = 'pending [redacted]'");
	assert_int_equal(db_int(store_sqlite(st), sql), 1);
	store_account_free(a);
	store_close(st);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_false(file_has(f->path, AKID));
	assert_false(file_has(f->path, SECRET));
	assert_false(file_has(f->path, token + 100));
	assert_false(file_has(wal, AKID));
	assert_true(file_has(f->path, "alias [redacted]"));
}

/*
 * The stored text skips the scrub only when it would not change: a run of
 * 19 key-ID characters is no key ID and stays; a key ID of exactly 20,
 * alone or after other run characters, is scrubbed, in tag values, tag
 * keys and plain columns.
 * Expected texts by hand: sorted keys, compact, as sqlite stores them.
 */
static void
test_store_redact_boundary(void **state)
{
	struct db_fixture *f = *state;
	struct store *st = db_open(f->path);
	struct store_account *a = store_account_new();
	struct store_account_row row = { .account_id = ACCT_A, .status = "ok",
	    .started_at = 1, .finished_at = 2, .cache_key = KEY };
	struct errbuf err;
	int64_t id;
	json_t *r;

	r = res("arn:aws:ec2:us-east-1:1:instance/i-1", "ec2:instance",
	    "us-east-1", 1, 1, 1, NULL);
	json_array_set_new(r, PROTO_RES_TAGS, json_pack("{s:s, s:s, s:s}",
	    "b", "id AKIAIOSFODNN7EXAMP " AKID, "a", "x" AKID,
	    "k" AKID, "v"));
	json_array_set_new(r, PROTO_RES_STATE,
	    json_string("s AKIAIOSFODNN7EXAMP"));
	json_array_set_new(r, PROTO_RES_CREATED_AT, json_string("c=" AKID));
	add_res(a, r);
	id = begin_scan(st, 1);
	assert_int_equal(store_account_commit(st, id, &row, a, &err), 0);
	assert_int_equal(db_int(store_sqlite(st), "SELECT count(*) FROM "
	    "resources WHERE tags = '{\"a\":\"x[redacted]\",\"b\":\"id "
	    "AKIAIOSFODNN7EXAMP [redacted]\",\"k[redacted]\":\"v\"}' AND "
	    "state = 's AKIAIOSFODNN7EXAMP' AND "
	    "created_at = 'c=[redacted]'"), 1);
	store_account_free(a);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_migrates_empty,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_reopen_is_noop,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_newer_db_refused,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_not_a_database,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_account_commit_atomic, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_failed_account_keeps_no_resources, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_rollback_leaves_nothing, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_kill_loses_only_account_in_flight, setup,
		    db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_views_hand_computed,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_queries_with_shell,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_cache_find,
		    setup, db_fixture_teardown),
		cmocka_unit_test(test_store_redact_rules),
		cmocka_unit_test_setup_teardown(test_store_redact_boundary,
		    setup, db_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_no_credentials,
		    setup, db_fixture_teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
