/*
 * The scan history in SQLite (schema: the sql/NNN-name.sql files, embedded
 * at build time): open with WAL, a busy timeout and foreign keys, migrate
 * by PRAGMA user_version, and write each finished account in one
 * transaction from rows buffered in memory. Statements are prepared once.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "awsjson.h"
#include "errbuf.h"
#include "log.h"
#include "proto.h"
#include "rowbuf.h"
#include "store.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* The text of sql/NNN-*.sql, generated into sql/schema.c by the build. */
extern const char store_sql_001_initial[];
extern const char store_sql_002_cost[];

/* Applied in order; a new schema change is a new file and a new row. */
static const struct migration {
	int		 version;
	const char	*file;
	const char	*sql;
} migrations[] = {
	{ 1, "sql/001-initial.sql", store_sql_001_initial },
	{ 2, "sql/002-cost.sql", store_sql_002_cost },
};

enum store_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SCAN_BEGIN,
	ST_SCAN_FINISH,
	ST_ACCOUNT,
	ST_REGION,
	ST_RESOURCE,
	ST_VIOLATION,
	ST_CACHE_FIND,
	ST_CACHE_RESOURCES,
	ST_CACHE_VIOLATIONS,
	ST_CACHE_REGIONS,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	/* IMMEDIATE: take the write lock now, so busy_timeout applies here. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SCAN_BEGIN] = "INSERT INTO scans (started_at, multi_account, "
	    "requested_accounts, requested_regions, requested_types, "
	    "policy_hash) VALUES (?, ?, ?, ?, ?, ?)",
	[ST_SCAN_FINISH] = "UPDATE scans SET finished_at = ?, status = ?, "
	    "error = ?, cost_collected = ?, accounts_total = ?, "
	    "accounts_ok = ?, total_resources = ?, compliant_resources = ?, "
	    "violation_count = ? WHERE id = ?",
	[ST_ACCOUNT] = "INSERT INTO account_results (scan_id, account_id, "
	    "status, error, started_at, finished_at, duration_ms, "
	    "account_alias, total_resources, compliant_resources, "
	    "violation_count, unreadable_resources, assumed_role_arn, "
	    "cache_key, from_cache, cache_scan_id) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	/* A region reported twice keeps its last report. */
	[ST_REGION] = "INSERT OR REPLACE INTO region_results (scan_id, "
	    "account_id, region, status, error, aws_code, resources) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)",
	[ST_RESOURCE] = "INSERT INTO resources (scan_id, account_id, region, "
	    "resource_arn, resource_type, resource_id, tags, tags_error, "
	    "compliant, in_scope, created_at, state) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_VIOLATION] = "INSERT INTO violations (scan_id, account_id, "
	    "region, resource_arn, resource_type, tag_name, violation_type, "
	    "severity, current_value, allowed_values, message) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_CACHE_FIND] = "SELECT scan_id, CAST(strftime('%s', finished_at) "
	    "AS INTEGER), account_alias, assumed_role_arn "
	    "FROM account_results WHERE account_id = ? AND cache_key = ? "
	    "AND status = 'ok' AND from_cache = 0 AND finished_at >= ? "
	    "ORDER BY finished_at DESC, scan_id DESC LIMIT 1",
	[ST_CACHE_RESOURCES] = "SELECT region, resource_arn, resource_type, "
	    "resource_id, tags, tags_error, compliant, in_scope, created_at, "
	    "state FROM resources WHERE scan_id = ? AND account_id = ? "
	    "ORDER BY rowid",
	[ST_CACHE_VIOLATIONS] = "SELECT resource_arn, tag_name, "
	    "violation_type, severity, current_value, allowed_values, message "
	    "FROM violations WHERE scan_id = ? AND account_id = ? ORDER BY id",
	[ST_CACHE_REGIONS] = "SELECT region, status, error, aws_code, "
	    "resources FROM region_results WHERE scan_id = ? AND "
	    "account_id = ? ORDER BY rowid",
};

struct store {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*stmt[ST_COUNT];
};

struct store_account {
	struct rowbuf	*rows;		/* resources, each then its violations */
	size_t		 nresources;
	json_t		*regions;
};

/* "YYYY-MM-DDTHH:MM:SSZ": fixed width, so text order is time order. */
#define STORE_TIME_SIZE	21

static void
store_time(time_t t, char buf[STORE_TIME_SIZE])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, STORE_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(buf, "1970-01-01T00:00:00Z");
}

int
store_schema_version(void)
{
	return migrations[nitems(migrations) - 1].version;
}

/* --- credential scrubbing --- */

/* The alphabet of secret access keys and session tokens (base64). */
static int
redact_runchar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* AKIA (long-term) or ASIA (temporary) and 16 more: an access key ID. */
static int
redact_keyid(const char *s, size_t len)
{
	size_t i;

	if (len < 20 || (strncmp(s, "AKIA", 4) != 0 &&
	    strncmp(s, "ASIA", 4) != 0))
		return 0;
	for (i = 4; i < 20; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/*
 * A secret access key is 40 base64 characters and a session token
 * hundreds; both mix upper case, lower case and digits or symbols. Words,
 * hex digests and ARN parts (split by ':') do not look like that.
 */
static int
redact_secret(const char *s, size_t len)
{
	int upper = 0, lower = 0, other = 0;
	size_t i;

	if (len < 40)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			upper = 1;
		else if (s[i] >= 'a' && s[i] <= 'z')
			lower = 1;
		else
			other = 1;
	}
	return upper && lower && other;
}

char *
store_redact(const char *s)
{
	size_t len = strlen(s), i = 0, j, k, o = 0;
	char *out = xmalloc(len + sizeof(STORE_REDACTED));

	while (i < len) {
		if (!redact_runchar((unsigned char)s[i])) {
			out[o++] = s[i++];
			continue;
		}
		for (j = i; j < len && redact_runchar((unsigned char)s[j]); j++)
			;
		if (redact_secret(s + i, j - i)) {
			memcpy(out + o, STORE_REDACTED, strlen(STORE_REDACTED));
			o += strlen(STORE_REDACTED);
			i = j;
			continue;
		}
		for (k = i; k < j; ) {
			if (redact_keyid(s + k, j - k)) {
				memcpy(out + o, STORE_REDACTED,
				    strlen(STORE_REDACTED));
				o += strlen(STORE_REDACTED);
				k += 20;
			} else
				out[o++] = s[k++];
		}
		i = j;
	}
	out[o] = '\0';
	return out;
}

/*
 * Whether store_redact() would change s: both rules need a run of at least
 * 20 base64 characters (an access key ID inside a run, or a 40-character
 * secret), so text without such a run is stored as it is. Most tag values
 * and messages have none; they skip the copy.
 */
static int
redact_needed(const char *s)
{
	size_t run = 0;

	for (; *s != '\0'; s++) {
		if (!redact_runchar((unsigned char)*s))
			run = 0;
		else if (++run >= 20)
			return 1;
	}
	return 0;
}

/* Whether any key or string in v would be scrubbed. */
static int
redact_json_needed(const json_t *v)
{
	const json_t *item;
	const char *key;
	size_t i;

	if (json_is_string(v))
		return redact_needed(json_string_value(v));
	json_array_foreach(v, i, item)
		if (redact_json_needed(item))
			return 1;
	json_object_foreach((json_t *)v, key, item)
		if (redact_needed(key) || redact_json_needed(item))
			return 1;
	return 0;
}

/* A JSON object of strings or array of strings, every string scrubbed. */
static json_t *
redact_json(const json_t *v)
{
	json_t *copy, *item;
	const char *key;
	char *rk, *rv;
	size_t i;

	if (json_is_array(v)) {
		copy = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(copy, redact_json(item));
		return copy;
	}
	if (json_is_object(v)) {
		copy = json_object();
		json_object_foreach((json_t *)v, key, item) {
			rk = store_redact(key);
			json_object_set_new(copy, rk, redact_json(item));
			free(rk);
		}
		return copy;
	}
	if (!json_is_string(v))
		return json_deep_copy(v);
	rv = store_redact(json_string_value(v));
	copy = json_string(rv);
	free(rv);
	return copy != NULL ? copy : json_null();
}

/* v itself (a new reference) when it holds nothing to scrub, else a copy. */
static json_t *
scrubbed(const json_t *v)
{
	if (!redact_json_needed(v))
		return json_incref((json_t *)v);
	return redact_json(v);
}

/* --- statements --- */

static int
store_sqlerr(struct store *st, struct errbuf *err, const char *what)
{
	return err_set(err, "HISTORY_DB_PATH=%s: %s: %s", st->path, what,
	    sqlite3_errmsg(st->db));
}

/*
 * Free text from outside (AWS, the worker) is scrubbed before it is kept:
 * a scrubbed copy, or NULL when text can be kept as it is.
 */
static char *
redacted(const char *text, int redact)
{
	if (text == NULL || !redact || !redact_needed(text))
		return NULL;
	return store_redact(text);
}

/*
 * SQLITE_STATIC: every caller's text outlives the store_step() that runs
 * the statement, and store_step() clears the bindings after it.
 */
static void
bind_text(sqlite3_stmt *s, int i, const char *text, int redact)
{
	char *r = redacted(text, redact);

	if (r != NULL)
		sqlite3_bind_text(s, i, r, -1, free);
	else if (text != NULL)
		sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void
bind_time(sqlite3_stmt *s, int i, time_t t)
{
	char buf[STORE_TIME_SIZE];

	store_time(t, buf);
	sqlite3_bind_text(s, i, buf, -1, SQLITE_TRANSIENT);
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Run a statement that returns no row, then make it ready for reuse. */
static int
store_step(struct store *st, enum store_stmt which, struct errbuf *err,
    const char *what)
{
	sqlite3_stmt *s = st->stmt[which];
	int rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		store_sqlerr(st, err, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static void
store_finish_query(struct store *st, enum store_stmt which)
{
	sqlite3_reset(st->stmt[which]);
	sqlite3_clear_bindings(st->stmt[which]);
}

/* --- open and migrate --- */

/* Create every missing directory above path, mode 0700. */
static int
store_mkdirs(const char *path, struct errbuf *err)
{
	char *dir = xstrdup(path), *p;
	struct stat sb;
	int rv = 0;

	for (p = dir + 1; rv == 0 && (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			rv = err_set(err, "HISTORY_DB_PATH=%s: cannot create "
			    "directory %s: %s; create it or choose another "
			    "path", path, dir, strerror(errno));
		else if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode))
			rv = err_set(err, "HISTORY_DB_PATH=%s: %s is not a "
			    "directory; choose another path", path, dir);
		*p = '/';
	}
	free(dir);
	return rv;
}

static int
store_user_version(struct store *st, int *version, struct errbuf *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
	    NULL) != SQLITE_OK)
		return store_sqlerr(st, err, "cannot read the schema version");
	rc = sqlite3_step(s);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_sqlerr(st, err, "cannot read the schema version");
	return 0;
}

/* One migration in one transaction, unless another process beat us. */
static int
store_apply(struct store *st, const struct migration *m, struct errbuf *err)
{
	char *sql;
	int version, rc;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return store_sqlerr(st, err, "cannot lock to migrate");
	if (store_user_version(st, &version, err) == -1) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	rc = SQLITE_OK;
	if (version < m->version) {
		sql = xprintf("%s\nPRAGMA user_version = %d;", m->sql,
		    m->version);
		rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
		free(sql);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, "HISTORY_DB_PATH=%s: migration %s failed: %s",
		    st->path, m->file, sqlite3_errmsg(st->db));
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (version < m->version)
		log_info("%s: schema migrated to version %d (%s)", st->path,
		    m->version, m->file);
	return 0;
}

static int
store_migrate(struct store *st, struct errbuf *err)
{
	int version, latest = store_schema_version();
	size_t i;

	if (store_user_version(st, &version, err) == -1)
		return -1;
	if (version > latest)
		return err_set(err, "HISTORY_DB_PATH=%s: the database has "
		    "schema version %d but this tagwarden knows only up to "
		    "version %d; upgrade tagwarden or use another "
		    "HISTORY_DB_PATH", st->path, version, latest);
	for (i = 0; i < nitems(migrations); i++)
		if (migrations[i].version > version &&
		    store_apply(st, &migrations[i], err) == -1)
			return -1;
	return 0;
}

/*
 * WAL lets history queries from the sqlite3 shell run during a scan;
 * synchronous=NORMAL is safe with WAL (a power cut may lose the last
 * commits, never corrupt), and a killed process loses nothing committed.
 */
static int
store_pragmas(struct store *st, struct errbuf *err)
{
	sqlite3_stmt *s;
	int wal = 0;

	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (sqlite3_exec(st->db, "PRAGMA foreign_keys = ON; "
	    "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(st, err, "cannot open the database");
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
	    NULL) != SQLITE_OK)
		return store_sqlerr(st, err, "cannot open the database");
	if (sqlite3_step(s) == SQLITE_ROW)
		wal = strcmp((const char *)sqlite3_column_text(s, 0),
		    "wal") == 0;
	sqlite3_finalize(s);
	if (!wal && strcmp(st->path, ":memory:") != 0)
		return store_sqlerr(st, err, "cannot use WAL journaling "
		    "(is the directory on a local file system?)");
	return 0;
}

static int
store_prepare(struct store *st, struct errbuf *err)
{
	size_t i;

	for (i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK)
			return store_sqlerr(st, err, "cannot prepare a "
			    "statement (schema damaged?)");
	return 0;
}

struct store *
store_open(const char *path, struct errbuf *err)
{
	struct store *st;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX;

	if (strcmp(path, ":memory:") != 0 && store_mkdirs(path, err) == -1)
		return NULL;
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		if (st->db == NULL)
			fatalx("%s: out of memory", __func__);
		store_sqlerr(st, err, "cannot open");
		store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (store_pragmas(st, err) == -1 || store_migrate(st, err) == -1 ||
	    store_prepare(st, err) == -1) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("%s: close: %s", st->path, sqlite3_errmsg(st->db));
	free(st->path);
	free(st);
}

struct sqlite3 *
store_sqlite(struct store *st)
{
	return st->db;
}

/* --- scans --- */

static void
bind_array(sqlite3_stmt *s, int i, const json_t *a)
{
	json_t *clean;
	char *text;

	if (a == NULL) {
		sqlite3_bind_null(s, i);
		return;
	}
	clean = scrubbed(a);
	if ((text = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fatalx("%s: out of memory", __func__);
	json_decref(clean);
	sqlite3_bind_text(s, i, text, -1, free);
}

int
store_scan_begin(struct store *st, const struct store_scan *sc,
    int64_t *scan_id, struct errbuf *err)
{
	sqlite3_stmt *s = st->stmt[ST_SCAN_BEGIN];
	json_t *empty = json_array();

	bind_time(s, 1, sc->started_at);
	sqlite3_bind_int(s, 2, sc->multi_account != 0);
	bind_array(s, 3, sc->accounts != NULL ? sc->accounts : empty);
	bind_array(s, 4, sc->regions);
	bind_array(s, 5, sc->types != NULL ? sc->types : empty);
	bind_text(s, 6, sc->policy_hash, 0);
	json_decref(empty);
	if (store_step(st, ST_SCAN_BEGIN, err, "cannot record the scan") ==
	    -1)
		return -1;
	*scan_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_scan_finish(struct store *st, int64_t scan_id,
    const struct store_scan_end *e, struct errbuf *err)
{
	sqlite3_stmt *s = st->stmt[ST_SCAN_FINISH];

	bind_time(s, 1, e->finished_at);
	bind_text(s, 2, e->status, 0);
	bind_text(s, 3, e->error, 1);
	sqlite3_bind_int(s, 4, e->cost_collected != 0);
	sqlite3_bind_int64(s, 5, e->accounts_total);
	sqlite3_bind_int64(s, 6, e->accounts_ok);
	sqlite3_bind_int64(s, 7, e->total_resources);
	sqlite3_bind_int64(s, 8, e->compliant_resources);
	sqlite3_bind_int64(s, 9, e->violations);
	sqlite3_bind_int64(s, 10, scan_id);
	return store_step(st, ST_SCAN_FINISH, err, "cannot finish the scan");
}

/* --- one account's buffer --- */

/*
 * Values are taken out of the worker's JSON, scrubbed and dumped as they
 * arrive, so that the frame's tree is freed at once; the commit only binds.
 * A resource row holds ST_RESOURCE's parameters from 3 on, each violation
 * row ST_VIOLATION's from 6 on (3..5 are its resource's first three).
 */
enum buffered_row { ROW_RESOURCE, ROW_VIOLATION };

#define RESOURCE_VALUES		10
#define VIOLATION_VALUES	6

struct store_account *
store_account_new(void)
{
	struct store_account *a = xcalloc(1, sizeof(*a));

	a->rows = rowbuf_new();
	a->regions = json_array();
	return a;
}

void
store_account_free(struct store_account *a)
{
	if (a == NULL)
		return;
	rowbuf_free(a->rows);
	json_decref(a->regions);
	free(a);
}

static void
pack_text(struct rowbuf *rb, const char *text, int redact)
{
	char *r = redacted(text, redact);

	rowbuf_text(rb, r != NULL ? r : text);
	free(r);
}

/*
 * Sorted keys: the stored text does not depend on the order the worker
 * sent. Most documents (a resource's tags) fit the stack buffer, which
 * saves jansson's growing buffer and its copy.
 */
static void
pack_dump(struct rowbuf *rb, const json_t *v)
{
	char buf[4096], *text;
	size_t n;

	n = json_dumpb(v, buf, sizeof(buf), JSON_COMPACT | JSON_SORT_KEYS);
	if (n > 0 && n <= sizeof(buf)) {
		rowbuf_textn(rb, buf, n);
		return;
	}
	if ((text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fatalx("%s: out of memory", __func__);
	rowbuf_text(rb, text);
	free(text);
}

static void
pack_json(struct rowbuf *rb, const json_t *v)
{
	json_t *clean;

	if (v == NULL || json_is_null(v)) {
		rowbuf_text(rb, NULL);
		return;
	}
	clean = scrubbed(v);
	pack_dump(rb, clean);
	json_decref(clean);
}

static void
pack_violation(struct rowbuf *rb, const json_t *v)
{
	rowbuf_row(rb, ROW_VIOLATION);
	pack_text(rb, proto_row_str(v, PROTO_VIOL_TAG_NAME), 1);
	pack_text(rb, proto_row_str(v, PROTO_VIOL_TYPE), 0);
	pack_text(rb, proto_row_str(v, PROTO_VIOL_SEVERITY), 0);
	pack_text(rb, proto_row_str(v, PROTO_VIOL_CURRENT_VALUE), 1);
	pack_json(rb, json_array_get(v, PROTO_VIOL_ALLOWED_VALUES));
	pack_text(rb, proto_row_str(v, PROTO_VIOL_MESSAGE), 1);
}

/* A resource row (common/proto.h), checked by result_add_resource. */
void
store_account_add_resource(struct store_account *a, const json_t *r)
{
	const json_t *v;
	size_t i;

	rowbuf_row(a->rows, ROW_RESOURCE);
	pack_text(a->rows, proto_row_str(r, PROTO_RES_REGION), 1);
	pack_text(a->rows, proto_row_str(r, PROTO_RES_ARN), 1);
	pack_text(a->rows, proto_row_str(r, PROTO_RES_TYPE), 1);
	pack_text(a->rows, proto_row_str(r, PROTO_RES_ID), 1);
	pack_json(a->rows, json_array_get(r, PROTO_RES_TAGS));
	pack_text(a->rows, proto_row_str(r, PROTO_RES_TAGS_ERROR), 1);
	rowbuf_int(a->rows, json_is_true(json_array_get(r,
	    PROTO_RES_COMPLIANT)));
	rowbuf_int(a->rows, json_is_true(json_array_get(r,
	    PROTO_RES_IN_SCOPE)));
	pack_text(a->rows, proto_row_str(r, PROTO_RES_CREATED_AT), 1);
	pack_text(a->rows, proto_row_str(r, PROTO_RES_STATE), 1);
	json_array_foreach(json_array_get(r, PROTO_RES_VIOLATIONS), i, v)
		pack_violation(a->rows, v);
	a->nresources++;
}

void
store_account_add_region(struct store_account *a, json_t *region)
{
	json_array_append(a->regions, region);
}

size_t
store_account_nresources(const struct store_account *a)
{
	return a->nresources;
}

/* --- one account's transaction --- */

static int
insert_account(struct store *st, int64_t scan_id,
    const struct store_account_row *r, struct errbuf *err)
{
	sqlite3_stmt *s = st->stmt[ST_ACCOUNT];

	sqlite3_bind_int64(s, 1, scan_id);
	bind_text(s, 2, r->account_id, 0);
	bind_text(s, 3, r->status, 0);
	bind_text(s, 4, r->error, 1);
	bind_time(s, 5, r->started_at);
	bind_time(s, 6, r->finished_at);
	sqlite3_bind_int64(s, 7, r->duration_ms);
	bind_text(s, 8, r->account_alias, 1);
	sqlite3_bind_int64(s, 9, r->total_resources);
	sqlite3_bind_int64(s, 10, r->compliant_resources);
	sqlite3_bind_int64(s, 11, r->violations);
	sqlite3_bind_int64(s, 12, r->unreadable_resources);
	bind_text(s, 13, r->assumed_role_arn, 1);
	bind_text(s, 14, r->cache_key, 0);
	sqlite3_bind_int(s, 15, r->from_cache != 0);
	if (r->cache_scan_id != 0)
		sqlite3_bind_int64(s, 16, r->cache_scan_id);
	return store_step(st, ST_ACCOUNT, err, "cannot record the account");
}

static int
insert_regions(struct store *st, int64_t scan_id, const char *account_id,
    const json_t *regions, struct errbuf *err)
{
	sqlite3_stmt *s = st->stmt[ST_REGION];
	const json_t *r;
	size_t i;

	json_array_foreach(regions, i, r) {
		sqlite3_bind_int64(s, 1, scan_id);
		bind_text(s, 2, account_id, 0);
		bind_text(s, 3, jstr(r, "region"), 1);
		bind_text(s, 4, jstr(r, "status"), 0);
		bind_text(s, 5, jstr(r, "error"), 1);
		bind_text(s, 6, jstr(r, "aws_code"), 1);
		sqlite3_bind_int64(s, 7,
		    json_integer_value(json_object_get(r, "resources")));
		if (store_step(st, ST_REGION, err, "cannot record a region") ==
		    -1)
			return -1;
	}
	return 0;
}

/* Each buffered resource, then its violations with its region, ARN, type. */
static int
insert_resources(struct store *st, int64_t scan_id, const char *account_id,
    const struct rowbuf *rows, struct errbuf *err)
{
	sqlite3_stmt *res = st->stmt[ST_RESOURCE];
	sqlite3_stmt *vio = st->stmt[ST_VIOLATION];
	size_t pos = 0, parent = 0, at;
	int kind;

	while ((kind = rowbuf_next(rows, &pos)) != -1) {
		if (kind == ROW_RESOURCE) {
			parent = pos;
			sqlite3_bind_int64(res, 1, scan_id);
			bind_text(res, 2, account_id, 0);
			rowbuf_bind(rows, &pos, res, 3, RESOURCE_VALUES);
			if (store_step(st, ST_RESOURCE, err,
			    "cannot record a resource") == -1)
				return -1;
			continue;
		}
		sqlite3_bind_int64(vio, 1, scan_id);
		bind_text(vio, 2, account_id, 0);
		at = parent;
		rowbuf_bind(rows, &at, vio, 3, 3);
		rowbuf_bind(rows, &pos, vio, 6, VIOLATION_VALUES);
		if (store_step(st, ST_VIOLATION, err,
		    "cannot record a violation") == -1)
			return -1;
	}
	return 0;
}

int
store_account_commit(struct store *st, int64_t scan_id,
    const struct store_account_row *row, const struct store_account *a,
    struct errbuf *err)
{
	struct errbuf ignored;
	int rv;

	if (store_step(st, ST_BEGIN, err, "cannot begin the account's "
	    "transaction") == -1)
		return -1;
	rv = insert_account(st, scan_id, row, err);
	if (rv == 0 && a != NULL)
		rv = insert_regions(st, scan_id, row->account_id, a->regions,
		    err);
	if (rv == 0 && a != NULL && strcmp(row->status, "ok") == 0)
		rv = insert_resources(st, scan_id, row->account_id, a->rows,
		    err);
	if (rv == 0)
		rv = store_step(st, ST_COMMIT, err, "cannot commit the account");
	if (rv == -1) {
		err_prefix(err, "account %s", row->account_id);
		store_step(st, ST_ROLLBACK, &ignored, "rollback");
	}
	return rv;
}

/* --- the result cache --- */

static json_t *
col_json_str(sqlite3_stmt *s, int i)
{
	const char *text = (const char *)sqlite3_column_text(s, i);
	json_t *v;

	if (text == NULL || (v = json_string(text)) == NULL)
		return json_null();
	return v;
}

static json_t *
col_json_doc(sqlite3_stmt *s, int i)
{
	const char *text = (const char *)sqlite3_column_text(s, i);
	json_t *v;

	if (text == NULL || (v = json_loads(text, 0, NULL)) == NULL)
		return json_null();
	return v;
}

/* How a column of the cache's SELECTs becomes a row value. */
enum col_kind { COL_TEXT, COL_DOC, COL_BOOL, COL_EMPTY_LIST };

struct col {
	size_t		 index;		/* in the row */
	enum col_kind	 kind;
};

/* ST_CACHE_RESOURCES' columns in order; violations start empty. */
static const struct col resource_cols[] = {
	{ PROTO_RES_REGION, COL_TEXT },
	{ PROTO_RES_ARN, COL_TEXT },
	{ PROTO_RES_TYPE, COL_TEXT },
	{ PROTO_RES_ID, COL_TEXT },
	{ PROTO_RES_TAGS, COL_DOC },
	{ PROTO_RES_TAGS_ERROR, COL_TEXT },
	{ PROTO_RES_COMPLIANT, COL_BOOL },
	{ PROTO_RES_IN_SCOPE, COL_BOOL },
	{ PROTO_RES_CREATED_AT, COL_TEXT },
	{ PROTO_RES_STATE, COL_TEXT },
	{ PROTO_RES_VIOLATIONS, COL_EMPTY_LIST },
};

/* ST_CACHE_VIOLATIONS' columns after the resource's ARN. */
static const struct col violation_cols[] = {
	{ PROTO_VIOL_TAG_NAME, COL_TEXT },
	{ PROTO_VIOL_TYPE, COL_TEXT },
	{ PROTO_VIOL_SEVERITY, COL_TEXT },
	{ PROTO_VIOL_CURRENT_VALUE, COL_TEXT },
	{ PROTO_VIOL_ALLOWED_VALUES, COL_DOC },
	{ PROTO_VIOL_MESSAGE, COL_TEXT },
};

_Static_assert(nitems(resource_cols) == PROTO_RES_NFIELDS,
    "a cached resource row is incomplete");
_Static_assert(nitems(violation_cols) == PROTO_VIOL_NFIELDS,
    "a cached violation row is incomplete");

/* The row of ncols values from the statement's columns from first on. */
static json_t *
row_from_columns(sqlite3_stmt *s, int first, const struct col *cols,
    size_t ncols)
{
	/* A value a table forgot stays NULL: awsjson_row refuses the row. */
	json_t *v[PROTO_RES_NFIELDS] = { NULL }, *row;
	size_t i;
	int c;

	for (i = 0; i < ncols; i++) {
		c = first + (int)i;
		switch (cols[i].kind) {
		case COL_TEXT:
			v[cols[i].index] = col_json_str(s, c);
			break;
		case COL_DOC:
			v[cols[i].index] = col_json_doc(s, c);
			break;
		case COL_BOOL:
			v[cols[i].index] = json_boolean(sqlite3_column_int(s,
			    c));
			break;
		case COL_EMPTY_LIST:
			v[cols[i].index] = json_array();
			break;
		}
	}
	if ((row = awsjson_row(v, ncols)) == NULL)
		fatalx("%s: cannot build a row", __func__);
	return row;
}

/* Rows in RESOURCE_BATCH shape; index maps each ARN to its row. */
static int
cache_resources(struct store *st, int64_t scan_id, const char *account_id,
    json_t *resources, json_t *index, struct errbuf *err)
{
	sqlite3_stmt *s = st->stmt[ST_CACHE_RESOURCES];
	const char *arn;
	json_t *r;
	int rc;

	sqlite3_bind_int64(s, 1, scan_id);
	bind_text(s, 2, account_id, 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = row_from_columns(s, 0, resource_cols,
		    nitems(resource_cols));
		/* The column is NOT NULL; result_add_resource refuses "". */
		arn = proto_row_str(r, PROTO_RES_ARN);
		json_object_set(index, arn != NULL ? arn : "", r);
		json_array_append_new(resources, r);
	}
	if (rc != SQLITE_DONE)
		store_sqlerr(st, err, "cannot read cached resources");
	store_finish_query(st, ST_CACHE_RESOURCES);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
cache_violations(struct store *st, int64_t scan_id, const char *account_id,
    json_t *index, struct errbuf *err)
{
	sqlite3_stmt *s = st->stmt[ST_CACHE_VIOLATIONS];
	json_t *res;
	int rc;

	sqlite3_bind_int64(s, 1, scan_id);
	bind_text(s, 2, account_id, 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		res = json_object_get(index,
		    (const char *)sqlite3_column_text(s, 0));
		if (res == NULL)	/* the foreign key makes this impossible */
			continue;
		json_array_append_new(json_array_get(res, PROTO_RES_VIOLATIONS),
		    row_from_columns(s, 1, violation_cols,
		    nitems(violation_cols)));
	}
	if (rc != SQLITE_DONE)
		store_sqlerr(st, err, "cannot read cached violations");
	store_finish_query(st, ST_CACHE_VIOLATIONS);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
cache_regions(struct store *st, int64_t scan_id, const char *account_id,
    json_t *regions, struct errbuf *err)
{
	sqlite3_stmt *s = st->stmt[ST_CACHE_REGIONS];
	json_t *r;
	int rc;

	sqlite3_bind_int64(s, 1, scan_id);
	bind_text(s, 2, account_id, 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = json_pack("{s:o, s:o, s:o, s:o, s:I}",
		    "region", col_json_str(s, 0), "status", col_json_str(s, 1),
		    "error", col_json_str(s, 2), "aws_code", col_json_str(s, 3),
		    "resources", (json_int_t)sqlite3_column_int64(s, 4));
		if (r == NULL)
			fatalx("%s: json_pack failed", __func__);
		json_array_append_new(regions, r);
	}
	if (rc != SQLITE_DONE)
		store_sqlerr(st, err, "cannot read cached regions");
	store_finish_query(st, ST_CACHE_REGIONS);
	return rc == SQLITE_DONE ? 0 : -1;
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const char *text = (const char *)sqlite3_column_text(s, i);

	return text != NULL ? xstrdup(text) : NULL;
}

/* The account row of the hit: 1 found, 0 none, -1 error. */
static int
cache_row(struct store *st, const char *account_id, const char *cache_key,
    time_t not_before, struct store_cached *hit, struct errbuf *err)
{
	sqlite3_stmt *s = st->stmt[ST_CACHE_FIND];
	int rc;

	bind_text(s, 1, account_id, 0);
	bind_text(s, 2, cache_key, 0);
	bind_time(s, 3, not_before);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		hit->scan_id = sqlite3_column_int64(s, 0);
		hit->finished_at = (time_t)sqlite3_column_int64(s, 1);
		hit->account_alias = col_dup(s, 2);
		hit->assumed_role_arn = col_dup(s, 3);
	} else if (rc != SQLITE_DONE)
		store_sqlerr(st, err, "cannot look up the result cache");
	store_finish_query(st, ST_CACHE_FIND);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
store_cache_find(struct store *st, const char *account_id,
    const char *cache_key, time_t not_before, struct store_cached *hit,
    struct errbuf *err)
{
	json_t *index;
	int rv;

	memset(hit, 0, sizeof(*hit));
	if ((rv = cache_row(st, account_id, cache_key, not_before, hit,
	    err)) != 1)
		return rv;
	hit->resources = json_array();
	hit->regions = json_array();
	index = json_object();
	if (cache_resources(st, hit->scan_id, account_id, hit->resources,
	    index, err) == -1 || cache_violations(st, hit->scan_id, account_id,
	    index, err) == -1 || cache_regions(st, hit->scan_id, account_id,
	    hit->regions, err) == -1)
		rv = -1;
	json_decref(index);
	if (rv == -1)
		store_cached_clear(hit);
	return rv;
}

void
store_cached_clear(struct store_cached *hit)
{
	free(hit->account_alias);
	free(hit->assumed_role_arn);
	json_decref(hit->resources);
	json_decref(hit->regions);
	memset(hit, 0, sizeof(*hit));
}
