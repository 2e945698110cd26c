/*
 * Cost Explorer (JSON 1.1, AWSInsightsIndexService, global): request
 * validation and pages of GetCostAndUsage and GetCostAndUsageWithResources.
 * The numbers come from ce-data.c, filters from ce-filter.c. A page holds
 * CE_PAGE_SIZE (group, period) items, so small fixtures already page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "ce.h"
#include "errbuf.h"
#include "xmalloc.h"

#define CE_PAGE_SIZE		20
#define CE_RESOURCE_DAYS	14	/* resource-level data kept by AWS */
#define CE_HASH_SHOWN		16	/* hex digits of the query in a token */

static const struct {
	const char	*name;
	int		 usage;		/* a quantity, not dollars */
} ce_metrics[] = {
	{ "AmortizedCost", 0 }, { "BlendedCost", 0 },
	{ "NetAmortizedCost", 0 }, { "NetUnblendedCost", 0 },
	{ "NormalizedUsageAmount", 1 }, { "UnblendedCost", 0 },
	{ "UsageQuantity", 1 },
};

#define CE_NMETRICS	(sizeof(ce_metrics) / sizeof(ce_metrics[0]))

static const char *
ce_null_msg(const char *member)
{
	static char msg[160];

	snprintf(msg, sizeof(msg), "1 validation error detected: Value null at "
	    "'%s' failed to satisfy constraint: Member must not be null",
	    member);
	return msg;
}

static void
ce_day_text(long day, char out[16])
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/* YYYY-MM-DD of a real calendar day (strptime lets 02-30 through). */
static int
ce_day(const char *s, long *day)
{
	char back[16];

	if (s == NULL || isotime_parse_day(s, day) == -1)
		return -1;
	ce_day_text(*day, back);
	return strcmp(back, s) == 0 ? 0 : -1;
}

static long
ce_month_start(long day, int next)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_mon += next;
	return (long)(timegm(&tm) / 86400);
}

static int
ce_parse_period(const json_t *in, struct ce_query *q, struct errbuf *err)
{
	json_t *tp = json_object_get(in, "TimePeriod");
	const char *start = json_string_value(json_object_get(tp, "Start"));
	const char *end = json_string_value(json_object_get(tp, "End"));

	if (tp == NULL || start == NULL || end == NULL)
		return err_set(err, "%s", ce_null_msg(tp == NULL ?
		    "timePeriod" : start == NULL ? "timePeriod.start" :
		    "timePeriod.end"));
	if (ce_day(start, &q->start) == -1 || ce_day(end, &q->end) == -1)
		return err_set(err, "TimePeriod: %s: expected a date as "
		    "yyyy-MM-dd (times of day need HOURLY granularity)",
		    ce_day(start, &q->start) == -1 ? start : end);
	if (q->start >= q->end)
		return err_set(err, "Start date (and hour) should be before "
		    "end date (and hour)");
	if (q->end > ce_month_start(q->today, 1))
		return err_set(err, "end date past the beginning of next "
		    "month");
	return 0;
}

static int
ce_parse_granularity(const json_t *in, struct ce_query *q, struct errbuf *err)
{
	const char *g = json_string_value(json_object_get(in, "Granularity"));

	if (g == NULL)
		return err_set(err, "%s", ce_null_msg("granularity"));
	if (strcmp(g, "HOURLY") == 0)
		return err_set(err, "Hourly granularity is not enabled for "
		    "this account; enable hourly data in the Cost Explorer "
		    "settings or use DAILY or MONTHLY");
	if (strcmp(g, "DAILY") != 0 && strcmp(g, "MONTHLY") != 0)
		return err_set(err, "1 validation error detected: Value '%s' "
		    "at 'granularity' failed to satisfy constraint: Member "
		    "must satisfy enum value set: [DAILY, MONTHLY, HOURLY]", g);
	q->monthly = strcmp(g, "MONTHLY") == 0;
	return 0;
}

static int
ce_parse_metrics(const json_t *in, struct ce_query *q, struct errbuf *err)
{
	json_t *list = json_object_get(in, "Metrics"), *v;
	const char *s;
	size_t i, j;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return err_set(err, "%s", ce_null_msg("metrics"));
	if (json_array_size(list) > CE_MAX_METRICS)
		return err_set(err, "Metrics: at most %d metrics",
		    CE_MAX_METRICS);
	json_array_foreach(list, i, v) {
		s = json_string_value(v);
		for (j = 0; s != NULL && j < CE_NMETRICS; j++)
			if (strcmp(ce_metrics[j].name, s) == 0)
				break;
		if (s == NULL || j == CE_NMETRICS)
			return err_set(err, "Metrics: %s is not a valid "
			    "metric. Valid values are AmortizedCost, "
			    "BlendedCost, NetAmortizedCost, NetUnblendedCost, "
			    "NormalizedUsageAmount, UnblendedCost, "
			    "UsageQuantity", s != NULL ? s : "(not a string)");
		q->metrics[q->nmetrics++] = ce_metrics[j].name;
	}
	return 0;
}

static int
ce_parse_group(const json_t *v, struct ce_query *q, struct errbuf *err)
{
	const char *type = json_string_value(json_object_get(v, "Type"));
	const char *key = json_string_value(json_object_get(v, "Key"));
	struct ce_groupdef *gd = &q->groups[q->ngroups];
	size_t i;

	if (type == NULL || key == NULL || key[0] == '\0')
		return err_set(err, "GroupBy: each entry needs a Type "
		    "(DIMENSION or TAG) and a Key");
	for (i = 0; i < q->ngroups; i++)
		if (strcmp(q->groups[i].key, key) == 0)
			return err_set(err, "GroupBy: %s appears twice", key);
	gd->key = key;
	gd->dim = NULL;
	if (strcmp(type, "DIMENSION") == 0) {
		if ((gd->dim = ce_filter_dim(key, 1, q->with_resources,
		    err)) == NULL)
			return -1;
	} else if (strcmp(type, "TAG") != 0)
		return err_set(err, "GroupBy: Type %s: expected DIMENSION or "
		    "TAG (the emulator defines no cost categories)", type);
	q->ngroups++;
	return 0;
}

static int
ce_parse_groups(const json_t *in, struct ce_query *q, struct errbuf *err)
{
	json_t *list = json_object_get(in, "GroupBy"), *v;
	size_t i;

	if (list == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > CE_MAX_GROUPS)
		return err_set(err, "GroupBy: you can group by at most two "
		    "dimensions or tags");
	json_array_foreach(list, i, v)
		if (ce_parse_group(v, q, err) == -1)
			return -1;
	return 0;
}

static int
ce_parse_filter(const json_t *in, struct ce_query *q, struct errbuf *err)
{
	json_t *f = json_object_get(in, "Filter");

	if (f == NULL)
		return q->with_resources ? err_set(err, "%s",
		    ce_null_msg("filter")) : 0;
	return ce_filter_parse(f, q->with_resources, &q->filter, err);
}

/* What only GetCostAndUsageWithResources asks of a request. */
static int
ce_parse_resources(struct ce_query *q, struct errbuf *err)
{
	size_t i;
	int grouped = 0;

	if (!q->with_resources)
		return 0;
	if (q->start < q->today - CE_RESOURCE_DAYS)
		return err_set(err, "start date is too old for hourly, the max "
		    "supported days for hourly granularity is 14 days");
	for (i = 0; i < q->ngroups; i++)
		if (q->groups[i].dim != NULL &&
		    strcmp(q->groups[i].key, "RESOURCE_ID") == 0)
			grouped = 1;
	if (!grouped && !ce_filter_mentions(q->filter, "RESOURCE_ID"))
		return err_set(err, "GetCostAndUsageWithResources requires "
		    "that you either group by or filter by RESOURCE_ID");
	return 0;
}

static int
ce_parse(struct emu_req *req, struct ce_query *q, struct errbuf *err)
{
	memset(q, 0, sizeof(*q));
	q->with_resources = strcmp(req->op->name,
	    "GetCostAndUsageWithResources") == 0;
	q->today = (long)(time(NULL) / 86400);
	q->caller = req->account;
	q->fx = req->srv->fx;
	if (ce_parse_period(req->json, q, err) == -1 ||
	    ce_parse_granularity(req->json, q, err) == -1 ||
	    ce_parse_metrics(req->json, q, err) == -1 ||
	    ce_parse_groups(req->json, q, err) == -1 ||
	    ce_parse_filter(req->json, q, err) == -1 ||
	    ce_parse_resources(q, err) == -1)
		return -1;
	return 0;
}

/* SHA-256 of caller, operation, day and request without the token. */
static void
ce_query_key(struct emu_req *req, const struct ce_query *q, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	json_t *copy = json_copy(req->json);
	unsigned int mdlen = 0, i;
	char *text, *all;

	json_object_del(copy, "NextPageToken");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	all = xprintf("%s\n%s\n%ld\n%s", q->caller->id, req->op->name,
	    q->today, text != NULL ? text : "");
	if (EVP_Digest(all, strlen(all), md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	for (i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * i] = '\0';
	free(all);
	free(text);
	json_decref(copy);
}

/*
 * NextPageToken: the core's page token (bound to operation, account and
 * region), '.', and the start of the query's hash. A token that does not
 * decode is invalid; one that does, used with other parameters, is a
 * changed request, as AWS tells the two apart.
 */
static int
ce_page_start(struct emu_req *req, const char *key, struct page *pg)
{
	const char *tok = json_string_value(json_object_get(req->json,
	    "NextPageToken")), *dot = NULL;
	struct errbuf err;
	char part[512];

	if (tok != NULL && tok[0] != '\0') {
		if ((dot = strrchr(tok, '.')) == NULL ||
		    (size_t)(dot - tok) >= sizeof(part) ||
		    strlen(dot + 1) != CE_HASH_SHOWN)
			goto invalid;
		snprintf(part, sizeof(part), "%.*s", (int)(dot - tok), tok);
		tok = part;
	}
	if (page_start(req, tok, CE_PAGE_SIZE, pg, &err) == -1)
		goto invalid;
	if (dot == NULL || strncmp(dot + 1, key, CE_HASH_SHOWN) == 0)
		return 0;
	reply_error(req, 400, "RequestChangedException", "Your request "
	    "parameters changed between pages. Try again with the old "
	    "parameters or without a pagination token.");
	return -1;
invalid:
	reply_error(req, 400, "InvalidNextTokenException", "The pagination "
	    "token is invalid. Try again without a pagination token.");
	return -1;
}

static json_t *
ce_metric_values(const struct ce_query *q, const struct ce_group *g,
    size_t bucket)
{
	json_t *m = json_object();
	char amount[40];
	size_t i, j;

	for (i = 0; i < q->nmetrics; i++) {
		for (j = 0; strcmp(ce_metrics[j].name, q->metrics[i]) != 0; j++)
			;
		if (ce_metrics[j].usage)
			snprintf(amount, sizeof(amount), "%lld",
			    (long long)g->usage[bucket]);
		else
			ce_data_amount(g->micros[bucket], amount,
			    sizeof(amount));
		json_object_set_new(m, q->metrics[i], json_pack("{s:s, s:s}",
		    "Amount", amount, "Unit", ce_metrics[j].usage ? "N/A" :
		    "USD"));
	}
	return m;
}

/* Estimated: the bucket reaches into the month not yet billed. */
static json_t *
ce_period(const struct ce_query *q, const struct ce_result *res, size_t b)
{
	char start[16], end[16];

	ce_day_text(res->starts[b], start);
	ce_day_text(res->starts[b + 1], end);
	return json_pack("{s:{s:s, s:s}, s:{}, s:[], s:b}", "TimePeriod",
	    "Start", start, "End", end, "Total", "Groups", "Estimated",
	    res->starts[b + 1] > ce_month_start(q->today, 0));
}

static json_t *
ce_group_json(const struct ce_query *q, const struct ce_group *g,
    size_t bucket, json_t *names)
{
	json_t *keys = json_array();
	const struct emu_account *a;
	size_t i;

	for (i = 0; i < q->ngroups; i++) {
		json_array_append_new(keys, json_string(g->keys[i]));
		if (q->groups[i].dim != NULL &&
		    strcmp(q->groups[i].key, "LINKED_ACCOUNT") == 0 &&
		    (a = fixture_account(q->fx, g->keys[i])) != NULL)
			json_object_set_new(names, a->id, json_string(a->name));
	}
	return json_pack("{s:o, s:o}", "Keys", keys, "Metrics",
	    ce_metric_values(q, g, bucket));
}

struct ce_page {
	json_t		*results;	/* ResultsByTime */
	json_t		*names;		/* LINKED_ACCOUNT id -> name */
	json_t		*cur;		/* the period being filled */
	size_t		 bucket;
};

/* A period split across pages shows on each with its part of the groups. */
static void
ce_page_item(const struct ce_query *q, const struct ce_result *res,
    const struct ce_entry *e, struct ce_page *p)
{
	if (p->cur == NULL || e->bucket != p->bucket) {
		p->cur = ce_period(q, res, e->bucket);
		p->bucket = e->bucket;
		json_array_append_new(p->results, p->cur);
	}
	if (q->ngroups == 0)
		json_object_set_new(p->cur, "Total", ce_metric_values(q,
		    &res->groups[0], e->bucket));
	else if (e->group >= 0)
		json_array_append_new(json_object_get(p->cur, "Groups"),
		    ce_group_json(q, &res->groups[e->group], e->bucket,
		    p->names));
}

static json_t *
ce_body(const struct ce_query *q, const struct ce_page *p, const char *token)
{
	json_t *body, *attrs, *defs, *v;
	const char *id;
	size_t i;

	body = json_pack("{s:O, s:[]}", "ResultsByTime", p->results,
	    "DimensionValueAttributes");
	attrs = json_object_get(body, "DimensionValueAttributes");
	json_object_foreach(p->names, id, v)
		json_array_append_new(attrs, json_pack("{s:s, s:{s:O}}",
		    "Value", id, "Attributes", "description", v));
	if (q->ngroups > 0) {
		defs = json_array();
		for (i = 0; i < q->ngroups; i++)
			json_array_append_new(defs, json_pack("{s:s, s:s}",
			    "Type", q->groups[i].dim != NULL ? "DIMENSION" :
			    "TAG", "Key", q->groups[i].key));
		json_object_set_new(body, "GroupDefinitions", defs);
	}
	if (token[0] != '\0')
		json_object_set_new(body, "NextPageToken", json_string(token));
	return body;
}

static void
ce_reply(struct emu_req *req, const struct ce_query *q,
    const struct ce_result *res, struct page *pg, const char *key)
{
	struct ce_page p;
	char token[600];
	size_t i;

	memset(&p, 0, sizeof(p));
	p.results = json_array();
	p.names = json_object();
	for (i = pg->resume; i < res->nentries && pg->taken < pg->limit;
	    i++, pg->taken++)
		ce_page_item(q, res, &res->entries[i], &p);
	page_finish(req, pg, i, res->nentries, token, sizeof(token) -
	    CE_HASH_SHOWN - 2);
	if (token[0] != '\0')
		snprintf(token + strlen(token), CE_HASH_SHOWN + 2, ".%.*s",
		    CE_HASH_SHOWN, key);
	reply_json(req, ce_body(q, &p, token));
	json_decref(p.results);
	json_decref(p.names);
}

/*
 * AWS does not document the text of this error; the emulator's names the
 * setting to change. The flag is the caller's (the payer's for an
 * organization): fixture accounts[].cost_resource_data.
 */
static int
ce_resource_data_enabled(struct emu_req *req, const struct ce_query *q)
{
	if (!q->with_resources || q->caller->ce_resource_data)
		return 1;
	reply_error(req, 400, "DataUnavailableException", "Resource-level data "
	    "is not enabled for account %s. Enable hourly and resource-level "
	    "data in the Cost Explorer settings (Preferences), then allow up "
	    "to 48 hours.", q->caller->id);
	return 0;
}

static void
ce_get_cost_and_usage(struct emu_req *req)
{
	struct ce_result *res;
	struct ce_query q;
	struct errbuf err;
	struct page pg;
	char key[65];

	if (ce_parse(req, &q, &err) == -1)
		reply_error(req, 400, "ValidationException", "%s", err.msg);
	else if (ce_resource_data_enabled(req, &q)) {
		ce_query_key(req, &q, key);
		if (ce_page_start(req, key, &pg) == 0) {
			res = ce_data_result(req->srv->fx, &q, key);
			ce_reply(req, &q, res, &pg, key);
		}
	}
	ce_filter_free(q.filter);
}

const struct emu_op svc_ce_ops[] = {
	{ "GetCostAndUsage", 0, ce_get_cost_and_usage },
	{ "GetCostAndUsageWithResources", 0, ce_get_cost_and_usage },
	{ NULL, 0, NULL },
};
