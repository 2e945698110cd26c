/*
 * Scan results: tallies per account from RESOURCE_BATCH and REGION_DONE
 * bodies, and the ComplianceResult / MultiAccountComplianceResult JSON with
 * its data_quality block. The counting rules are in result.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "errbuf.h"
#include "log.h"
#include "proto.h"
#include "result.h"
#include "rowbuf.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

struct result {
	int			  multi;
	time_t			  scan_time;
	struct result_account	**accounts;
	size_t			  naccounts;
	json_t			 *notes;	/* extra data_quality notes */
	json_t			 *cost;		/* cost_attribution; NULL: none */
	char			 *cost_missing;	/* why there is no cost block */
};

static const char *const status_names[] = {
	[RESULT_PENDING] = "pending",
	[RESULT_OK] = "ok",
	[RESULT_FAILED] = "failed",
	[RESULT_TIMEOUT] = "timeout",
	[RESULT_SKIPPED] = "skipped",
	[RESULT_CANCELLED] = "cancelled",
};

static const char *const severity_names[] = {
	[RESULT_SEVERITY_ALL] = "all",
	[RESULT_SEVERITY_ERRORS_ONLY] = "errors_only",
	[RESULT_SEVERITY_WARNINGS_ONLY] = "warnings_only",
};

/* The values a violation may carry (policy.c's names). */
static const char *const violation_types[] = {
	"missing_required_tag", "invalid_value", "invalid_format",
};

const char *
result_status_name(enum result_status s)
{
	return status_names[s];
}

const char *
result_severity_name(enum result_severity s)
{
	return severity_names[s];
}

int
result_severity_parse(const char *s, enum result_severity *out)
{
	size_t i;

	for (i = 0; i < nitems(severity_names); i++) {
		if (strcmp(s, severity_names[i]) == 0) {
			*out = (enum result_severity)i;
			return 0;
		}
	}
	return -1;
}

double
result_score(long long compliant, long long total)
{
	return total == 0 ? 1.0 : (double)compliant / (double)total;
}

void
result_format_time(time_t t, char buf[RESULT_TIME_SIZE])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, RESULT_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(buf, "1970-01-01T00:00:00Z");
}

/* --- building up --- */

struct result *
result_new(int multi, time_t scan_time)
{
	struct result *res = xcalloc(1, sizeof(*res));

	res->multi = multi != 0;
	res->scan_time = scan_time;
	res->notes = json_array();
	return res;
}

static void
account_free(struct result_account *a)
{
	free(a->error);
	free(a->alias);
	rowbuf_free(a->kept);
	json_decref(a->unreadable_list);
	json_decref(a->regions);
	json_decref(a->arns);
	free(a);
}

void
result_free(struct result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->naccounts; i++)
		account_free(res->accounts[i]);
	free(res->accounts);
	json_decref(res->notes);
	json_decref(res->cost);
	free(res->cost_missing);
	free(res);
}

struct result_account *
result_add_account(struct result *res, const char *account_id)
{
	struct result_account *a = xcalloc(1, sizeof(*a));

	snprintf(a->account_id, sizeof(a->account_id), "%s", account_id);
	a->res = res;
	a->kept = rowbuf_new();
	a->unreadable_list = json_array();
	a->regions = json_array();
	a->arns = json_object();
	res->accounts = xreallocarray(res->accounts, res->naccounts + 1,
	    sizeof(*res->accounts));
	res->accounts[res->naccounts++] = a;
	return a;
}

size_t
result_naccounts(const struct result *res)
{
	return res->naccounts;
}

const struct result_account *
result_account_at(const struct result *res, size_t i)
{
	return i < res->naccounts ? res->accounts[i] : NULL;
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
nonempty(const json_t *row, size_t i)
{
	const char *s = proto_row_str(row, i);

	return s != NULL && *s != '\0';
}

static int
one_of(const char *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return 1;
	return 0;
}

static int
check_violation(const json_t *v, size_t i, struct errbuf *err)
{
	static const char *const sev[] = { "error", "warning" };

	if (!json_is_array(v) || json_array_size(v) != PROTO_VIOL_NFIELDS)
		return err_set(err, "violations[%zu]: expected a row of %d "
		    "values", i, PROTO_VIOL_NFIELDS);
	if (!nonempty(v, PROTO_VIOL_TAG_NAME))
		return err_set(err, "violations[%zu].tag_name: expected a "
		    "non-empty string", i);
	if (!one_of(proto_row_str(v, PROTO_VIOL_TYPE), violation_types,
	    nitems(violation_types)))
		return err_set(err, "violations[%zu].violation_type: expected "
		    "missing_required_tag, invalid_value or invalid_format", i);
	if (!one_of(proto_row_str(v, PROTO_VIOL_SEVERITY), sev, nitems(sev)))
		return err_set(err, "violations[%zu].severity: expected error "
		    "or warning", i);
	if (proto_row_str(v, PROTO_VIOL_MESSAGE) == NULL)
		return err_set(err, "violations[%zu].message: expected a "
		    "string", i);
	return 0;
}

/* What the proto shape check leaves open (and all of it for the cache). */
static int
check_resource(const json_t *r, struct errbuf *err)
{
	static const enum proto_resource named[] = {
		PROTO_RES_ARN, PROTO_RES_TYPE, PROTO_RES_REGION, PROTO_RES_ID
	};
	const json_t *v, *tags;
	size_t i;

	if (!json_is_array(r) || json_array_size(r) != PROTO_RES_NFIELDS)
		return err_set(err, "expected a row of %d values",
		    PROTO_RES_NFIELDS);
	for (i = 0; i < nitems(named); i++)
		if (!nonempty(r, named[i]))
			return err_set(err, "%s: expected a non-empty string",
			    proto_resource_name(named[i]));
	tags = json_array_get(r, PROTO_RES_TAGS);
	if (!json_is_null(tags) && !json_is_object(tags))
		return err_set(err, "tags: expected an object or null");
	if (!json_is_array(json_array_get(r, PROTO_RES_VIOLATIONS)))
		return err_set(err, "violations: expected an array");
	json_array_foreach(json_array_get(r, PROTO_RES_VIOLATIONS), i, v)
		if (check_violation(v, i, err) == -1)
			return -1;
	return 0;
}

static json_t *
or_null(json_t *v)
{
	return v != NULL ? v : json_null();
}

/*
 * A violation in DESIGN.md section 6's shape, in its field order (jansson
 * keeps insertion order). Kept violations wait packed (rowbuf.c), a few
 * hundred bytes each instead of a JSON object's kilobyte or two, with
 * their severity as the row's kind; only those the answer lists become
 * JSON. The texts come from a decoded frame, valid UTF-8 already.
 */
enum violation_source {
	FROM_RESOURCE,
	FROM_VIOLATION,
	FROM_ACCOUNT,		/* the account's ID */
	FROM_KIND		/* the severity: the kept row's kind */
};

enum kept_kind { KEPT_ERROR, KEPT_WARNING };

static const struct violation_field {
	const char		*key;
	enum violation_source	 source;
	size_t			 index;		/* in its row */
	int			 document;	/* JSON kept as its text */
} violation_fields[] = {
	{ "resource_id", FROM_RESOURCE, PROTO_RES_ID, 0 },
	{ "resource_type", FROM_RESOURCE, PROTO_RES_TYPE, 0 },
	{ "resource_arn", FROM_RESOURCE, PROTO_RES_ARN, 0 },
	{ "region", FROM_RESOURCE, PROTO_RES_REGION, 0 },
	{ "account_id", FROM_ACCOUNT, 0, 0 },
	{ "tag_name", FROM_VIOLATION, PROTO_VIOL_TAG_NAME, 0 },
	{ "violation_type", FROM_VIOLATION, PROTO_VIOL_TYPE, 0 },
	{ "severity", FROM_KIND, 0, 0 },
	{ "current_value", FROM_VIOLATION, PROTO_VIOL_CURRENT_VALUE, 0 },
	{ "allowed_values", FROM_VIOLATION, PROTO_VIOL_ALLOWED_VALUES, 1 },
	{ "message", FROM_VIOLATION, PROTO_VIOL_MESSAGE, 0 },
};

/* The packed values: every field the account or the kind does not give. */
#define KEPT_VALUES	9

static const char *const kept_severity[] = {
	[KEPT_ERROR] = "error",
	[KEPT_WARNING] = "warning",
};

static void
keep_violation(struct result_account *a, const json_t *r, const json_t *v,
    enum kept_kind kind)
{
	const struct violation_field *f;
	const json_t *val;
	char *text;
	size_t i;

	rowbuf_row(a->kept, kind);
	for (i = 0; i < nitems(violation_fields); i++) {
		f = &violation_fields[i];
		if (f->source == FROM_ACCOUNT || f->source == FROM_KIND)
			continue;
		val = json_array_get(f->source == FROM_VIOLATION ? v : r,
		    f->index);
		if (val == NULL || json_is_null(val))
			rowbuf_text(a->kept, NULL);
		else if (!f->document)
			rowbuf_textn(a->kept, json_string_value(val),
			    json_string_length(val));
		else {
			if ((text = json_dumps(val, JSON_COMPACT)) == NULL)
				fatalx("%s: out of memory", __func__);
			rowbuf_text(a->kept, text);
			free(text);
		}
	}
}

/* The kept row at *pos (its kind read already) as a violation object. */
static json_t *
kept_json(const struct result_account *a, enum kept_kind kind, size_t *pos)
{
	const struct violation_field *f;
	struct rowbuf_value rv;
	json_t *o = json_object(), *val;
	size_t i;

	for (i = 0; i < nitems(violation_fields); i++) {
		f = &violation_fields[i];
		if (f->source == FROM_ACCOUNT)
			val = json_string(a->account_id);
		else if (f->source == FROM_KIND)
			val = json_string(kept_severity[kind]);
		else {
			rowbuf_value(a->kept, pos, &rv);
			if (rv.text == NULL)
				val = json_null();
			else if (f->document)
				val = json_loadb(rv.text, rv.len, 0, NULL);
			else
				val = json_stringn_nocheck(rv.text, rv.len);
		}
		if (o == NULL || val == NULL || json_object_set_new_nocheck(o,
		    f->key, val) == -1)
			fatalx("%s: cannot build a violation", __func__);
	}
	return o;
}

/*
 * Keep up to RESULT_MAX_VIOLATIONS of each severity, in arrival order:
 * then the first RESULT_MAX_VIOLATIONS under any filter are all kept.
 */
static void
count_violations(struct result_account *a, const json_t *r)
{
	const json_t *v;
	long long *kept;
	size_t i;
	int error;

	json_array_foreach(json_array_get(r, PROTO_RES_VIOLATIONS), i, v) {
		error = strcmp(proto_row_str(v, PROTO_VIOL_SEVERITY),
		    "error") == 0;
		a->violations++;
		if (error)
			a->errors++;
		else
			a->warnings++;
		kept = error ? &a->kept_errors : &a->kept_warnings;
		if (*kept >= RESULT_MAX_VIOLATIONS ||
		    (error ? a->enough_errors : a->enough_warnings))
			continue;
		(*kept)++;
		keep_violation(a, r, v, error ? KEPT_ERROR : KEPT_WARNING);
	}
}

static void
count_unreadable(struct result_account *a, const json_t *r)
{
	a->unreadable++;
	if (json_array_size(a->unreadable_list) >= RESULT_MAX_UNREADABLE)
		return;
	json_array_append_new(a->unreadable_list, json_pack(
	    "{s:s, s:s, s:s, s:s, s:O}", "account_id", a->account_id,
	    "region", proto_row_str(r, PROTO_RES_REGION),
	    "resource_arn", proto_row_str(r, PROTO_RES_ARN),
	    "resource_type", proto_row_str(r, PROTO_RES_TYPE),
	    "error", json_array_get(r, PROTO_RES_TAGS_ERROR)));
}

int
result_add_resource(struct result_account *a, const json_t *r,
    struct errbuf *err)
{
	const json_t *tags;
	const char *arn;
	int in_scope;

	if (check_resource(r, err) == -1)
		return -1;
	arn = proto_row_str(r, PROTO_RES_ARN);
	if (a->arns == NULL)
		a->arns = json_object();
	if (json_object_get(a->arns, arn) != NULL)
		return 1;
	json_object_set_new(a->arns, arn, json_true());
	a->seen++;
	tags = json_array_get(r, PROTO_RES_TAGS);
	in_scope = json_is_true(json_array_get(r, PROTO_RES_IN_SCOPE));
	if (json_is_null(tags)) {
		/* Out of scope, its tags would not have mattered. */
		if (in_scope)
			count_unreadable(a, r);
		return 0;
	}
	if (in_scope) {
		a->total++;
		if (json_is_true(json_array_get(r, PROTO_RES_COMPLIANT)))
			a->compliant++;
	}
	count_violations(a, r);
	return 0;
}

void
result_add_region(struct result_account *a, const json_t *body)
{
	const char *status = jstr(body, "status");

	if (status == NULL || strcmp(status, "ok") == 0)
		return;
	json_array_append_new(a->regions, json_pack("{s:s, s:O, s:s, s:O, "
	    "s:O}", "account_id", a->account_id,
	    "region", or_null(json_object_get(body, "region")),
	    "status", status, "error", or_null(json_object_get(body, "error")),
	    "aws_code", or_null(json_object_get(body, "aws_code"))));
}

/* Drop the kept violations of one severity. */
static void
drop_kept(struct result_account *a, enum kept_kind drop)
{
	struct rowbuf *rest = rowbuf_new();
	size_t pos = 0;
	int kind;

	while ((kind = rowbuf_next(a->kept, &pos)) != -1) {
		if (kind != (int)drop)
			rowbuf_copy_row(rest, kind, a->kept, &pos,
			    KEPT_VALUES);
		else
			rowbuf_skip(a->kept, &pos, KEPT_VALUES);
	}
	rowbuf_free(a->kept);
	a->kept = rest;
}

/*
 * The violation list takes kept violations in account order. Once the ok
 * accounts before an account keep RESULT_MAX_VIOLATIONS of a severity, no
 * violation of that severity from it can reach the list under any filter:
 * they are dropped and no more are kept. A 100-account scan then holds
 * about the list's worth of violations, not every account's 2,000.
 */
static void
prune_kept(struct result *res)
{
	struct result_account *a;
	long long errors = 0, warnings = 0;
	size_t i;

	for (i = 0; i < res->naccounts; i++) {
		a = res->accounts[i];
		if (errors >= RESULT_MAX_VIOLATIONS && !a->enough_errors) {
			a->enough_errors = 1;
			drop_kept(a, KEPT_ERROR);
			a->kept_errors = 0;
		}
		if (warnings >= RESULT_MAX_VIOLATIONS && !a->enough_warnings) {
			a->enough_warnings = 1;
			drop_kept(a, KEPT_WARNING);
			a->kept_warnings = 0;
		}
		if (a->status == RESULT_OK) {
			errors += a->kept_errors;
			warnings += a->kept_warnings;
		}
	}
}

void
result_finish_account(struct result_account *a, enum result_status status,
    const char *error, const char *alias, long long duration_ms)
{
	a->status = status;
	free(a->error);
	a->error = error != NULL ? xstrdup(error) : NULL;
	if (alias != NULL) {
		free(a->alias);
		a->alias = xstrdup(alias);
	}
	a->duration_ms = duration_ms;
	json_decref(a->arns);
	a->arns = NULL;
	if (status == RESULT_OK) {
		prune_kept(a->res);
		return;
	}
	a->seen = a->total = a->compliant = a->violations = 0;
	a->errors = a->warnings = a->unreadable = 0;
	a->kept_errors = a->kept_warnings = 0;
	rowbuf_free(a->kept);
	a->kept = rowbuf_new();
	json_array_clear(a->unreadable_list);
}

void
result_set_cached(struct result_account *a, time_t scanned_at)
{
	a->from_cache = 1;
	a->cached_at = scanned_at;
}

void
result_note(struct result *res, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatalx("%s: out of memory", __func__);
	va_end(ap);
	json_array_append_new(res->notes, json_string(s));
	free(s);
}

void
result_set_cost(struct result *res, json_t *block, const char *why_not)
{
	json_decref(res->cost);
	free(res->cost_missing);
	res->cost = block;
	res->cost_missing = why_not != NULL ? xstrdup(why_not) : NULL;
}

json_t *
result_usd(long long cents)
{
	return json_real((double)cents / 100.0);
}

void
result_set_account_cost(struct result_account *a, long long cents)
{
	a->has_cost = 1;
	a->cost_cents = cents;
}

/* --- the JSON --- */

static int
failed_regions(const struct result_account *a)
{
	const json_t *r;
	size_t i;

	json_array_foreach(a->regions, i, r)
		if (strcmp(jstr(r, "status"), "failed") == 0)
			return 1;
	return 0;
}

void
result_totals(const struct result *res, struct result_totals *t)
{
	const struct result_account *a;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->accounts = (long long)res->naccounts;
	t->complete = 1;
	t->cost_complete = res->cost != NULL;
	for (i = 0; i < res->naccounts; i++) {
		a = res->accounts[i];
		if (a->status != RESULT_OK) {
			t->complete = 0;
			continue;
		}
		t->ok++;
		t->total += a->total;
		t->compliant += a->compliant;
		t->violations += a->violations;
		if (a->has_cost) {
			t->cost_cents += a->cost_cents;
			t->cost_accounts++;
		} else
			t->cost_complete = 0;
		if (a->unreadable > 0 || failed_regions(a))
			t->complete = 0;
	}
	t->score = result_score(t->compliant, t->total);
}

static int
severity_wanted(int kind, enum result_severity filter)
{
	return filter == RESULT_SEVERITY_ALL ||
	    (filter == RESULT_SEVERITY_ERRORS_ONLY && kind == KEPT_ERROR) ||
	    (filter == RESULT_SEVERITY_WARNINGS_ONLY && kind == KEPT_WARNING);
}

static long long
filtered_count(const struct result_account *a, enum result_severity filter)
{
	if (filter == RESULT_SEVERITY_ERRORS_ONLY)
		return a->errors;
	if (filter == RESULT_SEVERITY_WARNINGS_ONLY)
		return a->warnings;
	return a->violations;
}

/* The list, in account order then arrival order; returns how many match. */
static long long
violation_list(const struct result *res, enum result_severity filter,
    json_t *list)
{
	const struct result_account *a;
	long long matching = 0;
	size_t i, pos;
	int kind;

	for (i = 0; i < res->naccounts; i++) {
		a = res->accounts[i];
		if (a->status != RESULT_OK)
			continue;
		matching += filtered_count(a, filter);
		pos = 0;
		while (json_array_size(list) < RESULT_MAX_VIOLATIONS &&
		    (kind = rowbuf_next(a->kept, &pos)) != -1) {
			if (severity_wanted(kind, filter))
				json_array_append_new(list, kept_json(a, kind,
				    &pos));
			else
				rowbuf_skip(a->kept, &pos, KEPT_VALUES);
		}
	}
	return matching;
}

static json_t *
breakdown_entry(const struct result_account *a)
{
	json_t *o;

	o = json_pack("{s:s, s:o, s:I, s:I, s:f, s:I, s:o}",
	    "account_id", a->account_id,
	    "account_alias", a->alias != NULL ? json_string(a->alias) :
	    json_null(),
	    "total_resources", (json_int_t)a->total,
	    "compliant_resources", (json_int_t)a->compliant,
	    "compliance_score", result_score(a->compliant, a->total),
	    "violation_count", (json_int_t)a->violations,
	    "cost_attribution_gap", a->has_cost ?
	    result_usd(a->cost_cents) : json_null());
	if (o == NULL)
		fatalx("%s: json_pack failed", __func__);
	return o;
}

/* Failed and timed-out accounts fail; cancelled ones were skipped. */
static void
add_multi(json_t *o, const struct result *res)
{
	json_t *ok = json_array(), *failed = json_array(),
	    *skipped = json_array(), *breakdown = json_object(),
	    *errors = json_object();
	const struct result_account *a;
	size_t i;

	for (i = 0; i < res->naccounts; i++) {
		a = res->accounts[i];
		if (a->status == RESULT_OK) {
			json_array_append_new(ok, json_string(a->account_id));
			json_object_set_new(breakdown, a->account_id,
			    breakdown_entry(a));
			continue;
		}
		json_array_append_new(a->status == RESULT_FAILED ||
		    a->status == RESULT_TIMEOUT ? failed : skipped,
		    json_string(a->account_id));
		json_object_set_new(errors, a->account_id, json_string(
		    a->error != NULL ? a->error : status_names[a->status]));
	}
	json_object_set_new(o, "account_metadata", json_pack("{s:I, s:o, "
	    "s:o, s:o}", "total_accounts", (json_int_t)res->naccounts,
	    "successful_accounts", ok, "failed_accounts", failed,
	    "skipped_accounts", skipped));
	json_object_set_new(o, "account_breakdown", breakdown);
	json_object_set_new(o, "account_errors", errors);
}

static void
note(json_t *notes, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(json_t *notes, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatalx("%s: out of memory", __func__);
	va_end(ap);
	json_array_append_new(notes, json_string(s));
	free(s);
}

static void
quality_account(json_t *dq, json_t *notes, const struct result_account *a)
{
	const char *status = status_names[a->status];

	json_array_append_new(json_object_get(dq, "accounts_not_scanned"),
	    json_pack("{s:s, s:s, s:o}", "account_id", a->account_id,
	    "status", status, "error", a->error != NULL ?
	    json_string(a->error) : json_null()));
	note(notes, "account %s not counted (%s): %s", a->account_id, status,
	    a->error != NULL ? a->error : status);
}

static void
quality_regions(json_t *dq, json_t *notes, const struct result_account *a)
{
	const json_t *r;
	const char *code;
	size_t i;

	json_array_foreach(a->regions, i, r) {
		json_array_append(json_object_get(dq, "regions_not_scanned"),
		    (json_t *)r);
		code = jstr(r, "aws_code");
		note(notes, "account %s region %s %s%s%s%s: %s", a->account_id,
		    jstr(r, "region") != NULL ? jstr(r, "region") : "?",
		    jstr(r, "status"), code != NULL ? " (" : "",
		    code != NULL ? code : "", code != NULL ? ")" : "",
		    jstr(r, "error") != NULL ? jstr(r, "error") :
		    "no reason given");
	}
}

static void
quality_unreadable(json_t *dq, const struct result_account *a,
    long long *count)
{
	json_t *list = json_object_get(dq, "unreadable_tags");
	const json_t *u;
	size_t i;

	*count += a->unreadable;
	json_array_foreach(a->unreadable_list, i, u)
		if (json_array_size(list) < RESULT_MAX_UNREADABLE)
			json_array_append(list, (json_t *)u);
}

static void
quality_cached(json_t *dq, json_t *notes, const struct result_account *a)
{
	char when[RESULT_TIME_SIZE];

	result_format_time(a->cached_at, when);
	json_array_append_new(json_object_get(dq, "cached_accounts"),
	    json_pack("{s:s, s:s}", "account_id", a->account_id,
	    "scanned_at", when));
	note(notes, "account %s: result reused from the scan of %s "
	    "(CACHE_TTL_SECONDS; force_refresh scans again)", a->account_id,
	    when);
}

static json_t *
quality_json(const struct result *res)
{
	json_t *dq, *notes = json_array();
	const struct result_account *a;
	struct result_totals t;
	long long unreadable = 0;
	size_t i;

	result_totals(res, &t);
	dq = json_pack("{s:b, s:[], s:[], s:[], s:[], s:b}", "complete",
	    t.complete, "accounts_not_scanned", "regions_not_scanned",
	    "unreadable_tags", "cached_accounts", "cost_data_collected",
	    t.cost_complete && t.ok > 0);
	if (dq == NULL)
		fatalx("%s: json_pack failed", __func__);
	for (i = 0; i < res->naccounts; i++) {
		a = res->accounts[i];
		if (a->status != RESULT_OK)
			quality_account(dq, notes, a);
		quality_regions(dq, notes, a);
		quality_unreadable(dq, a, &unreadable);
		if (a->from_cache && a->status == RESULT_OK)
			quality_cached(dq, notes, a);
	}
	json_object_set_new(dq, "unreadable_tags_count",
	    json_integer(unreadable));
	if (unreadable > 0)
		note(notes, "%lld resource%s whose tags could not be read %s "
		    "not counted (see unreadable_tags)", unreadable,
		    unreadable == 1 ? "" : "s", unreadable == 1 ? "is" : "are");
	if (res->cost == NULL)
		note(notes, "cost data not collected (%s): cost_attribution_gap "
		    "is null", res->cost_missing != NULL ? res->cost_missing :
		    "not asked for");
	json_array_extend(notes, res->notes);
	json_object_set_new(dq, "notes", notes);
	return dq;
}

json_t *
result_json(const struct result *res, enum result_severity filter)
{
	struct result_totals t;
	char when[RESULT_TIME_SIZE];
	json_t *o, *list = json_array();
	long long matching;

	result_totals(res, &t);
	result_format_time(res->scan_time, when);
	matching = violation_list(res, filter, list);
	o = json_pack("{s:f, s:I, s:I, s:o, s:o, s:s, s:s, s:I, s:I, s:b}",
	    "compliance_score", t.score,
	    "total_resources", (json_int_t)t.total,
	    "compliant_resources", (json_int_t)t.compliant,
	    "violations", list,
	    "cost_attribution_gap", t.cost_accounts > 0 ?
	    result_usd(t.cost_cents) : json_null(),
	    "scan_timestamp", when,
	    "severity_filter", severity_names[filter],
	    "violation_count_total", (json_int_t)t.violations,
	    "violation_count_filtered", (json_int_t)matching,
	    "violations_truncated", matching > (long long)json_array_size(list));
	if (o == NULL)
		fatalx("%s: json_pack failed", __func__);
	if (res->multi)
		add_multi(o, res);
	if (res->cost != NULL)
		json_object_set(o, "cost_attribution", res->cost);
	json_object_set_new(o, "data_quality", quality_json(res));
	return o;
}
