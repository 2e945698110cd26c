/*
 * One multi-account scan from request to result: the plan (which accounts,
 * regions and types, from the request, the configuration and the policy),
 * the result cache, one job per account with its credentials from STS,
 * the worker's frames into the result and the history, and the report.
 * Every callback from STS or the job queue arrives from the event loop.
 */
#include <sys/queue.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "cost.h"
#include "creds.h"
#include "errbuf.h"
#include "jobs.h"
#include "log.h"
#include "policy.h"
#include "proto.h"
#include "result.h"
#include "scan.h"
#include "spawn-worker.h"
#include "store.h"
#include "sts.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The resource types the worker collects (worker/services.c), in the
 * order a scan lists them; a policy wildcard such as ec2:* expands to
 * these.
 */
static const char *const scan_types[] = {
	"ec2:instance", "ec2:volume", "s3:bucket", "rds:db",
	"lambda:function", "ecs:cluster",
};

/*
 * An STS request in flight. STS cannot cancel one, so a scan that goes
 * away only detaches its tickets; the engine frees what STS never
 * answers (sts_free drops pending callbacks).
 */
struct scan_ticket {
	TAILQ_ENTRY(scan_ticket)  entry;
	struct scan_engine	 *eng;
	struct scan		 *scan;	/* NULL: detached */
	struct scan_account	 *acct;	/* NULL: GetCallerIdentity */
	int			  refresh;
};

struct scan_account {
	TAILQ_ENTRY(scan_account) entry;	/* engine's orphans */
	struct scan		*scan;		/* NULL: orphaned */
	char			 id[CONFIG_ACCOUNT_ID_LEN + 1];
	struct result_account	*res;
	struct store_account	*buf;		/* NULL: not stored */
	struct job		*job;
	char			*role_arn;
	time_t			 started;
	struct timespec		 t0;
	int			 timing;
	int			 aborted;	/* job_fail'ed by us */
	int			 final;
	int64_t			 cache_scan_id;	/* 0: scanned now */
	int			 prefetched;	/* credentials asked ahead */
	char			*prefetch_error; /* and refused */
};

struct scan {
	struct scan_engine	 *eng;
	struct scan_callbacks	  cb;
	void			 *arg;
	unsigned long		  seq;
	char			**ids;		/* requested, deduplicated */
	size_t			  nids;
	int			  multi, force, store;
	json_t			 *regions;	/* NULL: every enabled */
	json_t			 *types;
	char			 *policy_text;
	char			 *policy_hash;
	struct policy		 *policy;
	int			  no_cost;
	char			 *cost_metric;
	struct cost_range	  cost_period;
	struct cost_run		 *cost_run;
	char			 *cache_key;
	struct result		 *result;
	int64_t			  history_id;
	time_t			  started;
	struct timespec		  t0;
	struct scan_account	**accts;
	size_t			  naccts, ndone;
	long long		  resources;
	int			  planned, cancelled, finishing;
	enum scan_outcome	  outcome;
	char			 *error;
	struct event		 *finish_ev;
};

TAILQ_HEAD(scan_tickets, scan_ticket);
TAILQ_HEAD(scan_orphans, scan_account);

struct scan_engine {
	struct event_base	*base;
	const struct config	*cfg;
	struct sts		*sts;
	struct store		*store;
	struct cost		*cost;
	struct job_queue	*jobs;
	char			**worker_env;
	unsigned long		 seq;
	struct scan_tickets	 tickets;
	struct scan_orphans	 orphans;
};

static void	scan_plan(struct scan *);
static void	scan_account_final(struct scan_account *, enum result_status,
		    const char *, const char *);

static long long
elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* --- tickets --- */

static struct scan_ticket *
ticket_new(struct scan *s, struct scan_account *a, int refresh)
{
	struct scan_ticket *t = xcalloc(1, sizeof(*t));

	t->eng = s->eng;
	t->scan = s;
	t->acct = a;
	t->refresh = refresh;
	TAILQ_INSERT_TAIL(&s->eng->tickets, t, entry);
	return t;
}

/* Unlink and free; the scan it was for, or NULL when detached. */
static struct scan *
ticket_take(struct scan_ticket *t, struct scan_account **acct)
{
	struct scan *s = t->scan;

	*acct = t->acct;
	TAILQ_REMOVE(&t->eng->tickets, t, entry);
	free(t);
	return s;
}

/* --- progress and the end --- */

static void
scan_progress(struct scan *s)
{
	struct scan_progress p;

	if (s->cb.progress == NULL)
		return;
	p.accounts_done = s->ndone;
	p.accounts_total = s->naccts;
	p.resources = s->resources;
	p.elapsed_ms = elapsed_ms(&s->t0);
	s->cb.progress(s, &p, s->arg);
}

static const char *
scan_status_name(const struct scan *s)
{
	if (s->outcome == SCAN_FAILED || s->outcome == SCAN_REFUSED)
		return "failed";
	if (s->outcome == SCAN_OK)
		return "complete";
	return s->cancelled ? "cancelled" : "partial";
}

static void
scan_record_end(struct scan *s)
{
	struct store_scan_end e;
	struct result_totals t;
	struct errbuf err;

	if (s->history_id == 0)
		return;
	result_totals(s->result, &t);
	memset(&e, 0, sizeof(e));
	e.finished_at = time(NULL);
	e.status = scan_status_name(s);
	e.error = s->error;
	e.accounts_total = t.accounts;
	e.accounts_ok = t.ok;
	e.total_resources = t.total;
	e.compliant_resources = t.compliant;
	e.violations = t.violations;
	if (store_scan_finish(s->eng->store, s->history_id, &e, &err) == -1)
		log_warnx("%s", err.msg);
}

static void
scan_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scan *s = arg;
	struct result_totals t;

	(void)fd;
	(void)what;
	if (s->outcome == SCAN_OK) {
		result_totals(s->result, &t);
		if (t.ok < t.accounts)
			s->outcome = SCAN_PARTIAL;
	}
	scan_record_end(s);
	log_debug("scan %lu: %s, %zu account%s, %lld resources, %lld ms",
	    s->seq, scan_status_name(s), s->naccts, s->naccts == 1 ? "" : "s",
	    s->resources, elapsed_ms(&s->t0));
	s->cb.done(s, s->outcome, s->error, s->result, s->arg);
}

/* Report from the event loop, never from inside a call of the caller's. */
static void
scan_schedule_finish(struct scan *s)
{
	struct timeval now = { 0, 0 };

	if (s->finishing)
		return;
	s->finishing = 1;
	evtimer_add(s->finish_ev, &now);
}

/* --- the cost phase, once every account is final --- */

static void
scan_cost_done(struct cost_run *run, void *arg)
{
	struct scan *s = arg;
	const struct scan_account *a;
	const char *why;
	long long cents;
	size_t i;

	for (i = 0; i < s->naccts; i++) {
		a = s->accts[i];
		if (cost_run_gap(run, a->id, &cents))
			result_set_account_cost(a->res, cents);
		else if ((why = cost_run_error(run, a->id)) != NULL)
			result_note(s->result, "account %s: no cost "
			    "attribution gap: %s", a->id, why);
	}
	result_set_cost(s->result, cost_run_json(run), NULL);
	scan_schedule_finish(s);
}

/* Why the scan has no cost phase, or NULL when it has one. */
static const char *
scan_cost_refusal(const struct scan *s, size_t nok)
{
	if (!s->eng->cfg->cost_explorer_enabled)
		return "COST_EXPLORER_ENABLED=false";
	if (s->no_cost)
		return "the request turned it off";
	if (s->cancelled)
		return "scan cancelled";
	if (s->history_id == 0 || s->eng->cost == NULL)
		return "the scan is not in the history database, which costs "
		    "are joined with";
	if (nok == 0)
		return "no account was scanned successfully";
	return NULL;
}

static void
scan_cost_start(struct scan *s)
{
	struct cost_request req;
	const char **ids = xcalloc(s->naccts + 1, sizeof(*ids));
	const char *why;
	size_t i, n = 0;

	for (i = 0; i < s->naccts; i++)
		if (s->accts[i]->res->status == RESULT_OK)
			ids[n++] = s->accts[i]->id;
	if ((why = scan_cost_refusal(s, n)) != NULL) {
		result_set_cost(s->result, NULL, why);
		scan_schedule_finish(s);
		free(ids);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.scan_id = s->history_id;
	req.accounts = ids;
	req.naccounts = n;
	req.policy = s->policy;
	req.period = s->cost_period;
	req.metric = s->cost_metric;
	req.now = time(NULL);
	s->cost_run = cost_run_start(s->eng->cost, &req, scan_cost_done, s);
	free(ids);
}

static void
scan_maybe_finish(struct scan *s)
{
	if (s->planned && s->ndone == s->naccts && s->cost_run == NULL &&
	    !s->finishing)
		scan_cost_start(s);
}

/* The scan ends before its plan: no account was (or will be) scanned. */
static void
scan_abandon(struct scan *s, enum scan_outcome outcome, const char *error)
{
	s->outcome = outcome;
	free(s->error);
	s->error = xstrdup(error);
	scan_schedule_finish(s);
}

/* --- the history row of a finished account --- */

static void
scan_account_commit(struct scan_account *a, enum result_status status)
{
	struct scan *s = a->scan;
	const struct result_account *r = a->res;
	struct store_account_row row;
	struct errbuf err;

	if (s->history_id == 0)
		return;
	memset(&row, 0, sizeof(row));
	row.account_id = a->id;
	row.status = result_status_name(status);
	row.error = r->error;
	row.started_at = a->started;
	row.finished_at = time(NULL);
	row.duration_ms = r->duration_ms;
	row.account_alias = r->alias;
	row.total_resources = r->total;
	row.compliant_resources = r->compliant;
	row.violations = r->violations;
	row.unreadable_resources = r->unreadable;
	row.assumed_role_arn = a->role_arn;
	row.cache_key = s->cache_key;
	row.from_cache = a->cache_scan_id != 0;
	row.cache_scan_id = a->cache_scan_id;
	if (store_account_commit(s->eng->store, s->history_id, &row, a->buf,
	    &err) == -1) {
		log_warnx("%s", err.msg);
		result_note(s->result, "history: %s", err.msg);
	}
}

static void
scan_account_final(struct scan_account *a, enum result_status status,
    const char *error, const char *alias)
{
	struct scan *s = a->scan;

	a->final = 1;
	a->job = NULL;
	result_finish_account(a->res, status, error, alias,
	    a->timing ? elapsed_ms(&a->t0) : 0);
	scan_account_commit(a, status);
	store_account_free(a->buf);
	a->buf = NULL;
	s->ndone++;
	log_debug("account %s: %s%s%s", a->id, result_status_name(status),
	    error != NULL ? ": " : "", error != NULL ? error : "");
	scan_progress(s);
	scan_maybe_finish(s);
}

static void
scan_account_free(struct scan_account *a)
{
	store_account_free(a->buf);
	free(a->role_arn);
	free(a->prefetch_error);
	free(a);
}

/* --- feeding an account: worker frames or a cached result --- */

/* A resource is counted once; the history gets what the result counts. */
static int
scan_feed_resource(struct scan_account *a, json_t *r, struct errbuf *err)
{
	int rc;

	if ((rc = result_add_resource(a->res, r, err)) != 0)
		return rc == 1 ? 0 : -1;
	if (a->buf != NULL)
		store_account_add_resource(a->buf, r);
	a->scan->resources++;
	return 0;
}

static void
scan_feed_region(struct scan_account *a, json_t *region)
{
	result_add_region(a->res, region);
	if (a->buf != NULL)
		store_account_add_region(a->buf, region);
}

/* The latest fresh result of this account for the same request. */
static int
scan_from_cache(struct scan_account *a)
{
	struct scan *s = a->scan;
	const struct config *cfg = s->eng->cfg;
	struct store_cached hit;
	struct errbuf err;
	json_t *item;
	size_t i;
	int rc;

	if (s->eng->store == NULL || cfg->cache_ttl_seconds == 0 || s->force)
		return 0;
	rc = store_cache_find(s->eng->store, a->id, s->cache_key,
	    s->started - cfg->cache_ttl_seconds, &hit, &err);
	if (rc == -1)
		log_warnx("result cache: %s", err.msg);
	if (rc != 1)
		return 0;
	json_array_foreach(hit.resources, i, item)
		if (scan_feed_resource(a, item, &err) == -1)
			log_warnx("account %s: cached resource: %s", a->id,
			    err.msg);
	json_array_foreach(hit.regions, i, item)
		scan_feed_region(a, item);
	result_set_cached(a->res, hit.finished_at);
	a->cache_scan_id = hit.scan_id;
	if (hit.assumed_role_arn != NULL)
		a->role_arn = xstrdup(hit.assumed_role_arn);
	log_debug("account %s: reusing the result of scan %lld "
	    "(CACHE_TTL_SECONDS=%d)", a->id, (long long)hit.scan_id,
	    cfg->cache_ttl_seconds);
	scan_account_final(a, RESULT_OK, NULL, hit.account_alias);
	store_cached_clear(&hit);
	return 1;
}

/* --- the job queue's callbacks --- */

/* The account behind a job; NULL (and done with it) for an orphan. */
static struct scan_account *
job_account(struct job *job)
{
	struct scan_account *a = job_arg(job);

	return a->scan != NULL && !a->final ? a : NULL;
}

/* Our own verdict on a running job: its data cannot be trusted. */
static void
scan_abort(struct scan_account *a, char *msg)
{
	a->aborted = 1;
	log_warnx("account %s: %s", a->id, msg);
	job_fail(a->job, msg);
	free(msg);
}

static void
scan_creds_done(const struct aws_creds *creds, const char *role_arn,
    const char *error, void *arg)
{
	struct scan_account *a;
	struct scan *s = ticket_take(arg, &a);

	if (s == NULL || a->final || a->job == NULL)
		return;
	if (role_arn != NULL && a->role_arn == NULL)
		a->role_arn = xstrdup(role_arn);
	if (creds != NULL)
		job_start(a->job, creds);
	else
		job_fail(a->job, error != NULL ? error : "no credentials");
}

/* Success needs no record: the STS cache holds the credentials. */
static void
scan_prefetch_done(const struct aws_creds *creds, const char *role_arn,
    const char *error, void *arg)
{
	struct scan_account *a;
	struct scan *s = ticket_take(arg, &a);

	(void)role_arn;
	if (s == NULL || creds != NULL || a->prefetch_error != NULL)
		return;
	a->prefetch_error = xstrdup(error != NULL ? error : "no credentials");
}

/*
 * Ask STS now for the credentials of the next accounts waiting for a
 * slot (at most as many as run at once), so that a slot that frees up
 * starts its worker at once instead of after an AssumeRole round trip.
 * The calls are the ones the accounts would make anyway: an answer is
 * cached, an AssumeRole still in flight is shared, a refusal is kept.
 */
static void
scan_prefetch(struct scan *s, const struct scan_account *from)
{
	struct scan_account *b;
	size_t i, asked = 0;
	int ahead = 0;

	for (i = 0; i < s->naccts &&
	    asked < (size_t)s->eng->cfg->max_concurrent_accounts; i++) {
		b = s->accts[i];
		if (b == from) {
			ahead = 1;
			continue;
		}
		if (!ahead || b->job == NULL || b->final || b->timing)
			continue;
		asked++;
		if (b->prefetched)
			continue;
		b->prefetched = 1;
		sts_credentials(s->eng->sts, b->id, 0, scan_prefetch_done,
		    ticket_new(s, b, 0));
	}
}

static void
scan_job_credentials(struct job *job, void *arg)
{
	struct scan_engine *eng = arg;
	struct scan_account *a = job_account(job);

	if (a == NULL) {
		job_fail(job, "scan cancelled");
		return;
	}
	a->job = job;
	a->started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &a->t0);
	a->timing = 1;
	scan_prefetch(a->scan, a);
	if (a->prefetch_error != NULL) {
		job_fail(job, a->prefetch_error);
		return;
	}
	sts_credentials(eng->sts, a->id, 0, scan_creds_done,
	    ticket_new(a->scan, a, 0));
}

static void
scan_job_batch(struct job *job, const json_t *body, void *arg)
{
	struct scan_account *a = job_account(job);
	struct errbuf err;
	json_t *r;
	size_t i;

	(void)arg;
	if (a == NULL || a->aborted)
		return;
	json_array_foreach(json_object_get(body, "resources"), i, r) {
		if (scan_feed_resource(a, r, &err) == -1) {
			scan_abort(a, xprintf("worker sent an invalid resource: "
			    "resources[%zu].%s", i, err.msg));
			return;
		}
	}
	scan_progress(a->scan);
}

static void
scan_job_region(struct job *job, const json_t *body, void *arg)
{
	struct scan_account *a = job_account(job);

	(void)arg;
	if (a == NULL || a->aborted)
		return;
	scan_feed_region(a, (json_t *)body);
	scan_progress(a->scan);
}

static void
scan_job_progress(struct job *job, const json_t *body, void *arg)
{
	struct scan_account *a = job_account(job);

	(void)body;
	(void)arg;
	if (a != NULL)
		scan_progress(a->scan);
}

static void
scan_refresh_done(const struct aws_creds *creds, const char *role_arn,
    const char *error, void *arg)
{
	struct scan_account *a;
	struct scan *s = ticket_take(arg, &a);

	(void)role_arn;
	if (s == NULL || a->final || a->job == NULL || a->aborted)
		return;
	if (creds != NULL)
		job_refresh(a->job, creds);
	else
		scan_abort(a, xprintf("credential refresh failed: %s",
		    error != NULL ? error : "no reason given"));
}

static void
scan_job_refresh(struct job *job, void *arg)
{
	struct scan_engine *eng = arg;
	struct scan_account *a = job_account(job);

	if (a == NULL)
		return;
	log_debug("account %s: the worker asks for fresh credentials", a->id);
	sts_credentials(eng->sts, a->id, 1, scan_refresh_done,
	    ticket_new(a->scan, a, 1));
}

static const enum result_status job_status_map[] = {
	[JOB_STATUS_OK] = RESULT_OK,
	[JOB_STATUS_FAILED] = RESULT_FAILED,
	[JOB_STATUS_TIMEOUT] = RESULT_TIMEOUT,
	[JOB_STATUS_CANCELLED] = RESULT_CANCELLED,
};

static void
scan_job_done(struct job *job, enum job_status status, const char *error,
    const json_t *account_done, void *arg)
{
	struct scan_engine *eng = arg;
	struct scan_account *a = job_arg(job);
	const char *alias;

	if (a->scan == NULL) {		/* its scan was freed */
		TAILQ_REMOVE(&eng->orphans, a, entry);
		scan_account_free(a);
		return;
	}
	if (a->final)
		return;
	alias = json_string_value(json_object_get(account_done,
	    "account_alias"));
	scan_account_final(a, job_status_map[status], error, alias);
}

static const struct job_callbacks scan_job_callbacks = {
	.need_credentials = scan_job_credentials,
	.resource_batch = scan_job_batch,
	.region_done = scan_job_region,
	.progress = scan_job_progress,
	.credentials_request = scan_job_refresh,
	.done = scan_job_done,
};

/* --- the plan --- */

static json_t *
scan_job_body(struct scan *s, const char *account_id)
{
	char job_id[64];
	json_t *body;

	snprintf(job_id, sizeof(job_id), "scan%lu-%s", s->seq, account_id);
	body = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:s, s:i, s:i}",
	    "proto", PROTO_VERSION, "job_id", job_id, "account_id", account_id,
	    "home_region", s->eng->cfg->aws_region,
	    "regions", s->regions != NULL ? json_deep_copy(s->regions) :
	    json_null(), "resource_types", json_deep_copy(s->types),
	    "policy", s->policy_text, "max_batch", SCAN_MAX_BATCH,
	    "refresh_margin_s", SCAN_REFRESH_MARGIN_S);
	if (body == NULL)
		fatalx("%s: json_pack failed", __func__);
	return body;
}

static void
scan_record_begin(struct scan *s)
{
	struct store_scan sc;
	struct errbuf err;
	json_t *ids;
	size_t i;

	if (s->eng->store == NULL || !s->store)
		return;
	ids = json_array();
	for (i = 0; i < s->nids; i++)
		json_array_append_new(ids, json_string(s->ids[i]));
	memset(&sc, 0, sizeof(sc));
	sc.started_at = s->started;
	sc.multi_account = s->multi;
	sc.accounts = ids;
	sc.regions = s->regions;
	sc.types = s->types;
	sc.policy_hash = s->policy_hash;
	if (store_scan_begin(s->eng->store, &sc, &s->history_id, &err) == -1) {
		log_warnx("%s", err.msg);
		result_note(s->result, "history: this scan is not recorded: "
		    "%s", err.msg);
		s->history_id = 0;
	}
	json_decref(ids);
}

static void
scan_add_account(struct scan *s, const char *id)
{
	struct scan_account *a = xcalloc(1, sizeof(*a));

	a->scan = s;
	a->started = s->started;
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->res = result_add_account(s->result, id);
	s->accts = xreallocarray(s->accts, s->naccts + 1, sizeof(*s->accts));
	s->accts[s->naccts++] = a;
}

/* One job per account that the cache cannot answer. */
static void
scan_plan(struct scan *s)
{
	struct scan_account *a;
	size_t i;

	scan_record_begin(s);
	for (i = 0; i < s->nids; i++)
		scan_add_account(s, s->ids[i]);
	s->planned = 1;
	for (i = 0; i < s->naccts; i++) {
		a = s->accts[i];
		if (s->history_id != 0)
			a->buf = store_account_new();
		if (s->cancelled)
			scan_account_final(a, RESULT_CANCELLED, "scan cancelled",
			    NULL);
		else if (!scan_from_cache(a))
			a->job = job_submit(s->eng->jobs, a->id,
			    scan_job_body(s, a->id), a);
	}
	log_debug("scan %lu: %zu account%s, regions %s, %zu type%s", s->seq,
	    s->naccts, s->naccts == 1 ? "" : "s",
	    s->regions != NULL ? "as requested" : "all enabled",
	    json_array_size(s->types), json_array_size(s->types) == 1 ? "" :
	    "s");
	scan_progress(s);
	scan_maybe_finish(s);
}

/* The accounts of a request once the local account is known. */
static void
scan_identity_done(const char *account_id, const char *arn,
    const char *error, void *arg)
{
	struct scan_account *unused;
	struct scan *s = ticket_take(arg, &unused);
	char *msg;
	size_t i;

	(void)arn;
	if (s == NULL)
		return;
	if (account_id == NULL) {
		scan_abandon(s, SCAN_FAILED, error);
		return;
	}
	if (s->nids == 0)	/* the array has room for one */
		s->ids[s->nids++] = xstrdup(account_id);
	for (i = 0; i < s->nids; i++) {
		if (strcmp(s->ids[i], account_id) == 0)
			continue;
		msg = xprintf("account %s is not the local account (%s): "
		    "scanning other accounts needs MULTI_ACCOUNT_ENABLED=true "
		    "and a role to assume in them (AWS_ASSUME_ROLE_NAME)",
		    s->ids[i], account_id);
		scan_abandon(s, SCAN_REFUSED, msg);
		free(msg);
		return;
	}
	scan_plan(s);
}

/* --- the request --- */

/* us-east-1, eu-central-2, us-gov-west-1: letters, dashes, a number. */
static int
scan_valid_region(const char *s)
{
	size_t i, n = strlen(s);
	int dash = 0;

	if (n < 4 || n >= CONFIG_REGION_SIZE || s[0] < 'a' || s[0] > 'z' ||
	    s[n - 1] < '0' || s[n - 1] > '9')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '-')
			dash = 1;
		else if ((s[i] < 'a' || s[i] > 'z') &&
		    (s[i] < '0' || s[i] > '9'))
			return 0;
	}
	return dash;
}

static int
scan_has(char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static int
scan_request_accounts(struct scan *s, const struct scan_request *req,
    struct errbuf *err)
{
	size_t i;

	s->ids = xcalloc(req->naccount_ids + 1, sizeof(*s->ids));
	for (i = 0; i < req->naccount_ids; i++) {
		if (!config_account_id_valid(req->account_ids[i]))
			return err_set(err, "account ID \"%.64s\": expected 12 "
			    "digits", req->account_ids[i]);
		if (!scan_has(s->ids, s->nids, req->account_ids[i]))
			s->ids[s->nids++] = xstrdup(req->account_ids[i]);
	}
	return 0;
}

static int
scan_allowed_region(const struct config *cfg, const char *r)
{
	size_t i;

	for (i = 0; i < cfg->nallowed_regions; i++)
		if (strcmp(cfg->allowed_regions[i], r) == 0)
			return 1;
	return cfg->nallowed_regions == 0;
}

/* Sorted and deduplicated, so equal requests share a cache key. */
static int
scan_request_regions(struct scan *s, const struct scan_request *req,
    struct errbuf *err)
{
	const struct config *cfg = s->eng->cfg;
	size_t i;

	if (req->nregions == 0 && cfg->nallowed_regions == 0)
		return 0;
	s->regions = json_array();
	for (i = 0; i < req->nregions; i++) {
		if (!scan_valid_region(req->regions[i]))
			return err_set(err, "region \"%.64s\": expected a region "
			    "name such as us-east-1", req->regions[i]);
		if (!scan_allowed_region(cfg, req->regions[i]))
			return err_set(err, "region %s is not in ALLOWED_REGIONS;"
			    " add it there or choose another",
			    req->regions[i]);
		json_array_append_new(s->regions,
		    json_string(req->regions[i]));
	}
	for (i = 0; req->nregions == 0 && i < cfg->nallowed_regions; i++)
		json_array_append_new(s->regions,
		    json_string(cfg->allowed_regions[i]));
	return 0;
}

static int
json_strcmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	    json_string_value(*(json_t *const *)b));
}

/* Sort a JSON array of strings in place and drop repeats. */
static void
json_sort_unique(json_t *a)
{
	size_t n = json_array_size(a), i, j = 0;
	json_t **v = xcalloc(n + 1, sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), json_strcmp);
	json_array_clear(a);
	for (i = 0; i < n; i++) {
		if (j == 0 || json_strcmp(&v[i], &v[j - 1]) != 0)
			v[j++] = v[i];
		else
			json_decref(v[i]);
	}
	for (i = 0; i < j; i++)
		json_array_append_new(a, v[i]);
	free(v);
}

static char *
scan_type_list(const struct policy *p)
{
	char *list = NULL, *next;
	size_t i;

	for (i = 0; i < nitems(scan_types); i++) {
		if (!policy_applies(p, scan_types[i]))
			continue;
		next = xprintf("%s%s%s", list != NULL ? list : "",
		    list != NULL ? ", " : "", scan_types[i]);
		free(list);
		list = next;
	}
	return list != NULL ? list : xstrdup("none");
}

static int
scan_known_type(const char *t)
{
	size_t i;

	for (i = 0; i < nitems(scan_types); i++)
		if (strcmp(scan_types[i], t) == 0)
			return 1;
	return 0;
}

/* Requested types must be ones the worker collects and the policy covers. */
static int
scan_request_types(struct scan *s, const struct scan_request *req,
    const struct policy *p, struct errbuf *err)
{
	int all = req->ntypes == 0 || (req->ntypes == 1 &&
	    strcmp(req->resource_types[0], "all") == 0);
	char *list;
	size_t i;

	s->types = json_array();
	for (i = 0; all && i < nitems(scan_types); i++)
		if (policy_applies(p, scan_types[i]))
			json_array_append_new(s->types,
			    json_string(scan_types[i]));
	for (i = 0; !all && i < req->ntypes; i++) {
		if (!scan_known_type(req->resource_types[i]) ||
		    !policy_applies(p, req->resource_types[i])) {
			list = scan_type_list(p);
			err_set(err, "resource type \"%.64s\": expected all or "
			    "types the policy covers: %s", req->resource_types[i],
			    list);
			free(list);
			return -1;
		}
		json_array_append_new(s->types,
		    json_string(req->resource_types[i]));
	}
	if (json_array_size(s->types) == 0)
		return err_set(err, "POLICY_PATH=%s: the policy applies to no "
		    "resource type tagwarden scans (%s, ...)",
		    s->eng->cfg->policy_path, scan_types[0]);
	json_sort_unique(s->types);
	return 0;
}

static char *
scan_read_file(const char *path, size_t max, size_t *len, struct errbuf *err)
{
	char *buf = xmalloc(max + 1);
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		err_set(err, "POLICY_PATH=%s: %s; point POLICY_PATH at the "
		    "tagging policy", path, strerror(errno));
		free(buf);
		return NULL;
	}
	*len = fread(buf, 1, max + 1, fp);
	fclose(fp);
	if (*len > max) {
		err_set(err, "POLICY_PATH=%s: larger than %zu bytes", path, max);
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* Read, validate and keep the policy's text (for JOB) and hash. */
static int
scan_request_policy(struct scan *s, const struct scan_request *req,
    struct errbuf *err)
{
	const char *path = s->eng->cfg->policy_path;
	struct policy_errors perr = { NULL, 0 };
	struct policy *p = NULL;
	size_t len;
	int rc;

	if ((s->policy_text = scan_read_file(path, POLICY_MAX_FILE, &len,
	    err)) == NULL)
		return -1;
	if (policy_load_buffer(s->policy_text, len, &p, &perr) == -1) {
		rc = err_set(err, "POLICY_PATH=%s: %s%s; tagwarden policy check "
		    "%s lists every problem", path, perr.count > 0 ?
		    perr.lines[0] : "invalid policy", perr.count > 1 ?
		    " (and more)" : "", path);
		policy_errors_free(&perr);
		return rc;
	}
	policy_errors_free(&perr);
	s->policy_hash = xstrdup(policy_hash(p));
	rc = scan_request_types(s, req, p, err);
	s->policy = p;		/* the cost phase reads it too */
	return rc;
}

static int
scan_request_cost(struct scan *s, const struct scan_request *req,
    struct errbuf *err)
{
	const char *metric = req->cost_metric != NULL ? req->cost_metric :
	    s->eng->cfg->cost_metric;

	s->no_cost = req->no_cost;
	if (cost_metric_check(metric, err) == -1 ||
	    cost_period(req->cost_start, req->cost_end, s->started,
	    &s->cost_period, err) == -1)
		return -1;
	s->cost_metric = xstrdup(metric);
	return 0;
}

/* What makes two account results interchangeable (besides the account). */
static void
scan_cache_key(struct scan *s)
{
	json_t *k;

	k = json_pack("{s:s, s:O?, s:O}", "policy", s->policy_hash,
	    "regions", s->regions, "types", s->types);
	if (s->regions != NULL)
		json_sort_unique(json_object_get(k, "regions"));
	s->cache_key = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(k);
	if (s->cache_key == NULL)
		fatalx("%s: out of memory", __func__);
}

static struct scan *
scan_new(struct scan_engine *eng, const struct scan_request *req,
    const struct scan_callbacks *cb, void *arg)
{
	struct scan *s = xcalloc(1, sizeof(*s));

	s->eng = eng;
	s->cb = *cb;
	s->arg = arg;
	s->seq = ++eng->seq;
	s->multi = req->naccount_ids > 0;
	s->force = req->force_refresh;
	s->store = req->store;
	s->started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->result = result_new(s->multi, s->started);
	s->outcome = SCAN_OK;
	if ((s->finish_ev = evtimer_new(eng->base, scan_finish_cb, s)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	return s;
}

struct scan *
scan_start(struct scan_engine *eng, const struct scan_request *req,
    const struct scan_callbacks *cb, void *arg, struct errbuf *err)
{
	struct scan *s = scan_new(eng, req, cb, arg);

	if (scan_request_accounts(s, req, err) == -1 ||
	    scan_request_regions(s, req, err) == -1 ||
	    scan_request_cost(s, req, err) == -1 ||
	    scan_request_policy(s, req, err) == -1) {
		scan_free(s);
		return NULL;
	}
	scan_cache_key(s);
	/*
	 * The local account is needed to scan it, and, with multi-account
	 * off, to refuse any other; STS answers from its cache after once.
	 */
	if (s->nids == 0 || !eng->cfg->multi_account_enabled)
		sts_caller_identity(eng->sts, scan_identity_done,
		    ticket_new(s, NULL, 0));
	else
		scan_plan(s);
	return s;
}

/* --- stopping --- */

static void
scan_detach_tickets(struct scan *s)
{
	struct scan_ticket *t;

	TAILQ_FOREACH(t, &s->eng->tickets, entry) {
		if (t->scan == s) {
			t->scan = NULL;
			t->acct = NULL;
		}
	}
}

void
scan_cancel(struct scan *s)
{
	struct scan_account *a;
	size_t i;

	if (s->cancelled || s->finishing)
		return;
	s->cancelled = 1;
	if (s->cost_run != NULL) {
		cost_run_free(s->cost_run);
		s->cost_run = NULL;
		result_set_cost(s->result, NULL, "scan cancelled");
		scan_schedule_finish(s);
		return;
	}
	if (!s->planned) {
		scan_detach_tickets(s);
		scan_abandon(s, SCAN_FAILED, "scan cancelled before it started");
		return;
	}
	for (i = 0; i < s->naccts; i++) {
		a = s->accts[i];
		if (a->final)
			continue;
		if (a->job != NULL)
			job_cancel(a->job);	/* done follows */
		else
			scan_account_final(a, RESULT_CANCELLED,
			    "scan cancelled", NULL);
	}
}

void
scan_free(struct scan *s)
{
	struct scan_account *a;
	size_t i;

	if (s == NULL)
		return;
	scan_detach_tickets(s);
	for (i = 0; i < s->naccts; i++) {
		a = s->accts[i];
		if (a->final || a->job == NULL) {
			scan_account_free(a);
			continue;
		}
		/* Its job still calls back: the engine frees it then. */
		a->scan = NULL;
		a->res = NULL;
		TAILQ_INSERT_TAIL(&s->eng->orphans, a, entry);
		job_cancel(a->job);
	}
	for (i = 0; i < s->nids; i++)
		free(s->ids[i]);
	free(s->ids);
	free(s->accts);
	json_decref(s->regions);
	json_decref(s->types);
	cost_run_free(s->cost_run);
	policy_free(s->policy);
	free(s->cost_metric);
	free(s->policy_text);
	free(s->policy_hash);
	free(s->cache_key);
	free(s->error);
	result_free(s->result);
	event_free(s->finish_ev);
	free(s);
}

const struct result *
scan_result(const struct scan *s)
{
	return s->result;
}

const struct cost_run *
scan_cost_run(const struct scan *s)
{
	return s->cost_run;
}

int64_t
scan_history_id(const struct scan *s)
{
	return s->history_id;
}

/* --- the engine --- */

struct scan_engine *
scan_engine_new(struct event_base *base, const struct config *cfg,
    const struct aws_creds *base_creds, struct store *store,
    const char *worker_path)
{
	struct scan_engine *eng = xcalloc(1, sizeof(*eng));
	struct job_queue_opts opts;

	eng->base = base;
	eng->cfg = cfg;
	eng->store = store;
	eng->sts = sts_new(base, cfg, base_creds);
	if (store != NULL)
		eng->cost = cost_new(base, cfg, eng->sts, store);
	eng->worker_env = spawn_env(NULL);
	TAILQ_INIT(&eng->tickets);
	TAILQ_INIT(&eng->orphans);
	memset(&opts, 0, sizeof(opts));
	opts.max_workers = cfg->max_concurrent_accounts;
	opts.timeout_s = cfg->account_scan_timeout_seconds;
	opts.worker_path = worker_path;
	opts.worker_env = eng->worker_env;
	eng->jobs = job_queue_new(base, &opts, &scan_job_callbacks, eng);
	return eng;
}

void
scan_engine_free(struct scan_engine *eng)
{
	struct scan_ticket *t;
	struct scan_account *a;

	if (eng == NULL)
		return;
	job_queue_free(eng->jobs);	/* orphans' done callbacks run here */
	sts_free(eng->sts);		/* drops the callbacks still owed */
	cost_free(eng->cost);		/* after sts: no callback can come */
	while ((t = TAILQ_FIRST(&eng->tickets)) != NULL) {
		TAILQ_REMOVE(&eng->tickets, t, entry);
		free(t);
	}
	while ((a = TAILQ_FIRST(&eng->orphans)) != NULL) {
		TAILQ_REMOVE(&eng->orphans, a, entry);
		scan_account_free(a);
	}
	spawn_env_free(eng->worker_env);
	free(eng);
}

/* --- where the worker is --- */

static int
scan_executable(const char *path)
{
	return access(path, X_OK) == 0;
}

char *
scan_worker_path(struct errbuf *err)
{
	const char *env = getenv(SCAN_WORKER_ENV);
	char self[PATH_MAX], *slash, *path;
	ssize_t n;

	if (env != NULL && *env != '\0') {
		if (scan_executable(env))
			return xstrdup(env);
		err_set(err, "%s=%s: not an executable file (%s); point it at "
		    "tagwarden-worker", SCAN_WORKER_ENV, env, strerror(errno));
		return NULL;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		path = xprintf("%s/../worker/tagwarden-worker", self);
		if (scan_executable(path))
			return path;
		free(path);
	}
	if (scan_executable(LIBEXECDIR "/tagwarden-worker"))
		return xstrdup(LIBEXECDIR "/tagwarden-worker");
	err_set(err, "tagwarden-worker not found beside this tagwarden nor in "
	    "%s; set %s to its path", LIBEXECDIR, SCAN_WORKER_ENV);
	return NULL;
}
