/*
 * Cost Explorer answers in the history database (sql/002-cost.sql): the
 * per-day cache of fetches and their lines, and the cost attribution gap,
 * computed in SQL by joining the lines with the cost_resources view of a
 * scan's resources. Amounts stay integer nano-dollars from end to end.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "ce.h"
#include "costdb.h"
#include "errbuf.h"
#include "store.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The statements are prepared for each call rather than once: store.c owns
 * the connection and its statement table, and these run a few times per
 * account and scan, where a prepare costs microseconds. The loops that
 * matter (one row per line) reuse one statement.
 */

/* ?1..?8 of every statement on the cache key (costdb_bind_key). */
#define KEY_WHERE	"day = ?1 AND caller_account = ?2 AND account_id = ?3 " \
	"AND method = ?4 AND coalesce(tag_key, '') = ?5 AND period_start = ?6 " \
	"AND period_end = ?7 AND metric = ?8"

static const char sql_find[] =
    "SELECT id, status FROM cost_fetches WHERE " KEY_WHERE;
/* The lines go with the fetch (ON DELETE CASCADE). */
static const char sql_delete[] =
    "DELETE FROM cost_fetches WHERE " KEY_WHERE;
static const char sql_insert[] =
    "INSERT INTO cost_fetches (day, caller_account, account_id, method, "
    "tag_key, period_start, period_end, metric, status, requests) "
    "VALUES (?1, ?2, ?3, ?4, nullif(?5, ''), ?6, ?7, ?8, ?9, ?10)";
static const char sql_line[] =
    "INSERT INTO cost_lines (fetch_id, key, amount_nanos) VALUES (?, ?, ?)";
static const char sql_fetch_account[] =
    "SELECT account_id FROM cost_fetches WHERE id = ?";
/* The primary key's order is key order: no sort. */
static const char sql_lines[] =
    "SELECT key, amount_nanos FROM cost_lines WHERE fetch_id = ? "
    "ORDER BY key";
static const char sql_cost[] =
    "SELECT amount_nanos FROM cost_lines WHERE fetch_id = ? AND key = ?";

/*
 * The whole gap in one statement, one row per figure: the first column
 * says which (gap_parts below), the second names a breakdown's entry.
 * hit is every resource of the scan's account that has a line (one
 * primary-key lookup each). A resource with several error violations on
 * one key counts once under it (DISTINCT), and once in violating. The
 * by-key arm goes from those (resource, key) pairs through the primary
 * keys of resources and cost_lines: joined with hit instead, it would be
 * a nested scan of hit per pair (seconds at 20,000 resources).
 */
static const char sql_gap[] =
    "WITH hit AS MATERIALIZED ("
    " SELECT c.resource_arn, c.region, c.resource_type, c.violating,"
    "  c.unreadable, l.amount_nanos AS nanos"
    " FROM cost_resources AS c JOIN cost_lines AS l"
    "  ON l.fetch_id = ?3 AND l.key = c.ce_resource_id"
    " WHERE c.scan_id = ?1 AND c.account_id = ?2) "
    "SELECT 0, NULL, coalesce(sum(CASE WHEN violating THEN nanos END), 0)"
    " FROM hit "
    "UNION ALL SELECT 1, NULL,"
    " coalesce(sum(CASE WHEN unreadable THEN nanos END), 0) FROM hit "
    "UNION ALL SELECT 2, NULL, coalesce(sum(nanos), 0) FROM hit "
    "UNION ALL SELECT 3, NULL, coalesce(sum(amount_nanos), 0)"
    " FROM cost_lines WHERE fetch_id = ?3 "
    "UNION ALL SELECT 4, region, sum(nanos) FROM hit"
    " WHERE violating OR unreadable GROUP BY region "
    "UNION ALL SELECT 5, resource_type, sum(nanos) FROM hit"
    " WHERE violating OR unreadable GROUP BY resource_type "
    "UNION ALL SELECT 6, t.tag_name, sum(l.amount_nanos)"
    " FROM (SELECT DISTINCT resource_arn, tag_name FROM violations"
    "  WHERE scan_id = ?1 AND account_id = ?2 AND severity = 'error') AS t"
    " JOIN cost_resources AS c ON c.scan_id = ?1 AND c.account_id = ?2"
    "  AND c.resource_arn = t.resource_arn"
    " JOIN cost_lines AS l ON l.fetch_id = ?3 AND l.key = c.ce_resource_id"
    " GROUP BY t.tag_name";

/* Column 0 of sql_gap: 0..3 are sums, 4..6 the breakdowns' entries. */
#define GAP_NSUMS	4

static const struct {
	enum costdb_status	 status;
	const char		*text;
} status_names[] = {
	{ COSTDB_OK, "ok" },
	{ COSTDB_UNAVAILABLE, "unavailable" },
};

/*
 * How Cost Explorer names a resource in RESOURCE_ID, as the cost_resources
 * view in sql/002-cost.sql does: a prefix (ending in ':') or an exact type
 * names the types it calls by their id.
 */
static const char *const ce_id_types[] = {
	"ec2:",		/* instance i-..., volume vol-... */
	"s3:bucket",	/* the bucket name */
};

static const char *
costdb_path(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");

	return path != NULL && *path != '\0' ? path : ":memory:";
}

/* "HISTORY_DB_PATH=path: what: SQLite's reason". */
static int
costdb_sqlerr(sqlite3 *db, struct errbuf *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
costdb_sqlerr(sqlite3 *db, struct errbuf *err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(err, "HISTORY_DB_PATH=%s: %s: %s", costdb_path(db),
	    what, sqlite3_errmsg(db));
}

static sqlite3_stmt *
costdb_prepare(sqlite3 *db, const char *sql, struct errbuf *err)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		costdb_sqlerr(db, err, "cannot prepare a cost statement "
		    "(schema damaged?)");
		return NULL;
	}
	return s;
}

static void
costdb_bind_key(sqlite3_stmt *s, const struct costdb_key *k)
{
	sqlite3_bind_text(s, 1, k->day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, k->caller_account, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, k->account_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, k->tag_key == NULL ? "resource" : "tag", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 5, k->tag_key == NULL ? "" : k->tag_key, -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 6, k->start, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, k->end, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, k->metric, -1, SQLITE_STATIC);
}

static const char *
costdb_status_text(enum costdb_status status)
{
	size_t i;

	for (i = 0; i < nitems(status_names); i++)
		if (status_names[i].status == status)
			return status_names[i].text;
	return NULL;
}

static int
costdb_status_parse(const char *text, enum costdb_status *status)
{
	size_t i;

	for (i = 0; text != NULL && i < nitems(status_names); i++)
		if (strcmp(status_names[i].text, text) == 0) {
			*status = status_names[i].status;
			return 0;
		}
	return -1;
}

/* --- the cache --- */

int
costdb_find(struct store *st, const struct costdb_key *k, int64_t *fetch_id,
    enum costdb_status *status, struct errbuf *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s;
	int rc, rv;

	if ((s = costdb_prepare(db, sql_find, err)) == NULL)
		return -1;
	costdb_bind_key(s, k);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*fetch_id = sqlite3_column_int64(s, 0);
		rv = 1;
		if (costdb_status_parse((const char *)sqlite3_column_text(s, 1),
		    status) == -1)
			rv = err_set(err, "HISTORY_DB_PATH=%s: cost fetch %lld "
			    "has an unknown status; the schema is damaged",
			    costdb_path(db), (long long)*fetch_id);
	} else if (rc == SQLITE_DONE)
		rv = 0;
	else
		rv = costdb_sqlerr(db, err, "cannot look up the cached Cost "
		    "Explorer answer for account %s", k->account_id);
	sqlite3_finalize(s);
	return rv;
}

/*
 * Run a statement on the key that returns no row: the delete (status
 * NULL) or the insert, which also takes ?9 status and ?10 requests.
 */
static int
costdb_exec_key(sqlite3 *db, const char *sql, const struct costdb_key *k,
    const char *status, unsigned requests, struct errbuf *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = costdb_prepare(db, sql, err)) == NULL)
		return -1;
	costdb_bind_key(s, k);
	if (status != NULL) {
		sqlite3_bind_text(s, 9, status, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 10, requests);
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		costdb_sqlerr(db, err, "cannot cache the Cost Explorer answer "
		    "for account %s", k->account_id);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
costdb_put_lines(sqlite3 *db, int64_t fetch_id, const char *account_id,
    const struct ce_lines *lines, struct errbuf *err)
{
	const struct ce_line *l;
	sqlite3_stmt *s;
	char *key;
	size_t i;
	int rc = SQLITE_DONE;

	if ((s = costdb_prepare(db, sql_line, err)) == NULL)
		return -1;
	for (i = 0; rc == SQLITE_DONE && i < lines->count; i++) {
		l = &lines->v[i];
		if (strcmp(l->account_id, account_id) != 0)
			continue;
		sqlite3_bind_int64(s, 1, fetch_id);
		sqlite3_bind_text(s, 2, l->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, l->nanos);
		if ((rc = sqlite3_step(s)) != SQLITE_DONE) {
			/* The key is AWS's text: scrubbed like any other. */
			key = store_redact(l->key);
			costdb_sqlerr(db, err, "cannot cache the Cost Explorer "
			    "line \"%s\" of account %s", key, account_id);
			free(key);
		}
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
costdb_put(struct store *st, const struct costdb_key *k,
    enum costdb_status status, unsigned requests,
    const struct ce_lines *lines, int64_t *fetch_id, struct errbuf *err)
{
	sqlite3 *db = store_sqlite(st);
	int rv;

	/* IMMEDIATE: take the write lock now, so busy_timeout applies. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return costdb_sqlerr(db, err, "cannot begin caching the Cost "
		    "Explorer answer for account %s", k->account_id);
	rv = costdb_exec_key(db, sql_delete, k, NULL, 0, err);
	if (rv == 0)
		rv = costdb_exec_key(db, sql_insert, k,
		    costdb_status_text(status), requests, err);
	if (rv == 0) {
		*fetch_id = sqlite3_last_insert_rowid(db);
		/* DataUnavailableException has no lines by definition. */
		if (status == COSTDB_OK && lines != NULL)
			rv = costdb_put_lines(db, *fetch_id, k->account_id,
			    lines, err);
	}
	if (rv == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK)
		rv = costdb_sqlerr(db, err, "cannot commit the Cost Explorer "
		    "answer for account %s", k->account_id);
	if (rv == -1)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rv;
}

/* --- the gap --- */

/* The fetch must exist and cover account_id, or the join means nothing. */
static int
costdb_check_fetch(sqlite3 *db, int64_t fetch_id, const char *account_id,
    struct errbuf *err)
{
	sqlite3_stmt *s;
	const char *acct;
	int rc, rv = 0;

	if ((s = costdb_prepare(db, sql_fetch_account, err)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, fetch_id);
	rc = sqlite3_step(s);
	acct = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) :
	    NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = costdb_sqlerr(db, err, "cannot read cost fetch %lld",
		    (long long)fetch_id);
	else if (acct == NULL)
		rv = err_set(err, "HISTORY_DB_PATH=%s: cost fetch %lld does "
		    "not exist", costdb_path(db), (long long)fetch_id);
	else if (strcmp(acct, account_id) != 0)
		rv = err_set(err, "HISTORY_DB_PATH=%s: cost fetch %lld covers "
		    "account %s, not %s", costdb_path(db), (long long)fetch_id,
		    acct, account_id);
	sqlite3_finalize(s);
	return rv;
}

/* One row of sql_gap into its sum or breakdown. */
static int
costdb_gap_row(sqlite3_stmt *s, struct costdb_gap *g)
{
	int64_t *sums[GAP_NSUMS] = { &g->violating, &g->unreadable,
	    &g->matched, &g->total };
	json_t *objs[] = { g->by_region, g->by_type, g->by_tag_key };
	int part = sqlite3_column_int(s, 0);
	const char *name = (const char *)sqlite3_column_text(s, 1);
	int64_t nanos = sqlite3_column_int64(s, 2);

	if (part >= 0 && part < GAP_NSUMS) {
		*sums[part] = nanos;
		return 0;
	}
	part -= GAP_NSUMS;
	if (part < 0 || (size_t)part >= nitems(objs) || name == NULL)
		return -1;
	return json_object_set_new(objs[part], name, json_integer(nanos));
}

int
costdb_resource_gap(struct store *st, int64_t scan_id,
    const char *account_id, int64_t fetch_id, struct costdb_gap *g,
    struct errbuf *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s;
	int rc, rv = 0;

	memset(g, 0, sizeof(*g));
	g->by_region = json_object();
	g->by_type = json_object();
	g->by_tag_key = json_object();
	if (costdb_check_fetch(db, fetch_id, account_id, err) == -1 ||
	    (s = costdb_prepare(db, sql_gap, err)) == NULL) {
		costdb_gap_clear(g);
		return -1;
	}
	sqlite3_bind_int64(s, 1, scan_id);
	sqlite3_bind_text(s, 2, account_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, fetch_id);
	while (rv == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		if (costdb_gap_row(s, g) == -1)
			rv = err_set(err, "HISTORY_DB_PATH=%s: scan %lld account "
			    "%s: a region, type or tag name that is not UTF-8",
			    costdb_path(db), (long long)scan_id, account_id);
	/* SUM() fails with "integer overflow" rather than round. */
	if (rv == 0 && rc != SQLITE_DONE)
		rv = costdb_sqlerr(db, err, "cannot compute the cost gap of "
		    "scan %lld account %s", (long long)scan_id, account_id);
	sqlite3_finalize(s);
	if (rv == -1)
		costdb_gap_clear(g);
	return rv;
}

void
costdb_gap_clear(struct costdb_gap *g)
{
	json_decref(g->by_region);
	json_decref(g->by_type);
	json_decref(g->by_tag_key);
	memset(g, 0, sizeof(*g));
}

/* --- reading lines --- */

int
costdb_lines(struct store *st, int64_t fetch_id,
    int (*fn)(const char *, int64_t, void *), void *arg, struct errbuf *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s;
	int rc, rv = 0;

	if ((s = costdb_prepare(db, sql_lines, err)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, fetch_id);
	/* A failing fn reports through arg; err is left as it was. */
	while (rv == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		rv = fn((const char *)sqlite3_column_text(s, 0),
		    sqlite3_column_int64(s, 1), arg);
	if (rv == 0 && rc != SQLITE_DONE)
		rv = costdb_sqlerr(db, err, "cannot read the lines of cost "
		    "fetch %lld", (long long)fetch_id);
	sqlite3_finalize(s);
	return rv == 0 ? 0 : -1;
}

int
costdb_resource_cost(struct store *st, int64_t fetch_id,
    const char *ce_resource_id, int64_t *nanos, struct errbuf *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s;
	int rc;

	if ((s = costdb_prepare(db, sql_cost, err)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, fetch_id);
	sqlite3_bind_text(s, 2, ce_resource_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*nanos = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		costdb_sqlerr(db, err, "cannot read the cost of a resource in "
		    "cost fetch %lld", (long long)fetch_id);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

const char *
costdb_ce_resource_id(const char *resource_type, const char *resource_id,
    const char *arn)
{
	const char *t;
	size_t i, n;

	for (i = 0; i < nitems(ce_id_types); i++) {
		t = ce_id_types[i];
		n = strlen(t);
		/* "ec2:" is a prefix; "s3:bucket" must match whole. */
		if (t[n - 1] == ':' ? strncmp(resource_type, t, n) == 0 :
		    strcmp(resource_type, t) == 0)
			return resource_id;
	}
	return arn;
}
