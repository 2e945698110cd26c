/*
 * The cost phase of a scan (docs/cost.md): once every account is final and
 * its rows are in the history, ask Cost Explorer (or today's cache) what the
 * scanned accounts spent, resource by resource when AWS keeps that data and
 * by cost allocation tag otherwise, and join it with the scan's verdicts
 * into the cost attribution gap of each account.
 */
#ifndef COST_H
#define COST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "ce.h"

struct config;
struct errbuf;
struct event_base;
struct policy;
struct sts;
struct store;
struct cost;
struct cost_run;

/* Resource-level data reaches this many full days back, no further. */
#define COST_WINDOW_DAYS	14
/* The default period: this many full UTC days before today. */
#define COST_PERIOD_DAYS	30
/* Cost Explorer queries in flight at once (it throttles hard). */
#define COST_MAX_INFLIGHT	5

/* Dates as YYYY-MM-DD, end exclusive, days = end - start. */
struct cost_range {
	char	start[CE_DATE_SIZE];
	char	end[CE_DATE_SIZE];
	int	days;
};

/*
 * The period a request asks for: start/end NULL mean the default (the last
 * COST_PERIOD_DAYS full UTC days before now's day). -1 with err naming
 * time_period.start/end, the value and the rule (real date, start before
 * end, end not after today).
 */
int	cost_period(const char *start, const char *end, time_t now,
	    struct cost_range *, struct errbuf *);
/* "UnblendedCost" or "AmortizedCost": 0, else -1 with err. */
int	cost_metric_check(const char *, struct errbuf *);

/* Long-lived, beside the scan engine: the HTTP client and transfers. */
struct cost *cost_new(struct event_base *, const struct config *,
	    struct sts *, struct store *);
void	cost_free(struct cost *);

struct cost_request {
	int64_t			 scan_id;	/* the scan's rows to join */
	const char *const	*accounts;	/* scanned successfully */
	size_t			 naccounts;
	const struct policy	*policy;	/* borrowed until done */
	struct cost_range	 period;
	const char		*metric;
	time_t			 now;
};

/*
 * Start; done is called once from the event loop (never before
 * cost_run_start returns) unless the run is freed first. Copies what it
 * keeps of the request, except the policy.
 */
struct cost_run *cost_run_start(struct cost *, const struct cost_request *,
	    void (*done)(struct cost_run *, void *arg), void *arg);
void	cost_run_free(struct cost_run *);

/* After done. */

/* The result's cost_attribution block (a new reference). */
json_t	*cost_run_json(const struct cost_run *);
/* The account's gap in cents: 1 with *cents, 0 when it has none. */
int	cost_run_gap(const struct cost_run *, const char *account_id,
	    long long *cents);
/*
 * A scanned resource's cost over the period in cents (its window cost
 * scaled): 1 with *cents, 0 when unknown (tag method, no data); -1 on a
 * database error.
 */
int	cost_run_resource_cost(const struct cost_run *, const char *account_id,
	    const char *resource_type, const char *resource_id,
	    const char *arn, long long *cents, struct errbuf *);
/* Why the account has no gap (a sentence), or NULL when it has one. */
const char *cost_run_error(const struct cost_run *, const char *account_id);

/* Pure pieces, exposed for the unit tests. */

/* round_half_away(nanos x num / den / 1e7): cents. */
long long cost_cents(int64_t nanos, int num, int den);
/* The resource window of a period: clipped to the last 14 full days. */
int	cost_window(const struct cost_range *period, time_t now,
	    struct cost_range *window);

#endif
