/*
 * Cost Explorer queries on the supervisor's event loop: builds each page's
 * GetCostAndUsage[WithResources] request, runs it on evcurl, sums the
 * reply's groups into one line per (account, key) in exact nano-dollars,
 * and follows NextPageToken to the end before answering once.
 */
#include <sys/types.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "awsjson.h"
#include "ce.h"
#include "config.h"
#include "creds.h"
#include "errbuf.h"
#include "evcurl.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define CE_NANOS_DIGITS	9
/* Cost Explorer is served from us-east-1 only. */
#define CE_REGION	"us-east-1"
/* Separates account and key in the index: neither can hold it. */
#define CE_INDEX_SEP	"\x1f"
/* How much of a bad value or token an error message shows. */
#define CE_SHOWN_MAX	80

struct ce_fetch {
	struct evcurl		*ec;
	struct http_client	*http;
	struct aws_creds	*creds;
	struct ce_query		 query;		/* its strings are ours */
	void			(*done)(const struct ce_answer *, void *);
	void			*arg;
	struct http_call	*call;
	struct evcurl_xfer	*xfer;
	char			*token;		/* sent with the page in flight */
	unsigned		 pages;		/* pages asked for */
	unsigned		 requests;	/* attempts sent, retries too */
	struct ce_lines		 lines;
};

static const char *
ce_operation(const struct ce_query *q)
{
	return q->tag_key == NULL ? "GetCostAndUsageWithResources" :
	    "GetCostAndUsage";
}

/* Amounts. */

/*
 * Exact decimal to integer: the digits go into an unsigned magnitude with
 * overflow checks, nine fractional digits are kept, the tenth decides the
 * rounding (half away from zero: round the magnitude up when it is >= 5,
 * whatever follows) and the rest only have to be digits.
 */
int
ce_parse_amount(const char *s, int64_t *nanos)
{
	uint64_t mag = 0, limit;
	const char *p = s;
	int neg = 0, frac = 0, up = 0, digits = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; isdigit((unsigned char)*p); p++, digits++)
		if (__builtin_mul_overflow(mag, 10, &mag) ||
		    __builtin_add_overflow(mag, (uint64_t)(*p - '0'), &mag))
			return -1;
	if (digits == 0)
		return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, frac++)
			if (frac < CE_NANOS_DIGITS) {
				if (__builtin_mul_overflow(mag, 10, &mag) ||
				    __builtin_add_overflow(mag,
				    (uint64_t)(*p - '0'), &mag))
					return -1;
			} else if (frac == CE_NANOS_DIGITS)
				up = *p >= '5';
		if (frac == 0)
			return -1;
	}
	if (*p != '\0')
		return -1;
	for (; frac < CE_NANOS_DIGITS; frac++)
		if (__builtin_mul_overflow(mag, 10, &mag))
			return -1;
	if ((up && __builtin_add_overflow(mag, 1, &mag)) || mag > limit)
		return -1;
	/* -(mag - 1) - 1 reaches INT64_MIN without overflowing. */
	*nanos = neg && mag > 0 ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
	return 0;
}

/* Lines. */

void
ce_lines_free(struct ce_lines *lines)
{
	size_t i;

	if (lines == NULL)
		return;
	for (i = 0; i < lines->count; i++)
		free(lines->v[i].key);
	free(lines->v);
	json_decref(lines->index);
	memset(lines, 0, sizeof(*lines));
}

/*
 * Sum into the line of (account, key), making it when new. v grows to
 * the next power of two whenever count reaches one, so ce_lines needs no
 * capacity field and appending stays amortized O(1).
 */
static int
ce_lines_add(struct ce_lines *lines, const char *account, const char *key,
    int64_t nanos, const char *path, struct errbuf *err)
{
	struct ce_line *l;
	json_t *slot;
	char *ik;

	if (lines->index == NULL)
		lines->index = json_object();
	ik = xprintf("%s" CE_INDEX_SEP "%s", account, key);
	if ((slot = json_object_get(lines->index, ik)) != NULL) {
		free(ik);
		l = &lines->v[json_integer_value(slot)];
		if (__builtin_add_overflow(l->nanos, nanos, &l->nanos))
			return err_set(err, "%s: the sum for account %s, key "
			    "\"%.*s\" leaves the 64-bit nano-dollar range: "
			    "query a shorter period", path, account,
			    CE_SHOWN_MAX, key);
		return 0;
	}
	if (lines->count == 0 || (lines->count & (lines->count - 1)) == 0)
		lines->v = xreallocarray(lines->v, lines->count == 0 ? 1 :
		    lines->count * 2, sizeof(*lines->v));
	if (json_object_set_new_nocheck(lines->index, ik,
	    json_integer((json_int_t)lines->count)) == -1)
		fatalx("ce: cannot grow the line index");
	free(ik);
	l = &lines->v[lines->count++];
	snprintf(l->account_id, sizeof(l->account_id), "%s", account);
	l->key = xstrdup(key);
	l->nanos = nanos;
	return 0;
}

/* Parsing one reply page. */

/* "path: <value>: expected <what>", the value cut to CE_SHOWN_MAX. */
static int
ce_bad(struct errbuf *err, const char *path, const json_t *v,
    const char *expected)
{
	char *text;
	int rc;

	if (v == NULL)
		return err_set(err, "%s: missing: expected %s", path, expected);
	if ((text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
		fatalx("ce: cannot print a JSON value");
	if (strlen(text) > CE_SHOWN_MAX)
		rc = err_set(err, "%s: %.*s...: expected %s", path,
		    CE_SHOWN_MAX, text, expected);
	else
		rc = err_set(err, "%s: %s: expected %s", path, text, expected);
	free(text);
	return rc;
}

/*
 * The second group key as a line key: a resource id as is; for a tag
 * "Key$value" the value (Cost Explorer echoes the key as asked, so the
 * prefix is compared case-sensitively; tag keys cannot hold '$').
 */
static int
ce_group_key(const struct ce_query *q, const json_t *k, const char *path,
    const char **key, struct errbuf *err)
{
	const char *s = json_string_value(k);
	size_t n;

	if (s == NULL || *s == '\0')
		return ce_bad(err, path, k, q->tag_key == NULL ?
		    "a RESOURCE_ID string" : "a \"key$value\" tag string");
	if (q->tag_key == NULL) {
		*key = s;
		return 0;
	}
	n = strlen(q->tag_key);
	if (strncmp(s, q->tag_key, n) != 0 || s[n] != '$')
		return ce_bad(err, path, k, "the tag key asked for and '$'");
	*key = s + n + 1;
	return 0;
}

static int
ce_group_amount(const struct ce_query *q, const json_t *g, const char *path,
    int64_t *nanos, struct errbuf *err)
{
	const json_t *m, *amount, *unit;
	char where[256];

	m = json_object_get(json_object_get(g, "Metrics"), q->metric);
	snprintf(where, sizeof(where), "%s.Metrics.%s", path, q->metric);
	if (!json_is_object(m))
		return ce_bad(err, where, m, "an object with Amount and Unit");
	unit = json_object_get(m, "Unit");
	if (unit != NULL && (!json_is_string(unit) ||
	    strcmp(json_string_value(unit), "USD") != 0)) {
		snprintf(where, sizeof(where), "%s.Metrics.%s.Unit", path,
		    q->metric);
		return ce_bad(err, where, unit, "\"USD\"");
	}
	amount = json_object_get(m, "Amount");
	snprintf(where, sizeof(where), "%s.Metrics.%s.Amount", path,
	    q->metric);
	if (!json_is_string(amount) ||
	    ce_parse_amount(json_string_value(amount), nanos) == -1)
		return ce_bad(err, where, amount, "a decimal string such as "
		    "\"12.34\" within the 64-bit nano-dollar range");
	return 0;
}

static int
ce_parse_group(const struct ce_query *q, const json_t *g, const char *path,
    struct ce_lines *lines, struct errbuf *err)
{
	const json_t *keys;
	const char *account, *key = NULL;
	char where[256];
	int64_t nanos = 0;

	if (!json_is_object(g))
		return ce_bad(err, path, g, "a group object");
	keys = json_object_get(g, "Keys");
	snprintf(where, sizeof(where), "%s.Keys", path);
	if (!json_is_array(keys) || json_array_size(keys) != 2)
		return ce_bad(err, where, keys, "two keys, LINKED_ACCOUNT and "
		    "the second GroupBy");
	account = json_string_value(json_array_get(keys, 0));
	snprintf(where, sizeof(where), "%s.Keys[0]", path);
	if (account == NULL || !config_account_id_valid(account))
		return ce_bad(err, where, json_array_get(keys, 0),
		    "a 12-digit account ID");
	snprintf(where, sizeof(where), "%s.Keys[1]", path);
	if (ce_group_key(q, json_array_get(keys, 1), where, &key, err) == -1 ||
	    ce_group_amount(q, g, path, &nanos, err) == -1)
		return -1;
	return ce_lines_add(lines, account, key, nanos, path, err);
}

/* A period without Groups has no spend in it. */
static int
ce_parse_period(const struct ce_query *q, const json_t *p, size_t i,
    struct ce_lines *lines, struct errbuf *err)
{
	const json_t *groups, *g;
	char path[64], gpath[96];
	size_t j;

	snprintf(path, sizeof(path), "ResultsByTime[%zu]", i);
	if (!json_is_object(p))
		return ce_bad(err, path, p, "a period object");
	if ((groups = json_object_get(p, "Groups")) == NULL)
		return 0;
	snprintf(gpath, sizeof(gpath), "%s.Groups", path);
	if (!json_is_array(groups))
		return ce_bad(err, gpath, groups, "an array");
	json_array_foreach(groups, j, g) {
		snprintf(gpath, sizeof(gpath), "%s.Groups[%zu]", path, j);
		if (ce_parse_group(q, g, gpath, lines, err) == -1)
			return -1;
	}
	return 0;
}

/* Absent, null or "" all mean the last page, as the SDK paginators read it. */
static int
ce_parse_token(const json_t *reply, char **next_token, struct errbuf *err)
{
	const json_t *t = json_object_get(reply, "NextPageToken");

	if (t == NULL || json_is_null(t))
		return 0;
	if (!json_is_string(t))
		return ce_bad(err, "NextPageToken", t, "a string");
	if (json_string_length(t) > 0)
		*next_token = xstrdup(json_string_value(t));
	return 0;
}

/*
 * On -1 lines may already hold part of this page: a fetch throws the
 * whole answer away on any error, so nothing is rolled back.
 */
int
ce_parse_page(const json_t *reply, const struct ce_query *q,
    struct ce_lines *lines, char **next_token, struct errbuf *err)
{
	const json_t *results, *p;
	size_t i;

	*next_token = NULL;
	if (!json_is_object(reply))
		return ce_bad(err, "reply", reply, "a JSON object");
	results = json_object_get(reply, "ResultsByTime");
	if (!json_is_array(results))
		return ce_bad(err, "ResultsByTime", results, "an array");
	json_array_foreach(results, i, p)
		if (ce_parse_period(q, p, i, lines, err) == -1)
			return -1;
	return ce_parse_token(reply, next_token, err);
}

/* Requests. */

/* The query's strings are ours (UTF-8 from JSON), so packing cannot fail. */
json_t *
ce_request_json(const struct ce_query *q, const char *next_token)
{
	json_t *accounts, *second, *body;
	size_t i;

	accounts = json_array();
	for (i = 0; i < q->naccounts; i++)
		if (json_array_append_new(accounts,
		    json_string(q->accounts[i])) == -1)
			fatalx("ce: account %zu is not a UTF-8 string", i);
	second = json_pack("{s:s, s:s}", "Type", q->tag_key == NULL ?
	    "DIMENSION" : "TAG", "Key", q->tag_key == NULL ? "RESOURCE_ID" :
	    q->tag_key);
	body = json_pack("{s:{s:s, s:s}, s:s, s:[s], s:[{s:s, s:s}, o], "
	    "s:{s:{s:s, s:o}}}",
	    "TimePeriod", "Start", q->start, "End", q->end,
	    "Granularity", "MONTHLY",
	    "Metrics", q->metric,
	    "GroupBy", "Type", "DIMENSION", "Key", "LINKED_ACCOUNT", second,
	    "Filter", "Dimensions", "Key", "LINKED_ACCOUNT", "Values",
	    accounts);
	if (body == NULL)
		fatalx("ce: cannot build the request (a query string is not "
		    "UTF-8)");
	if (next_token != NULL && json_object_set_new(body, "NextPageToken",
	    json_string(next_token)) == -1)
		fatalx("ce: the page token is not a UTF-8 string");
	return body;
}

/* Fetches. */

static void
ce_query_copy(struct ce_query *to, const struct ce_query *from)
{
	const char **accounts;
	size_t i;

	*to = *from;
	to->tag_key = from->tag_key != NULL ? xstrdup(from->tag_key) : NULL;
	to->metric = xstrdup(from->metric);
	accounts = xcalloc(from->naccounts + 1, sizeof(*accounts));
	for (i = 0; i < from->naccounts; i++)
		accounts[i] = xstrdup(from->accounts[i]);
	to->accounts = accounts;
}

static void
ce_fetch_free(struct ce_fetch *f)
{
	size_t i;

	http_call_free(f->call);
	ce_lines_free(&f->lines);
	creds_free(f->creds);
	free((char *)f->query.tag_key);
	free((char *)f->query.metric);
	for (i = 0; i < f->query.naccounts; i++)
		free((char *)f->query.accounts[i]);
	free((char **)f->query.accounts);
	free(f->token);
	free(f);
}

void
ce_fetch_cancel(struct ce_fetch *f)
{
	if (f == NULL)
		return;
	evcurl_cancel(f->xfer);
	ce_fetch_free(f);
}

/*
 * The one answer, then the end of the fetch. error and aws_code may point
 * into the last call, which is freed only after done returns.
 */
static void
ce_finish(struct ce_fetch *f, const char *error, const char *aws_code)
{
	struct ce_answer a;

	memset(&a, 0, sizeof(a));
	a.rc = error == NULL ? 0 : -1;
	a.error = error;
	a.aws_code = aws_code != NULL ? aws_code : "";
	a.requests = f->requests;
	if (error == NULL)
		a.lines = f->lines;
	else
		log_debug("ce: %s", error);
	f->done(&a, f->arg);
	ce_fetch_free(f);
}

static void	ce_page_done(struct http_call *, int, const char *, void *);

static void
ce_page_start(struct ce_fetch *f)
{
	struct http_request req;
	json_t *body;
	char *text;

	body = ce_request_json(&f->query, f->token);
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		fatalx("ce: cannot print the request");
	json_decref(body);
	memset(&req, 0, sizeof(req));
	if ((req.service = aws_service_find("ce")) == NULL)
		fatalx("ce: no ce row in the http service table");
	req.region = CE_REGION;
	req.method = "POST";
	req.path = "/";
	req.target = ce_operation(&f->query);
	req.body = text;
	req.body_len = strlen(text);
	f->call = http_call_new(f->http, &req, f);
	free(text);
	f->pages++;
	log_debug("ce: %s page %u", req.target, f->pages);
	f->xfer = evcurl_run(f->ec, f->call, f->creds, ce_page_done, f);
}

/* The reply of a 2xx page into lines and *next. */
static int
ce_page_read(struct ce_fetch *f, char **next, struct errbuf *err)
{
	const struct http_response *r = http_call_response(f->call);
	json_t *reply;
	int rc;

	*next = NULL;
	if ((reply = awsjson_parse(r->body, r->body_len, err)) == NULL)
		rc = -1;
	else {
		rc = ce_parse_page(reply, &f->query, &f->lines, next, err);
		json_decref(reply);
	}
	if (rc == -1)
		err_prefix(err, "ce %s reply (page %u)",
		    ce_operation(&f->query), f->pages);
	return rc;
}

/* A next page is owed: refuse a token that does not move, or no end. */
static int
ce_page_check(const struct ce_fetch *f, const char *next, struct errbuf *err)
{
	if (f->token != NULL && strcmp(next, f->token) == 0)
		return err_set(err, "ce %s: page %u answered with the "
		    "NextPageToken it was sent (\"%.*s\"), so the query would "
		    "never end: retry it later", ce_operation(&f->query),
		    f->pages, CE_SHOWN_MAX, next);
	if (f->pages >= CE_MAX_PAGES)
		return err_set(err, "ce %s: still more pages after %d "
		    "(CE_MAX_PAGES): narrow the query (fewer accounts or a "
		    "shorter period)", ce_operation(&f->query), CE_MAX_PAGES);
	return 0;
}

static void
ce_page_done(struct http_call *call, int rc, const char *error, void *arg)
{
	struct ce_fetch *f = arg;
	const struct http_response *r = http_call_response(call);
	struct errbuf err;
	char *next;

	f->xfer = NULL;
	/* Every attempt reached Cost Explorer's meter. */
	f->requests += (unsigned)r->attempts;
	if (rc == -1) {
		ce_finish(f, error, r->error_code);
		return;
	}
	if (ce_page_read(f, &next, &err) == -1) {
		ce_finish(f, err.msg, NULL);
		return;
	}
	if (next == NULL) {
		ce_finish(f, NULL, NULL);
		return;
	}
	if (ce_page_check(f, next, &err) == -1) {
		free(next);
		ce_finish(f, err.msg, NULL);
		return;
	}
	http_call_free(f->call);
	f->call = NULL;
	free(f->token);
	f->token = next;
	ce_page_start(f);
}

struct ce_fetch *
ce_fetch_start(struct evcurl *ec, struct http_client *http,
    const struct aws_creds *creds, const struct ce_query *q,
    void (*done)(const struct ce_answer *, void *), void *arg)
{
	struct ce_fetch *f;

	f = xcalloc(1, sizeof(*f));
	f->ec = ec;
	f->http = http;
	f->creds = creds_dup(creds);
	ce_query_copy(&f->query, q);
	f->done = done;
	f->arg = arg;
	/* evcurl calls back from the loop only, never inside this call. */
	ce_page_start(f);
	return f;
}
