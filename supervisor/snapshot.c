/*
 * Reading a recorded scan back: resources and violations are read with
 * two ordered queries and merged by (account, ARN), so a scan of any size
 * costs two statements, not one per resource.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "errbuf.h"
#include "proto.h"
#include "snapshot.h"
#include "store.h"

static const char snapshot_sql_resources[] =
    "SELECT account_id, resource_arn, resource_id, resource_type, region, "
    "tags, tags_error, created_at, state, in_scope, compliant, "
    "CAST(julianday('now') - julianday(created_at) AS INTEGER) "
    "FROM resources WHERE scan_id = ?1 AND (?2 IS NULL OR account_id = ?2) "
    "ORDER BY account_id, resource_arn";

static const char snapshot_sql_violations[] =
    "SELECT account_id, resource_arn, tag_name, violation_type, severity, "
    "current_value, allowed_values, message "
    "FROM violations WHERE scan_id = ?1 AND (?2 IS NULL OR account_id = ?2) "
    "ORDER BY account_id, resource_arn, id";

static const char snapshot_sql_regions[] =
    "SELECT account_id, region, status, error, aws_code, resources "
    "FROM region_results WHERE scan_id = ?1 "
    "AND (?2 IS NULL OR account_id = ?2) ORDER BY account_id, region";

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static json_t *
col_string(sqlite3_stmt *st, int i)
{
	const char *s = col_text(st, i);
	json_t *v = s != NULL ? json_string(s) : NULL;

	return v != NULL ? v : json_null();
}

/* A JSON column (tags, allowed_values); null when NULL or unreadable. */
static json_t *
col_json(sqlite3_stmt *st, int i)
{
	const char *s = col_text(st, i);
	json_t *v = s != NULL ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;

	return v != NULL ? v : json_null();
}

static int
snapshot_prepare(struct store *store, const char *sql, int64_t scan_id,
    const char *account_id, sqlite3_stmt **st, struct errbuf *err)
{
	sqlite3 *db = store_sqlite(store);

	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(*st, 1, scan_id) != SQLITE_OK ||
	    (account_id != NULL ? sqlite3_bind_text(*st, 2, account_id, -1,
	    SQLITE_TRANSIENT) : sqlite3_bind_null(*st, 2)) != SQLITE_OK) {
		err_set(err, "history database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(*st);
		*st = NULL;
		return -1;
	}
	return 0;
}

static json_t *
snapshot_violation(sqlite3_stmt *st)
{
	json_t *v = json_object();

	json_object_set_new(v, "tag_name", col_string(st, 2));
	json_object_set_new(v, "violation_type", col_string(st, 3));
	json_object_set_new(v, "severity", col_string(st, 4));
	json_object_set_new(v, "current_value", col_string(st, 5));
	json_object_set_new(v, "allowed_values", col_json(st, 6));
	json_object_set_new(v, "message", col_string(st, 7));
	return v;
}

static json_t *
snapshot_resource(sqlite3_stmt *st)
{
	json_t *r = json_object();

	json_object_set_new(r, "resource_arn", col_string(st, 1));
	json_object_set_new(r, "resource_id", col_string(st, 2));
	json_object_set_new(r, "resource_type", col_string(st, 3));
	json_object_set_new(r, "region", col_string(st, 4));
	json_object_set_new(r, "tags", col_json(st, 5));
	json_object_set_new(r, "tags_error", col_string(st, 6));
	json_object_set_new(r, "created_at", col_string(st, 7));
	json_object_set_new(r, "state", col_string(st, 8));
	json_object_set_new(r, "in_scope", json_boolean(
	    sqlite3_column_int(st, 9)));
	json_object_set_new(r, "compliant", json_boolean(
	    sqlite3_column_int(st, 10)));
	json_object_set_new(r, "violations", json_array());
	json_object_set_new(r, "age_days", sqlite3_column_type(st, 11) ==
	    SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(st,
	    11)));
	return r;
}

/* An object's values in the order of a row whose value names are given. */
static json_t *
row_from(const json_t *o, const char *(*name)(size_t), size_t n)
{
	json_t *row = json_array();
	const json_t *v;
	size_t i;

	for (i = 0; i < n; i++) {
		v = json_object_get(o, name(i));
		json_array_append_new(row, v != NULL ?
		    json_incref((json_t *)v) : json_null());
	}
	return row;
}

json_t *
snapshot_row(const json_t *resource)
{
	json_t *row = row_from(resource, proto_resource_name,
	    PROTO_RES_NFIELDS);
	json_t *list = json_array();
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(resource, "violations"), i, v)
		json_array_append_new(list, row_from(v, proto_violation_name,
		    PROTO_VIOL_NFIELDS));
	json_array_set_new(row, PROTO_RES_VIOLATIONS, list);
	return row;
}

/* Compare the (account, ARN) of a violation row with a resource's. */
static int
key_cmp(sqlite3_stmt *v, const char *account, const char *arn)
{
	int c = strcmp(col_text(v, 0) != NULL ? col_text(v, 0) : "", account);

	return c != 0 ? c : strcmp(col_text(v, 1) != NULL ? col_text(v, 1) :
	    "", arn);
}

/*
 * Move the violation cursor past rows before this resource and attach the
 * rows of it. *vrc is the cursor's last sqlite3_step result.
 */
static void
snapshot_attach(sqlite3_stmt *vs, int *vrc, const char *account,
    json_t *resource)
{
	const char *arn = json_string_value(json_object_get(resource,
	    "resource_arn"));
	json_t *list = json_object_get(resource, "violations");
	int c;

	if (arn == NULL)
		return;
	while (*vrc == SQLITE_ROW && (c = key_cmp(vs, account, arn)) <= 0) {
		if (c == 0)
			json_array_append_new(list, snapshot_violation(vs));
		*vrc = sqlite3_step(vs);
	}
}

int
snapshot_resources(struct store *store, int64_t scan_id,
    const char *account_id,
    int (*fn)(const char *, const json_t *, void *), void *arg,
    struct errbuf *err)
{
	sqlite3_stmt *rs = NULL, *vs = NULL;
	char account[16];
	json_t *r;
	int rrc, vrc, rc = 0;

	if (snapshot_prepare(store, snapshot_sql_resources, scan_id,
	    account_id, &rs, err) == -1 || snapshot_prepare(store,
	    snapshot_sql_violations, scan_id, account_id, &vs, err) == -1) {
		sqlite3_finalize(rs);
		return -1;
	}
	vrc = sqlite3_step(vs);
	while (rc == 0 && (rrc = sqlite3_step(rs)) == SQLITE_ROW) {
		snprintf(account, sizeof(account), "%s", col_text(rs, 0) !=
		    NULL ? col_text(rs, 0) : "");
		r = snapshot_resource(rs);
		snapshot_attach(vs, &vrc, account, r);
		rc = fn(account, r, arg);	/* -1: fn has set err */
		json_decref(r);
	}
	if (rc == 0 && (rrc != SQLITE_DONE || (vrc != SQLITE_DONE &&
	    vrc != SQLITE_ROW)))
		rc = err_set(err, "history database: reading scan %lld: %s",
		    (long long)scan_id, sqlite3_errmsg(store_sqlite(store)));
	sqlite3_finalize(rs);
	sqlite3_finalize(vs);
	return rc;
}

int
snapshot_regions(struct store *store, int64_t scan_id,
    const char *account_id,
    int (*fn)(const char *, const json_t *, void *), void *arg,
    struct errbuf *err)
{
	sqlite3_stmt *st;
	json_t *r;
	int step, rc = 0;

	if (snapshot_prepare(store, snapshot_sql_regions, scan_id, account_id,
	    &st, err) == -1)
		return -1;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		r = json_pack("{s:o, s:o, s:o, s:o, s:I}", "region",
		    col_string(st, 1), "status", col_string(st, 2), "error",
		    col_string(st, 3), "aws_code", col_string(st, 4),
		    "resources", (json_int_t)sqlite3_column_int64(st, 5));
		rc = fn(col_text(st, 0) != NULL ? col_text(st, 0) : "", r, arg);
		json_decref(r);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = err_set(err, "history database: reading scan %lld: %s",
		    (long long)scan_id, sqlite3_errmsg(store_sqlite(store)));
	sqlite3_finalize(st);
	return rc;
}
