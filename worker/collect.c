/*
 * The account scan driver: one curl multi handle driven by a blocking
 * curl_multi_poll loop, at most the supervisor's share of transfers at
 * once (PROTO_INFLIGHT, or the latest LIMITS) on pooled connections,
 * retries after their back-off, credential refresh, and the region
 * bookkeeping that turns each finished region into RESOURCE_BATCH,
 * REGION_DONE and PROGRESS frames.
 *
 * Decisions (worker/tagwarden-worker.8 repeats them):
 * - Regions come from EC2 DescribeRegions (AllRegions) in the home region;
 *   a region that is not opted in, or that the account is not offered, is
 *   skipped with the reason. A refused DescribeRegions fails the account.
 * - A failed call fails its region (REGION_DONE failed, with the AWS code),
 *   not the account; only a refused GetResources, whose handler takes its
 *   own errors, leaves the region scanned with the tags that listing alone
 *   gives unknown (svc-tagging.c). A failed account-wide S3 call
 *   (ListBuckets, locating a bucket) leaves every region's bucket list
 *   unknown, so every region still scanning fails with it. When every
 *   scanned region failed there is nothing to report and the account fails
 *   with the first region's error.
 * - A region's resources are held until all of its calls (and the
 *   account-wide S3 listing) are done, since a resource can come from
 *   several calls; then they are evaluated, streamed and freed.
 * - Credentials expiring within refresh_margin_s are refreshed before the
 *   next call is signed (at most once per COLLECT_REFRESH_MIN_S, so short
 *   lived credentials cannot turn into a request storm); an ExpiredToken
 *   answer refreshes once and retries that call once. Calls in flight keep
 *   the credentials they were signed with until the scan ends.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "awsjson.h"
#include "awsxml.h"
#include "channel.h"
#include "collect.h"
#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "inventory.h"
#include "log.h"
#include "proto.h"
#include "queue-compat.h"
#include "services.h"
#include "xmalloc.h"

/* The longest poll; the channel wakes it too (CANCEL, LIMITS). */
#define COLLECT_POLL_MS		1000
#define COLLECT_REFRESH_MIN_S	30
/* A RESOURCE_BATCH body stays this far under the frame limit. */
#define COLLECT_BATCH_BYTES	(PROTO_MAX_FRAME - 4096)
#define COLLECT_DEFAULT_BATCH	100
#define COLLECT_MAX_BATCH	PROTO_MAX_BATCH

/* Answers meaning the signing credentials expired (EC2 says RequestExpired). */
static const char *const collect_expired_codes[] = {
	"ExpiredToken", "ExpiredTokenException", "RequestExpired",
};

struct collect_region {
	char			*name;
	struct inventory	*inv;		/* NULL once finished */
	size_t			 npending;	/* its calls not yet handled */
	int			 started;	/* its services' first calls queued */
	int			 finished;
};

struct collect_offer {
	char	*name;
	char	*opt_in;			/* "" when not given */
};

struct collect_call {
	TAILQ_ENTRY(collect_call) entry;
	struct collect_region	*region;	/* NULL: account-level */
	struct http_call	*http;
	collect_done_fn		 done;
	int			 flags;
	char			 what[128];	/* "ec2 DescribeInstances" */
	char			*key;
	char			*key2;
	int			 expired_retry;
	const struct aws_creds	*signed_with;
	long long		 due_ms;	/* delayed retry */
};
TAILQ_HEAD(collect_calls, collect_call);

struct collect {
	const struct collect_job *job;
	struct channel		*ch;
	struct aws_creds	**creds;	/* the caller's, replaced on refresh */
	struct aws_creds	*sign;		/* what new calls are signed with */
	struct aws_creds	**retired;	/* earlier ones, kept for calls */
	size_t			 nretired;
	time_t			 refreshed_at;
	struct http_client	*http;
	CURLM			*multi;
	struct collect_calls	 queue;		/* not started */
	struct collect_calls	 running;	/* on the multi handle */
	struct collect_calls	 delayed;	/* waiting to retry, by due time */
	size_t			 inflight;
	size_t			 nblocking;	/* account calls regions wait for */
	struct collect_offer	*offers;
	size_t			 noffers;
	struct collect_region	**regions;	/* being scanned */
	size_t			 nregions;
	size_t			 regions_total;	/* scanned + skipped */
	size_t			 regions_done;
	size_t			 regions_failed;
	char			 first_failure[1024];
	struct inventory_totals	 totals;
	long long		 requests;
	char			*alias;
	int			 in_handler;
	int			 failed;	/* the account: err says why */
	struct errbuf		 err;
};

static long long
collect_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
collect_fail(struct collect *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
collect_fail(struct collect *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err.msg, sizeof(c->err.msg), fmt, ap);
	va_end(ap);
	c->failed = 1;
	return -1;
}

/* --- frames --- */

static int
collect_send(struct collect *c, enum msg_type type, json_t *body)
{
	struct errbuf err;

	if (c->failed) {
		json_decref(body);
		return -1;
	}
	if (body == NULL)
		return collect_fail(c, "cannot build a %s body",
		    msg_type_name(type));
	if (channel_send(c->ch, type, body, &err) == -1)
		return collect_fail(c, "%s", err.msg);
	return 0;
}

static int
collect_send_batch(void *arg, const char *body, size_t len,
    struct errbuf *err)
{
	struct collect *c = arg;
	struct errbuf werr;

	if (c->failed)
		return err_set(err, "%s", c->err.msg);
	if (channel_send_text(c->ch, MSG_RESOURCE_BATCH, body, len,
	    &werr) == -1) {
		collect_fail(c, "%s", werr.msg);
		return err_set(err, "%s", c->err.msg);
	}
	return 0;
}

static void
collect_region_done(struct collect *c, const char *name, const char *status,
    const char *error, const char *code, long long resources)
{
	json_t *body;

	body = json_pack("{s:s, s:s, s:s?, s:s?, s:I}", "region", name,
	    "status", status, "error", error, "aws_code", code,
	    "resources", (json_int_t)resources);
	if (body == NULL)	/* text that is not UTF-8: say so instead */
		body = json_pack("{s:s, s:s, s:s, s:n, s:I}", "region", name,
		    "status", status, "error", "(error text not valid UTF-8)",
		    "aws_code", "resources", (json_int_t)resources);
	if (collect_send(c, MSG_REGION_DONE, body) == -1)
		return;
	c->regions_done++;
	collect_send(c, MSG_PROGRESS, json_pack("{s:I, s:I, s:I}",
	    "regions_done", (json_int_t)c->regions_done,
	    "regions_total", (json_int_t)c->regions_total,
	    "resources", (json_int_t)c->totals.sent));
}

/* --- calls --- */

static void
collect_call_free(struct collect_call *call)
{
	if (call == NULL)
		return;
	http_call_free(call->http);
	free(call->key);
	free(call->key2);
	free(call);
}

static void
collect_request(struct collect *c, struct collect_region *r,
    const struct http_request *req, const char *op, int flags,
    collect_done_fn done, const char *key, const char *key2)
{
	struct collect_call *call;

	if (c->failed || (r != NULL && r->finished))
		return;
	call = xcalloc(1, sizeof(*call));
	snprintf(call->what, sizeof(call->what), "%s %s", req->service->id,
	    op);
	call->region = r;
	call->flags = flags;
	call->done = done;
	call->key = key != NULL ? xstrdup(key) : NULL;
	call->key2 = key2 != NULL ? xstrdup(key2) : NULL;
	call->http = http_call_new(c->http, req, call);
	if (r != NULL)
		r->npending++;
	else if (flags & COLLECT_BLOCKING)
		c->nblocking++;
	/* Follow-ups first: regions finish, stream and free sooner. */
	if (c->in_handler)
		TAILQ_INSERT_HEAD(&c->queue, call, entry);
	else
		TAILQ_INSERT_TAIL(&c->queue, call, entry);
}

static void
collect_request_init(struct collect *c, struct collect_region *r,
    const char *service, struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	if ((req->service = aws_service_find(service)) == NULL)
		fatalx("%s: no service %s in http.c", __func__, service);
	req->region = r != NULL ? r->name : c->job->home_region;
}

void
collect_query(struct collect *c, struct collect_region *r,
    const char *service, const char *action, const char *version,
    const char *params, int flags, collect_done_fn done, const char *key,
    const char *key2)
{
	struct http_request req;
	char *body;

	collect_request_init(c, r, service, &req);
	body = xprintf("Action=%s&Version=%s%s%s", action, version,
	    params != NULL ? "&" : "", params != NULL ? params : "");
	req.method = "POST";
	req.path = "/";
	req.body = body;
	req.body_len = strlen(body);
	collect_request(c, r, &req, action, flags, done, key, key2);
	free(body);
}

void
collect_json(struct collect *c, struct collect_region *r,
    const char *service, const char *operation, json_t *body, int flags,
    collect_done_fn done, const char *key, const char *key2)
{
	struct http_request req;
	char *text;

	collect_request_init(c, r, service, &req);
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps failed", __func__);
	json_decref(body);
	req.method = "POST";
	req.path = "/";
	req.target = operation;
	req.body = text;
	req.body_len = strlen(text);
	collect_request(c, r, &req, operation, flags, done, key, key2);
	free(text);
}

void
collect_get(struct collect *c, struct collect_region *r, const char *service,
    const char *operation, const char *path, const char *query, int flags,
    collect_done_fn done, const char *key, const char *key2)
{
	struct http_request req;

	collect_request_init(c, r, service, &req);
	req.method = "GET";
	req.path = path;
	req.query = query;
	collect_request(c, r, &req, operation, flags, done, key, key2);
}

struct awsxml_node *
collect_parse_xml(const struct http_response *resp, const char *root,
    struct errbuf *err)
{
	struct awsxml_node *doc;
	char name[64];

	if ((doc = awsxml_parse(resp->body, resp->body_len, err)) == NULL) {
		err_prefix(err, "malformed answer");
		return NULL;
	}
	if (strcmp(doc->name, root) != 0) {
		awsxml_errcpy(name, sizeof(name), doc->name);
		err_set(err, "malformed answer: expected <%s>, got <%s>", root,
		    name);
		awsxml_free(doc);
		return NULL;
	}
	return doc;
}

json_t *
collect_parse_json(const struct http_response *resp, struct errbuf *err)
{
	json_t *doc;

	if ((doc = awsjson_parse(resp->body, resp->body_len, err)) == NULL)
		err_prefix(err, "malformed answer");
	return doc;
}

int
collect_xml_tags(struct inventory_resource *res,
    const struct awsxml_node *list, const char *item, const char *key,
    const char *value, struct errbuf *err)
{
	const struct awsxml_node *n;

	/* Listed twice (pages shift): the first reading stands. */
	if (inventory_has_tags(res, INVENTORY_ENUMERATOR))
		return 0;
	for (n = awsxml_first(list, item); n != NULL; n = awsxml_next(n))
		if (inventory_tag(res, INVENTORY_ENUMERATOR, awsxml_text(n, key),
		    awsxml_text(n, value), err) == -1)
			return -1;
	inventory_tags_read(res, INVENTORY_ENUMERATOR);
	return 0;
}

int
collect_json_tags(struct inventory_resource *res, enum inventory_source src,
    const json_t *list, const char *key, const char *value,
    struct errbuf *err)
{
	json_t *t;
	size_t i;

	if (list != NULL && !json_is_array(list))
		return err_set(err, "malformed answer: tags are not a list");
	if (inventory_has_tags(res, src))
		return 0;
	json_array_foreach(list, i, t)
		if (inventory_tag(res, src,
		    awsjson_string(t, key), awsjson_string(t, value), err) == -1)
			return -1;
	inventory_tags_read(res, src);
	return 0;
}

struct collect_region *
collect_call_region(const struct collect_call *call)
{
	return call->region;
}

const char *
collect_call_key(const struct collect_call *call)
{
	return call->key;
}

const char *
collect_call_key2(const struct collect_call *call)
{
	return call->key2;
}

void
collect_call_error(const struct collect_call *call, struct errbuf *err)
{
	if (http_call_error(call->http, err) == 0)
		err_set(err, "no error");
}

int
collect_call_failed(const struct collect_call *call)
{
	struct errbuf err;

	return http_call_error(call->http, &err) == -1;
}

/* --- regions --- */

static void
collect_drop_calls(struct collect_calls *list, struct collect_region *r)
{
	struct collect_call *call, *tmp;

	TAILQ_FOREACH_SAFE(call, list, entry, tmp) {
		if (call->region != r)
			continue;
		TAILQ_REMOVE(list, call, entry);
		r->npending--;
		collect_call_free(call);
	}
}

static void
collect_region_fail(struct collect *c, struct collect_region *r,
    const char *msg, const char *code)
{
	if (r->finished || c->failed)
		return;
	r->finished = 1;
	collect_drop_calls(&c->queue, r);
	collect_drop_calls(&c->delayed, r);
	inventory_free(r->inv);
	r->inv = NULL;
	if (c->regions_failed++ == 0)
		snprintf(c->first_failure, sizeof(c->first_failure), "%s: %s",
		    r->name, msg);
	collect_log(c, "WARNING", "region %s failed: %s", r->name, msg);
	collect_region_done(c, r->name, "failed", msg,
	    code != NULL && *code != '\0' ? code : NULL, 0);
}

static void
collect_region_finish(struct collect *c, struct collect_region *r)
{
	struct inventory_emit e = {
		c->job->policy, r->name, COLLECT_DEFAULT_BATCH,
		COLLECT_BATCH_BYTES, services_enumerated, collect_send_batch, c
	};
	struct inventory_totals t = { 0, 0, 0, 0 };
	struct errbuf err;
	int rc;

	if (c->job->max_batch > 0)
		e.max_batch = c->job->max_batch > COLLECT_MAX_BATCH ?
		    COLLECT_MAX_BATCH : (size_t)c->job->max_batch;
	rc = inventory_emit(r->inv, &e, &t, &err);
	if (rc == -1 && !c->failed) {
		collect_region_fail(c, r, err.msg, NULL);
		return;
	}
	r->finished = 1;
	inventory_free(r->inv);
	r->inv = NULL;
	if (rc == -1)
		return;
	c->totals.sent += t.sent;
	c->totals.counted += t.counted;
	c->totals.compliant += t.compliant;
	c->totals.violations += t.violations;
	collect_region_done(c, r->name, "ok", NULL, NULL, t.sent);
}

static void
collect_region_check(struct collect *c, struct collect_region *r)
{
	if (!r->finished && !c->failed && r->npending == 0 &&
	    c->nblocking == 0)
		collect_region_finish(c, r);
}

static void
collect_regions_check(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->nregions; i++)
		collect_region_check(c, c->regions[i]);
}

static void
collect_regions_fail(struct collect *c, const char *msg, const char *code)
{
	size_t i;

	for (i = 0; i < c->nregions; i++)
		collect_region_fail(c, c->regions[i], msg, code);
}

/* A call is handled: count it off and finish what it completed. */
static void
collect_call_release(struct collect *c, struct collect_call *call)
{
	struct collect_region *r = call->region;
	int blocking = r == NULL && (call->flags & COLLECT_BLOCKING);

	collect_call_free(call);
	if (r != NULL) {
		r->npending--;
		collect_region_check(c, r);
	} else if (blocking && --c->nblocking == 0)
		collect_regions_check(c);
}

static void
collect_call_fail(struct collect *c, struct collect_call *call,
    const char *msg, const char *code)
{
	if (call->region != NULL)
		collect_region_fail(c, call->region, msg, code);
	else if (call->flags & COLLECT_FATAL)
		collect_fail(c, "%s", msg);
	else if (call->flags & COLLECT_BLOCKING)
		collect_regions_fail(c, msg, code);
	else
		collect_log(c, "WARNING", "%s", msg);
}

/* --- credentials --- */

static int
collect_refresh(struct collect *c)
{
	struct errbuf err;

	if (channel_refresh_creds(c->ch, c->creds, &err) == -1)
		return collect_fail(c, "credential refresh failed: %s",
		    err.msg);
	c->retired = xreallocarray(c->retired, c->nretired + 1,
	    sizeof(*c->retired));
	c->retired[c->nretired++] = c->sign;
	c->sign = creds_dup(*c->creds);
	c->refreshed_at = time(NULL);
	return 0;
}

static int
collect_refresh_due(const struct collect *c)
{
	time_t now = time(NULL);

	if (!creds_expiring(c->sign, now, c->job->refresh_margin_s))
		return 0;
	return c->refreshed_at == 0 ||
	    now - c->refreshed_at >= COLLECT_REFRESH_MIN_S;
}

static int
collect_expired(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(collect_expired_codes) /
	    sizeof(collect_expired_codes[0]); i++)
		if (strcmp(code, collect_expired_codes[i]) == 0)
			return 1;
	return 0;
}

/* --- the loop --- */

static void
collect_start(struct collect *c, struct collect_call *call)
{
	struct errbuf err;

	if (collect_refresh_due(c) && collect_refresh(c) == -1) {
		TAILQ_INSERT_HEAD(&c->queue, call, entry);
		return;
	}
	if (http_call_rearm(call->http, c->sign, &err) == -1) {
		collect_call_fail(c, call, err.msg, NULL);
		collect_call_release(c, call);
		return;
	}
	call->signed_with = c->sign;
	if (curl_multi_add_handle(c->multi, http_call_easy(call->http)) !=
	    CURLM_OK) {
		TAILQ_INSERT_HEAD(&c->queue, call, entry);
		collect_fail(c, "curl_multi_add_handle failed");
		return;
	}
	TAILQ_INSERT_TAIL(&c->running, call, entry);
	c->inflight++;
	c->requests++;
}

static void
collect_start_calls(struct collect *c)
{
	struct collect_call *call;
	long long now = collect_now_ms();

	while (!c->failed && (call = TAILQ_FIRST(&c->delayed)) != NULL &&
	    call->due_ms <= now) {
		TAILQ_REMOVE(&c->delayed, call, entry);
		TAILQ_INSERT_HEAD(&c->queue, call, entry);
	}
	while (!c->failed &&
	    c->inflight < (size_t)channel_max_inflight(c->ch) &&
	    (call = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, call, entry);
		collect_start(c, call);
	}
}

static void
collect_delay(struct collect *c, struct collect_call *call, long ms)
{
	struct collect_call *p;

	call->due_ms = collect_now_ms() + ms;
	TAILQ_FOREACH(p, &c->delayed, entry)
		if (p->due_ms > call->due_ms)
			break;
	if (p != NULL)
		TAILQ_INSERT_BEFORE(p, call, entry);
	else
		TAILQ_INSERT_TAIL(&c->delayed, call, entry);
}

/* The answer is final: hand it to its collector, or fail its scope. */
static void
collect_dispatch(struct collect *c, struct collect_call *call)
{
	const struct http_response *resp = http_call_response(call->http);
	struct errbuf err;
	int rc;

	if (call->region != NULL && call->region->finished)
		return;
	if (http_call_error(call->http, &err) == 0 ||
	    (call->flags & COLLECT_OWN_ERRORS)) {
		c->in_handler = 1;
		rc = call->done(c, call, resp, &err);
		c->in_handler = 0;
		if (rc == 0)
			return;
		if (rc != COLLECT_DEFAULT) {
			err_prefix(&err, "%s", call->what);
			collect_call_fail(c, call, err.msg, NULL);
			return;
		}
		collect_call_error(call, &err);
	}
	collect_call_fail(c, call, err.msg, resp->error_code);
}

static void
collect_finished(struct collect *c, struct collect_call *call, CURLcode cc)
{
	const struct http_response *resp;
	long ms;

	if (http_call_finish(call->http, cc, &ms) == HTTP_VERDICT_RETRY) {
		collect_delay(c, call, ms);
		return;
	}
	resp = http_call_response(call->http);
	if (collect_expired(resp->error_code) && !call->expired_retry) {
		call->expired_retry = 1;
		collect_log(c, "INFO", "credentials expired (%s): refreshing "
		    "and retrying once", resp->error_code);
		if (call->signed_with == c->sign)
			collect_refresh(c);
		TAILQ_INSERT_HEAD(&c->queue, call, entry);
		return;
	}
	collect_dispatch(c, call);
	collect_call_release(c, call);
}

static int
collect_reap(struct collect *c)
{
	struct collect_call *call;
	CURLMsg *m;
	CURLcode cc;
	CURL *easy;
	char *priv;
	int left, n = 0;

	while (!c->failed && (m = curl_multi_info_read(c->multi, &left)) !=
	    NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		easy = m->easy_handle;
		cc = m->data.result;
		if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) !=
		    CURLE_OK || priv == NULL)
			return collect_fail(c, "a transfer without its call");
		call = http_call_arg((struct http_call *)(void *)priv);
		curl_multi_remove_handle(c->multi, easy);
		TAILQ_REMOVE(&c->running, call, entry);
		c->inflight--;
		collect_finished(c, call, cc);
		n++;
	}
	return n;
}

static int
collect_poll_ms(const struct collect *c)
{
	const struct collect_call *call = TAILQ_FIRST(&c->delayed);
	long long ms;

	if (call == NULL)
		return COLLECT_POLL_MS;
	ms = call->due_ms - collect_now_ms();
	return ms < 0 ? 0 : ms > COLLECT_POLL_MS ? COLLECT_POLL_MS : (int)ms;
}

static int
collect_run(struct collect *c)
{
	struct curl_waitfd chan = { channel_fd(c->ch), CURL_WAIT_POLLIN, 0 };
	int running;

	while (!c->failed) {
		collect_start_calls(c);
		if (c->failed || (TAILQ_EMPTY(&c->running) &&
		    TAILQ_EMPTY(&c->queue) && TAILQ_EMPTY(&c->delayed)))
			break;
		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
			return collect_fail(c, "curl_multi_perform failed");
		if (collect_reap(c) == 0 && !c->failed &&
		    curl_multi_poll(c->multi, &chan, 1, collect_poll_ms(c),
		    NULL) != CURLM_OK)
			return collect_fail(c, "curl_multi_poll failed");
		if (channel_poll(c->ch))
			return collect_fail(c, "scan cancelled by the "
			    "supervisor");
	}
	return c->failed ? -1 : 0;
}

/* --- what the collectors read --- */

const char *
collect_account_id(const struct collect *c)
{
	return c->job->account_id;
}

const char *
collect_home_region(const struct collect *c)
{
	return c->job->home_region;
}

int
collect_wants_type(const struct collect *c, const char *type)
{
	size_t i;

	for (i = 0; i < c->job->ntypes; i++)
		if (strcmp(c->job->resource_types[i], type) == 0)
			return 1;
	return 0;
}

size_t
collect_types(const struct collect *c, const char *const **types)
{
	*types = c->job->resource_types;
	return c->job->ntypes;
}

/* IAM allows 63 characters; proto.c takes 256 bytes. */
void
collect_set_alias(struct collect *c, const char *alias)
{
	free(c->alias);
	c->alias = NULL;
	if (alias != NULL && *alias != '\0' && strlen(alias) <= 256)
		c->alias = xstrdup(alias);
}

void
collect_log(struct collect *c, const char *level, const char *fmt, ...)
{
	char msg[PROTO_MAX_LOG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	channel_log(c->ch, level, "%s", msg);
}

const char *
collect_region_name(const struct collect_region *r)
{
	return r->name;
}

struct inventory *
collect_region_inventory(struct collect_region *r)
{
	return r->inv;
}

struct collect_region *
collect_region_find(struct collect *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nregions; i++)
		if (strcmp(c->regions[i]->name, name) == 0)
			return c->regions[i]->finished ? NULL : c->regions[i];
	return NULL;
}

char *
collect_urlencode(const char *s)
{
	char *enc, *copy;

	if ((enc = curl_easy_escape(NULL, s, 0)) == NULL)
		fatalx("curl_easy_escape: out of memory");
	copy = xstrdup(enc);
	curl_free(enc);
	return copy;
}

int
collect_next_token(const char *what, const char *sent, const char *next,
    struct errbuf *err)
{
	size_t len;

	if (next == NULL || *next == '\0')
		return 0;
	if ((len = strlen(next)) > COLLECT_MAX_TOKEN)
		return err_set(err, "malformed answer: %s returned a "
		    "pagination token of %zu bytes", what, len);
	if (sent != NULL && strcmp(sent, next) == 0)
		return err_set(err, "%s returned the pagination token it was "
		    "given, so the listing would never end", what);
	return 1;
}

/* --- which regions: DescribeRegions, the job, opt-in status --- */

struct collect_skip {
	char	*name;
	char	*reason;
};

void
collect_region_offer(struct collect *c, const char *name, const char *opt_in)
{
	c->offers = xreallocarray(c->offers, c->noffers + 1,
	    sizeof(*c->offers));
	c->offers[c->noffers].name = xstrdup(name);
	c->offers[c->noffers].opt_in = xstrdup(opt_in != NULL ? opt_in : "");
	c->noffers++;
}

static const struct collect_offer *
collect_offer_find(const struct collect *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->noffers; i++)
		if (strcmp(c->offers[i].name, name) == 0)
			return &c->offers[i];
	return NULL;
}

static struct collect_region *
collect_region_add(struct collect *c, const char *name)
{
	struct collect_region *r = xcalloc(1, sizeof(*r));

	r->name = xstrdup(name);
	r->inv = inventory_new();
	c->regions = xreallocarray(c->regions, c->nregions + 1,
	    sizeof(*c->regions));
	c->regions[c->nregions++] = r;
	return r;
}

static int
collect_planned(const struct collect *c, const char *name,
    const struct collect_skip *skips, size_t nskips)
{
	size_t i;

	for (i = 0; i < c->nregions; i++)
		if (strcmp(c->regions[i]->name, name) == 0)
			return 1;
	for (i = 0; i < nskips; i++)
		if (strcmp(skips[i].name, name) == 0)
			return 1;
	return 0;
}

static void
collect_plan(struct collect *c, const char *name, struct collect_skip **skips,
    size_t *nskips)
{
	const struct collect_offer *o = collect_offer_find(c, name);
	char *why = NULL;

	if (collect_planned(c, name, *skips, *nskips))
		return;
	if (o == NULL)
		why = xprintf("region %s is not offered to account %s (EC2 "
		    "DescribeRegions does not list it); check the region name",
		    name, c->job->account_id);
	else if (strcmp(o->opt_in, "not-opted-in") == 0)
		why = xprintf("region %s is not enabled for account %s (opt-in "
		    "status not-opted-in); opt in to it or leave it out of "
		    "ALLOWED_REGIONS", name, c->job->account_id);
	if (why != NULL) {
		*skips = xreallocarray(*skips, *nskips + 1, sizeof(**skips));
		(*skips)[*nskips].name = xstrdup(name);
		(*skips)[(*nskips)++].reason = why;
		return;
	}
	collect_region_add(c, name);
}

/* A region's regional rows that lead, or the others. */
static void
collect_start_region(struct collect *c, struct collect_region *r, int leads)
{
	const struct services_row *row;
	struct errbuf err;

	for (row = services_table; row->name != NULL; row++)
		if (row->scope == SERVICES_REGIONAL && row->leads == leads &&
		    services_wanted(row, c) && !r->finished &&
		    row->start(c, r, &err) == -1)
			collect_region_fail(c, r, err.msg, NULL);
}

/* Every region not started yet: the leading rows first, then the rest. */
static void
collect_start_regional(struct collect *c)
{
	size_t i;
	int leads;

	for (leads = 1; leads >= 0; leads--)
		for (i = 0; i < c->nregions; i++)
			if (!c->regions[i]->started)
				collect_start_region(c, c->regions[i], leads);
	for (i = 0; i < c->nregions; i++)
		c->regions[i]->started = 1;
}

/*
 * The home region is enabled, since DescribeRegions is answered there: a
 * job that wants it starts its calls beside DescribeRegions, in the slots
 * that call would leave idle. It cannot finish early: DescribeRegions is
 * an account call regions wait for, like the S3 listing it queues.
 */
static void
collect_start_home(struct collect *c)
{
	const char *home = c->job->home_region;
	size_t i;

	if (c->job->regions != NULL) {
		for (i = 0; i < c->job->nregions; i++)
			if (strcmp(c->job->regions[i], home) == 0)
				break;
		if (i == c->job->nregions)
			return;
	}
	collect_region_add(c, home);
	collect_start_regional(c);
}

/* Account-wide rows first, so regions wait for the S3 bucket listing. */
static void
collect_start_services(struct collect *c)
{
	const struct services_row *row;
	struct errbuf err;

	for (row = services_table; row->name != NULL; row++) {
		if (row->scope != SERVICES_ACCOUNT || !services_wanted(row, c) ||
		    (row->types != NULL && c->nregions == 0))
			continue;
		if (row->start(c, NULL, &err) == 0)
			continue;
		if (row->types != NULL)
			collect_regions_fail(c, err.msg, NULL);
		else
			collect_log(c, "WARNING", "%s", err.msg);
	}
	collect_start_regional(c);
	collect_regions_check(c);
}

int
collect_regions_listed(struct collect *c, struct errbuf *err)
{
	struct collect_skip *skips = NULL;
	size_t i, nskips = 0;
	int in_handler = c->in_handler;

	(void)err;
	if (c->job->regions != NULL)
		for (i = 0; i < c->job->nregions; i++)
			collect_plan(c, c->job->regions[i], &skips, &nskips);
	else
		for (i = 0; i < c->noffers; i++)
			collect_plan(c, c->offers[i].name, &skips, &nskips);
	c->regions_total = c->nregions + nskips;
	for (i = 0; i < nskips; i++) {
		collect_region_done(c, skips[i].name, "skipped",
		    skips[i].reason, NULL, 0);
		free(skips[i].name);
		free(skips[i].reason);
	}
	free(skips);
	/* The first calls go in order; follow-ups jump the queue. */
	c->in_handler = 0;
	collect_start_services(c);
	c->in_handler = in_handler;
	return 0;
}

/* --- setup and the end --- */

static struct collect *
collect_new(const struct collect_job *job, struct aws_creds **creds,
    struct channel *ch)
{
	struct http_options opts;
	struct collect *c;

	c = xcalloc(1, sizeof(*c));
	c->job = job;
	c->ch = ch;
	c->creds = creds;
	c->sign = creds_dup(*creds);
	TAILQ_INIT(&c->queue);
	TAILQ_INIT(&c->running);
	TAILQ_INIT(&c->delayed);
	memset(&opts, 0, sizeof(opts));
	/* Neither parser reads more than this, so do not receive more. */
	opts.max_body = AWSXML_MAX_SIZE;
	c->http = http_client_new(&opts);
	if ((c->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	return c;
}

static void
collect_free_list(struct collect_calls *list)
{
	struct collect_call *call;

	while ((call = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, call, entry);
		collect_call_free(call);
	}
}

static void
collect_free(struct collect *c)
{
	struct collect_call *call;
	size_t i;

	TAILQ_FOREACH(call, &c->running, entry)
		curl_multi_remove_handle(c->multi, http_call_easy(call->http));
	curl_multi_cleanup(c->multi);
	collect_free_list(&c->running);
	collect_free_list(&c->queue);
	collect_free_list(&c->delayed);
	http_client_free(c->http);
	for (i = 0; i < c->nregions; i++) {
		inventory_free(c->regions[i]->inv);
		free(c->regions[i]->name);
		free(c->regions[i]);
	}
	free(c->regions);
	for (i = 0; i < c->noffers; i++) {
		free(c->offers[i].name);
		free(c->offers[i].opt_in);
	}
	free(c->offers);
	for (i = 0; i < c->nretired; i++)
		creds_free(c->retired[i]);
	free(c->retired);
	creds_free(c->sign);
	free(c->alias);
	free(c);
}

static int
collect_done(struct collect *c)
{
	size_t scanned = c->nregions;

	/* Nothing left to wait for: finish what the bookkeeping held. */
	c->nblocking = 0;
	collect_regions_check(c);
	if (c->failed)
		return -1;
	if (scanned > 0 && c->regions_failed == scanned)
		return collect_fail(c, "every scanned region failed (%zu); "
		    "first %s", scanned, c->first_failure);
	return collect_send(c, MSG_ACCOUNT_DONE, json_pack("{s:s?, s:I, s:I, "
	    "s:I, s:I}", "account_alias", c->alias,
	    "resources", (json_int_t)c->totals.counted,
	    "compliant", (json_int_t)c->totals.compliant,
	    "violations", (json_int_t)c->totals.violations,
	    "requests", (json_int_t)c->requests));
}

int
collect_account(const struct collect_job *job, struct aws_creds **creds,
    struct channel *ch, struct errbuf *err)
{
	struct collect *c;
	struct errbuf e;
	int rc;

	c = collect_new(job, creds, ch);
	if (svc_ec2_regions(c, &e) == -1)
		collect_fail(c, "%s", e.msg);
	else
		collect_start_home(c);
	if ((rc = collect_run(c)) == 0)
		rc = collect_done(c);
	if (rc == -1)
		err_set(err, "%s", c->err.msg);
	collect_free(c);
	return rc;
}
