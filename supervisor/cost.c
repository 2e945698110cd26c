/*
 * The cost phase of a scan: which Cost Explorer answers each account needs
 * (resource-level first, per tag key after DataUnavailableException),
 * taken from today's cache or asked for in queries grouped by caller (each
 * account alone, or every account from COST_EXPLORER_ACCOUNT_ID), at most
 * COST_MAX_INFLIGHT at a time, and the end: every account's block built by
 * cost-report.c. Credentials come from the scan's STS cache.
 */
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "ce.h"
#include "config.h"
#include "cost.h"
#include "cost-internal.h"
#include "costdb.h"
#include "errbuf.h"
#include "evcurl.h"
#include "http.h"
#include "log.h"
#include "policy.h"
#include "sts.h"
#include "xmalloc.h"

/* One Cost Explorer query: one caller, one key (or resource-level). */
struct cost_query {
	TAILQ_ENTRY(cost_query)	 entry;
	struct cost		*cost;
	struct cost_run		*run;		/* NULL: orphaned */
	char			 caller[13];
	int			 key;		/* COST_RESOURCE_KEY or index */
	size_t			*accts;		/* indices into run->accts */
	size_t			 naccts;
	struct ce_fetch		*fetch;
};

TAILQ_HEAD(cost_queries, cost_query);

struct cost {
	struct event_base	*base;
	const struct config	*cfg;
	struct sts		*sts;
	struct store		*store;
	struct evcurl		*ec;
	struct http_client	*http;
	struct cost_queries	 orphans;	/* waiting for STS */
};

struct cost_run_private {
	struct cost_queries	 waiting, running;
	size_t			 inflight;
	void			(*done)(struct cost_run *, void *);
	void			*arg;
	struct event		*done_ev;
};

static void	cost_pump(struct cost_run *);

/* --- queries --- */

static void
query_free(struct cost_query *q)
{
	if (q == NULL)
		return;
	ce_fetch_cancel(q->fetch);
	free(q->accts);
	free(q);
}

static const char *
run_caller(const struct cost_run *run, const struct cost_acct *a)
{
	const char *payer = run->cost->cfg->cost_explorer_account_id;

	return payer != NULL ? payer : a->id;
}

/* The waiting query for (caller, key), made when there is none. */
static void
query_add(struct cost_run *run, size_t ai, int key)
{
	struct cost_acct *a = &run->accts[ai];
	const char *caller = run_caller(run, a);
	struct cost_query *q;

	TAILQ_FOREACH(q, &run->p->waiting, entry)
		if (q->key == key && strcmp(q->caller, caller) == 0)
			break;
	if (q == NULL) {
		q = xcalloc(1, sizeof(*q));
		q->cost = run->cost;
		q->run = run;
		q->key = key;
		snprintf(q->caller, sizeof(q->caller), "%s", caller);
		TAILQ_INSERT_TAIL(&run->p->waiting, q, entry);
	}
	q->accts = xreallocarray(q->accts, q->naccts + 1, sizeof(*q->accts));
	q->accts[q->naccts++] = ai;
}

static void
query_end(struct cost_query *q)
{
	struct cost_run *run = q->run;

	TAILQ_REMOVE(&run->p->running, q, entry);
	run->p->inflight--;
	q->fetch = NULL;
	query_free(q);
	cost_pump(run);
}

/* Every account of the query is left without a gap, for this reason. */
static void
query_fail(struct cost_query *q, const char *why)
{
	struct cost_acct *a;
	size_t i;

	for (i = 0; i < q->naccts; i++) {
		a = &q->run->accts[q->accts[i]];
		if (a->error == NULL)
			a->error = xstrdup(why);
	}
	query_end(q);
}

/* --- the cache --- */

static void
run_key(const struct cost_run *run, const struct cost_acct *a, int key,
    struct costdb_key *k)
{
	const struct cost_range *r = key == COST_RESOURCE_KEY ? &run->window :
	    &run->period;

	memset(k, 0, sizeof(*k));
	k->day = run->day;
	k->caller_account = run_caller(run, a);
	k->account_id = a->id;
	k->tag_key = key == COST_RESOURCE_KEY ? NULL : run->keys[key];
	k->start = r->start;
	k->end = r->end;
	k->metric = run->metric;
}

/* Today's cached answer: 1 (status in *st, fetch id stored), 0, -1. */
static int
cache_find(struct cost_run *run, size_t ai, int key, enum costdb_status *st)
{
	struct cost_acct *a = &run->accts[ai];
	struct costdb_key k;
	struct errbuf err;
	int64_t id;
	int rc;

	run_key(run, a, key, &k);
	if ((rc = costdb_find(run->cost->store, &k, &id, st, &err)) == -1) {
		log_warnx("cost cache: %s", err.msg);
		return 0;	/* ask Cost Explorer instead */
	}
	if (rc == 1)
		cost_acct_set_fetch(a, key, id);
	return rc;
}

static void
cache_put(struct cost_run *run, size_t ai, int key, enum costdb_status st,
    const struct ce_answer *ans)
{
	struct cost_acct *a = &run->accts[ai];
	struct costdb_key k;
	struct errbuf err;
	int64_t id;

	run_key(run, a, key, &k);
	if (costdb_put(run->cost->store, &k, st, ans->requests, &ans->lines,
	    &id, &err) == -1) {
		if (a->error == NULL)
			a->error = xprintf("Cost Explorer answer not stored: "
			    "%s", err.msg);
		return;
	}
	a->fetched = 1;
	cost_acct_set_fetch(a, key, id);
}

/* --- the plan --- */

static void
plan_tags(struct cost_run *run, size_t ai)
{
	enum costdb_status st;
	size_t k;

	run->accts[ai].method = COST_METHOD_TAG;
	for (k = 0; k < run->nkeys; k++)
		if (cache_find(run, ai, (int)k, &st) == 0)
			query_add(run, ai, (int)k);
}

static void
plan_account(struct cost_run *run, size_t ai)
{
	enum costdb_status st;

	if (run->window.days == 0) {
		plan_tags(run, ai);
		return;
	}
	run->accts[ai].method = COST_METHOD_RESOURCE;
	if (cache_find(run, ai, COST_RESOURCE_KEY, &st) == 0)
		query_add(run, ai, COST_RESOURCE_KEY);
	else if (st == COSTDB_UNAVAILABLE)
		plan_tags(run, ai);
}

/* --- running queries --- */

static void
query_answered(const struct ce_answer *ans, void *arg)
{
	struct cost_query *q = arg;
	struct cost_run *run = q->run;
	int unavailable;
	size_t i;

	q->fetch = NULL;	/* freed by ce after this returns */
	run->requests += ans->requests;
	unavailable = ans->rc == -1 && q->key == COST_RESOURCE_KEY &&
	    strcmp(ans->aws_code, CE_DATA_UNAVAILABLE) == 0;
	if (ans->rc == -1 && !unavailable) {
		query_fail(q, ans->error);
		return;
	}
	for (i = 0; i < q->naccts; i++) {
		cache_put(run, q->accts[i], q->key, unavailable ?
		    COSTDB_UNAVAILABLE : COSTDB_OK, ans);
		if (unavailable)
			plan_tags(run, q->accts[i]);
	}
	query_end(q);
}

static void
query_fetch(struct cost_query *q, const struct aws_creds *creds)
{
	struct cost_run *run = q->run;
	const char **ids = xcalloc(q->naccts, sizeof(*ids));
	const struct cost_range *r;
	struct ce_query cq;
	size_t i;

	for (i = 0; i < q->naccts; i++)
		ids[i] = run->accts[q->accts[i]].id;
	r = q->key == COST_RESOURCE_KEY ? &run->window : &run->period;
	memset(&cq, 0, sizeof(cq));
	cq.tag_key = q->key == COST_RESOURCE_KEY ? NULL : run->keys[q->key];
	memcpy(cq.start, r->start, sizeof(cq.start));
	memcpy(cq.end, r->end, sizeof(cq.end));
	cq.metric = run->metric;
	cq.accounts = ids;
	cq.naccounts = q->naccts;
	q->fetch = ce_fetch_start(q->cost->ec, q->cost->http, creds, &cq,
	    query_answered, q);
	free(ids);
}

static void
query_creds(const struct aws_creds *creds, const char *role_arn,
    const char *error, void *arg)
{
	struct cost_query *q = arg;
	char *why;

	(void)role_arn;
	if (q->run == NULL) {		/* its run was freed meanwhile */
		TAILQ_REMOVE(&q->cost->orphans, q, entry);
		query_free(q);
		return;
	}
	if (creds == NULL) {
		why = xprintf("Cost Explorer not asked: no credentials for "
		    "account %s: %s", q->caller, error != NULL ? error :
		    "no reason given");
		query_fail(q, why);
		free(why);
		return;
	}
	query_fetch(q, creds);
}

static void
run_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cost_run *run = arg;

	(void)fd;
	(void)what;
	run->p->done(run, run->p->arg);
}

/*
 * Cost Explorer throttles hard, and MAX_CONCURRENT_ACCOUNTS promises how
 * many accounts are busy at once: the smaller of the two.
 */
static size_t
cost_max_inflight(const struct config *cfg)
{
	return cfg->max_concurrent_accounts < COST_MAX_INFLIGHT ?
	    (size_t)cfg->max_concurrent_accounts : COST_MAX_INFLIGHT;
}

static void
cost_pump(struct cost_run *run)
{
	struct timeval now = { 0, 0 };
	struct cost_query *q;

	while (run->p->inflight < cost_max_inflight(run->cost->cfg) &&
	    (q = TAILQ_FIRST(&run->p->waiting)) != NULL) {
		TAILQ_REMOVE(&run->p->waiting, q, entry);
		TAILQ_INSERT_TAIL(&run->p->running, q, entry);
		run->p->inflight++;
		sts_credentials(run->cost->sts, q->caller, 0, query_creds, q);
	}
	if (run->p->inflight > 0 || run->finished)
		return;
	run->finished = 1;
	cost_report(run);
	evtimer_add(run->p->done_ev, &now);
}

/* --- the run --- */

static void
run_keys(struct cost_run *run)
{
	size_t i, n = policy_required_count(run->policy);
	const char *name;
	int is_error;

	run->keys = xcalloc(n + 1, sizeof(*run->keys));
	for (i = 0; i < n; i++) {
		name = policy_required_name(run->policy, i, &is_error);
		if (is_error)
			run->keys[run->nkeys++] = name;
	}
}

struct cost_run *
cost_run_start(struct cost *c, const struct cost_request *req,
    void (*done)(struct cost_run *, void *), void *arg)
{
	struct cost_run *run = xcalloc(1, sizeof(*run));
	size_t i;

	run->p = xcalloc(1, sizeof(*run->p));
	TAILQ_INIT(&run->p->waiting);
	TAILQ_INIT(&run->p->running);
	run->p->done = done;
	run->p->arg = arg;
	if ((run->p->done_ev = evtimer_new(c->base, run_done_cb, run)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	run->cost = c;
	run->scan_id = req->scan_id;
	run->policy = req->policy;
	run->period = req->period;
	run->metric = xstrdup(req->metric);
	cost_date(req->now, 0, run->day);
	if (!cost_window(&run->period, req->now, &run->window))
		memset(&run->window, 0, sizeof(run->window));
	run_keys(run);
	run->accts = xcalloc(req->naccounts + 1, sizeof(*run->accts));
	run->naccts = req->naccounts;
	for (i = 0; i < run->naccts; i++)
		cost_acct_init(&run->accts[i], req->accounts[i], run->nkeys);
	for (i = 0; i < run->naccts; i++)
		plan_account(run, i);
	cost_pump(run);
	return run;
}

static void
run_orphan(struct cost_run *run, struct cost_query *q)
{
	TAILQ_REMOVE(&run->p->running, q, entry);
	if (q->fetch != NULL) {		/* asking CE: stop it now */
		query_free(q);
		return;
	}
	q->run = NULL;			/* STS still owes the answer */
	TAILQ_INSERT_TAIL(&run->cost->orphans, q, entry);
}

void
cost_run_free(struct cost_run *run)
{
	struct cost_query *q;
	size_t i;

	if (run == NULL)
		return;
	while ((q = TAILQ_FIRST(&run->p->waiting)) != NULL) {
		TAILQ_REMOVE(&run->p->waiting, q, entry);
		query_free(q);
	}
	while ((q = TAILQ_FIRST(&run->p->running)) != NULL)
		run_orphan(run, q);
	for (i = 0; i < run->naccts; i++)
		cost_acct_clear(&run->accts[i]);
	free(run->accts);
	free(run->keys);
	free(run->metric);
	event_free(run->p->done_ev);
	free(run->p);
	free(run);
}

/* --- the engine --- */

struct cost *
cost_new(struct event_base *base, const struct config *cfg, struct sts *sts,
    struct store *store)
{
	struct cost *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->cfg = cfg;
	c->sts = sts;
	c->store = store;
	c->ec = evcurl_new(base);
	c->http = http_client_new(NULL);
	TAILQ_INIT(&c->orphans);
	return c;
}

void
cost_free(struct cost *c)
{
	struct cost_query *q;

	if (c == NULL)
		return;
	while ((q = TAILQ_FIRST(&c->orphans)) != NULL) {
		TAILQ_REMOVE(&c->orphans, q, entry);
		query_free(q);
	}
	evcurl_free(c->ec);
	http_client_free(c->http);
	free(c);
}

struct store *
cost_store(const struct cost_run *run)
{
	return run->cost->store;
}

const struct config *
cost_run_config(const struct cost_run *run)
{
	return run->cost->cfg;
}
