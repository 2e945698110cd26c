/*
 * The answer of a cost run: per account, the gap and its parts from the
 * cached Cost Explorer lines joined with the scan (resource method) or
 * read against the policy (tag method), in dollars rounded once from exact
 * nano-dollar sums (docs/cost.md), and the cost_attribution block.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "cost.h"
#include "cost-internal.h"
#include "costdb.h"
#include "errbuf.h"
#include "log.h"
#include "policy.h"
#include "result.h"
#include "xmalloc.h"

static json_t *
range_json(const struct cost_range *r)
{
	return json_pack("{s:s, s:s, s:i}", "start", r->start, "end", r->end,
	    "days", r->days);
}

/* Nano-dollars scaled by num / den, as dollars rounded once. */
static json_t *
scaled_usd(int64_t nanos, int num, int den)
{
	return result_usd(cost_cents(nanos, num, den));
}

/* {name: nanos} to {name: dollars}, scaled from the window to the period. */
static json_t *
usd_map(const json_t *nanos, int num, int den)
{
	json_t *o = json_object(), *v;
	const char *k;

	json_object_foreach((json_t *)nanos, k, v)
		json_object_set_new(o, k, scaled_usd(json_integer_value(v),
		    num, den));
	return o;
}

static void
block_common(const struct cost_run *run, struct cost_acct *a,
    const char *method, const char *bound, const struct cost_range *w)
{
	a->block = json_pack("{s:s, s:s, s:s, s:o, s:f, s:b}",
	    "account_id", a->id, "method", method, "bound", bound,
	    "window", range_json(w), "scale", w->days > 0 ?
	    (double)run->period.days / w->days : 1.0, "from_cache",
	    !a->fetched);
	if (a->block == NULL)
		fatalx("%s: json_pack failed", __func__);
}

static void
report_resource(struct cost_run *run, struct cost_acct *a)
{
	int num = run->period.days, den = run->window.days;
	struct costdb_gap g;
	struct errbuf err;
	json_t *parts;

	if (costdb_resource_gap(cost_store(run), run->scan_id, a->id,
	    a->resource_fetch, &g, &err) == -1) {
		a->error = xprintf("cost join failed: %s", err.msg);
		return;
	}
	block_common(run, a, "resource", num == den ? "exact" : "estimate",
	    &run->window);
	a->gap_cents = cost_cents(g.violating + g.unreadable, num, den);
	a->has_gap = 1;
	parts = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "gap", result_usd(a->gap_cents),
	    "violating_cost", scaled_usd(g.violating, num, den),
	    "unreadable_cost", scaled_usd(g.unreadable, num, den),
	    "total_cost", scaled_usd(g.total, num, den),
	    "unattributed_cost", scaled_usd(g.total - g.matched, num, den),
	    "by_region", usd_map(g.by_region, num, den),
	    "by_resource_type", usd_map(g.by_type, num, den),
	    "by_tag_key", usd_map(g.by_tag_key, num, den));
	json_object_update(a->block, parts);
	json_decref(parts);
	costdb_gap_clear(&g);
}

/* Untagged and mis-tagged spend of one tag key. */
struct tag_sums {
	const struct policy	*policy;
	const char		*key;
	int64_t			 untagged, mis_tagged;
};

static int
tag_line(const char *value, int64_t nanos, void *arg)
{
	struct tag_sums *t = arg;

	if (*value == '\0')
		t->untagged += nanos;
	else if (policy_value_rejected(t->policy, t->key, value) == 1)
		t->mis_tagged += nanos;
	return 0;
}

static void
report_tag(struct cost_run *run, struct cost_acct *a)
{
	json_t *keys = json_object();
	struct tag_sums t;
	struct errbuf err;
	long long gap;
	size_t k;

	for (k = 0; k < run->nkeys; k++) {
		memset(&t, 0, sizeof(t));
		t.policy = run->policy;
		t.key = run->keys[k];
		if (costdb_lines(cost_store(run), a->tag_fetch[k], tag_line, &t,
		    &err) == -1) {
			a->error = xprintf("cost lines unreadable: %s", err.msg);
			json_decref(keys);
			return;
		}
		gap = cost_cents(t.untagged + t.mis_tagged, 1, 1);
		json_object_set_new(keys, t.key, json_pack("{s:o, s:o, s:o}",
		    "untagged", scaled_usd(t.untagged, 1, 1),
		    "mis_tagged", scaled_usd(t.mis_tagged, 1, 1),
		    "gap", result_usd(gap)));
		if (!a->has_gap || gap > a->gap_cents)
			a->gap_cents = gap;
		a->has_gap = 1;
	}
	block_common(run, a, "tag", "lower_bound", &run->period);
	a->has_gap = 1;		/* with no required key, nothing is missing */
	json_object_set_new(a->block, "gap", result_usd(a->gap_cents));
	json_object_set_new(a->block, "tag_keys", keys);
}

static void
report_error(struct cost_run *run, struct cost_acct *a)
{
	json_decref(a->block);
	a->has_gap = 0;
	a->block = json_pack("{s:s, s:s, s:n, s:s}", "account_id", a->id,
	    "method", a->method == COST_METHOD_TAG ? "tag" : "resource",
	    "gap", "error", a->error);
	(void)run;
}

void
cost_report(struct cost_run *run)
{
	struct cost_acct *a;
	size_t i;

	for (i = 0; i < run->naccts; i++) {
		a = &run->accts[i];
		if (a->error == NULL && a->method == COST_METHOD_RESOURCE)
			report_resource(run, a);
		else if (a->error == NULL)
			report_tag(run, a);
		if (a->error != NULL)
			report_error(run, a);
		else
			json_object_set_new(a->block, "error", json_null());
	}
}

/* --- what the scan and the tools read --- */

static const struct cost_acct *
run_acct(const struct cost_run *run, const char *id)
{
	size_t i;

	for (i = 0; i < run->naccts; i++)
		if (strcmp(run->accts[i].id, id) == 0)
			return &run->accts[i];
	return NULL;
}

json_t *
cost_run_json(const struct cost_run *run)
{
	const struct config *cfg = cost_run_config(run);
	json_t *accts = json_array(), *o;
	size_t i;

	for (i = 0; i < run->naccts; i++)
		json_array_append(accts, run->accts[i].block);
	o = json_pack("{s:o, s:s, s:s, s:s, s:I, s:o, s:o}",
	    "period", range_json(&run->period), "metric", run->metric,
	    "currency", "USD", "caller", cfg->cost_explorer_account_id !=
	    NULL ? cfg->cost_explorer_account_id : "each account",
	    "ce_requests", (json_int_t)run->requests,
	    "ce_request_cost_usd", result_usd((long long)run->requests *
	    CE_REQUEST_PRICE_CENTS), "accounts", accts);
	if (o == NULL)
		fatalx("%s: json_pack failed", __func__);
	return o;
}

int
cost_run_gap(const struct cost_run *run, const char *id, long long *cents)
{
	const struct cost_acct *a = run_acct(run, id);

	if (a == NULL || !a->has_gap)
		return 0;
	*cents = a->gap_cents;
	return 1;
}

const char *
cost_run_error(const struct cost_run *run, const char *id)
{
	const struct cost_acct *a = run_acct(run, id);

	return a != NULL ? a->error : NULL;
}

int
cost_run_resource_cost(const struct cost_run *run, const char *id,
    const char *type, const char *resource_id, const char *arn,
    long long *cents, struct errbuf *err)
{
	const struct cost_acct *a = run_acct(run, id);
	int64_t nanos;

	if (a == NULL || a->error != NULL || a->method != COST_METHOD_RESOURCE ||
	    a->resource_fetch == 0)
		return 0;
	if (costdb_resource_cost(cost_store(run), a->resource_fetch,
	    costdb_ce_resource_id(type, resource_id, arn), &nanos, err) == -1)
		return -1;
	*cents = cost_cents(nanos, run->period.days, run->window.days);
	return 1;
}
