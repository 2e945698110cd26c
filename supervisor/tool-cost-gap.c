/*
 * get_cost_attribution_gap: scan (reusing fresh results), run the cost
 * phase over the requested period and answer what the non-compliant
 * resources cost, grouped by account, region, resource type or violated
 * tag key. The groups are sums of the per-account figures of the scan's
 * cost_attribution block (docs/cost.md), so both always agree.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "errbuf.h"
#include "result.h"
#include "scan.h"
#include "tools.h"
#include "xmalloc.h"

static const char gap_input[] = "{"
    "\"type\": \"object\","
    "\"properties\": {"
    " \"resource_types\": {\"type\": \"array\", \"minItems\": 1,"
    "  \"maxItems\": 7, \"uniqueItems\": true, \"default\": [\"all\"],"
    "  \"description\": \"Resource types to scan; [\\\"all\\\"] (the "
    "default) means every type the policy applies to.\","
    "  \"items\": {\"type\": \"string\", \"enum\": [\"all\", "
    "\"ec2:instance\", \"ec2:volume\", \"s3:bucket\", \"rds:db\", "
    "\"lambda:function\", \"ecs:cluster\"]}},"
    " \"account_ids\": {\"type\": \"array\", \"minItems\": 1,"
    "  \"maxItems\": 1000, \"uniqueItems\": true,"
    "  \"description\": \"AWS accounts (needs MULTI_ACCOUNT_ENABLED=true); "
    "default: the local account.\","
    "  \"items\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\"}},"
    " \"time_period\": {\"type\": \"object\", \"additionalProperties\": "
    "false, \"description\": \"Cost period, UTC dates, end exclusive; "
    "default: the last 30 full days.\","
    "  \"properties\": {"
    "   \"start\": {\"type\": \"string\","
    "    \"pattern\": \"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"},"
    "   \"end\": {\"type\": \"string\","
    "    \"pattern\": \"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"}}},"
    " \"group_by\": {\"type\": \"string\", \"default\": \"account\","
    "  \"enum\": [\"account\", \"region\", \"resource_type\", \"tag_key\"]},"
    " \"metric\": {\"type\": \"string\", \"default\": \"UnblendedCost\","
    "  \"enum\": [\"UnblendedCost\", \"AmortizedCost\"]}"
    "},"
    "\"additionalProperties\": false"
    "}";

static const char gap_output[] = "{"
    "\"type\": \"object\","
    "\"required\": [\"total_gap\", \"group_by\", \"groups\", \"period\","
    " \"metric\", \"ce_requests\", \"ce_request_cost_usd\", \"accounts\","
    " \"scan_id\", \"scan_timestamp\", \"data_quality\"],"
    "\"properties\": {"
    " \"total_gap\": {\"type\": [\"number\", \"null\"]},"
    " \"group_by\": {\"type\": \"string\"},"
    " \"groups\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
    "  \"required\": [\"key\", \"gap\"], \"properties\": {"
    "   \"key\": {\"type\": \"string\"}, \"gap\": {\"type\": \"number\"}}}},"
    " \"period\": {\"type\": \"object\"},"
    " \"metric\": {\"type\": \"string\"},"
    " \"ce_requests\": {\"type\": \"integer\", \"minimum\": 0},"
    " \"ce_request_cost_usd\": {\"type\": \"number\"},"
    " \"accounts\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}},"
    " \"scan_id\": {\"type\": [\"integer\", \"null\"]},"
    " \"scan_timestamp\": {\"type\": \"string\"},"
    " \"data_quality\": {\"type\": \"object\"}"
    "}}";

/* Group key of a tag-method account under region or resource_type. */
#define GAP_UNKNOWN	"unknown"

/* Dollars with two decimals back to exact cents. */
static long long
cents_of(const json_t *usd)
{
	double x = json_number_value(usd) * 100.0;

	return (long long)(x < 0 ? x - 0.5 : x + 0.5);
}

static void
group_add(json_t *sums, const char *key, long long cents)
{
	json_t *v = json_object_get(sums, key);

	json_object_set_new(sums, key, json_integer(cents +
	    (v != NULL ? json_integer_value(v) : 0)));
}

/* Every entry of a {key: dollars} map, or of tag_keys' per-key gaps. */
static void
group_map(json_t *sums, const json_t *map, const char *field)
{
	const json_t *v;
	const char *k;

	json_object_foreach((json_t *)map, k, v)
		group_add(sums, k, cents_of(field != NULL ?
		    json_object_get(v, field) : v));
}

/* What one account adds to the groups of group_by. */
static void
group_account(json_t *sums, const json_t *a, const char *group_by)
{
	static const struct {
		const char *group_by, *resource_map, *tag_map, *tag_field;
	} rows[] = {
		{ "region", "by_region", NULL, NULL },
		{ "resource_type", "by_resource_type", NULL, NULL },
		{ "tag_key", "by_tag_key", "tag_keys", "gap" },
	};
	int resource = strcmp(json_string_value(json_object_get(a,
	    "method")), "resource") == 0;
	size_t i;

	if (strcmp(group_by, "account") == 0) {
		group_add(sums, json_string_value(json_object_get(a,
		    "account_id")), cents_of(json_object_get(a, "gap")));
		return;
	}
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strcmp(rows[i].group_by, group_by) != 0)
			continue;
		if (resource)
			group_map(sums, json_object_get(a,
			    rows[i].resource_map), NULL);
		else if (rows[i].tag_map != NULL)
			group_map(sums, json_object_get(a, rows[i].tag_map),
			    rows[i].tag_field);
		else
			group_add(sums, GAP_UNKNOWN, cents_of(
			    json_object_get(a, "gap")));
	}
}

static int
group_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	double gx = json_number_value(json_object_get(x, "gap"));
	double gy = json_number_value(json_object_get(y, "gap"));

	if (gx != gy)
		return gx > gy ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "key")),
	    json_string_value(json_object_get(y, "key")));
}

/* Largest gap first, then by key. */
static json_t *
groups_json(const json_t *accounts, const char *group_by)
{
	json_t *sums = json_object(), *out = json_array(), **v, *c;
	const json_t *a;
	const char *k;
	size_t i, n = 0;

	json_array_foreach(accounts, i, a)
		if (json_is_number(json_object_get(a, "gap")))
			group_account(sums, a, group_by);
	v = xcalloc(json_object_size(sums) + 1, sizeof(*v));
	json_object_foreach(sums, k, c)
		v[n++] = json_pack("{s:s, s:o}", "key", k, "gap",
		    result_usd(json_integer_value(c)));
	qsort(v, n, sizeof(*v), group_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	json_decref(sums);
	return out;
}

static void
gap_done(struct tool_call *c, const struct tool_scan_done *d)
{
	const char *group_by = tool_state(c);
	json_t *full, *cost, *o;

	if (d->outcome == SCAN_FAILED || d->outcome == SCAN_REFUSED) {
		tool_fail(c, "%s", d->error != NULL ? d->error : "scan failed");
		return;
	}
	full = result_json(d->result, RESULT_SEVERITY_ALL);
	if ((cost = json_object_get(full, "cost_attribution")) == NULL) {
		tool_fail(c, "no cost data: %s", json_string_value(
		    json_array_get(json_object_get(json_object_get(full,
		    "data_quality"), "notes"), 0)));
		json_decref(full);
		return;
	}
	o = json_pack("{s:O, s:s, s:o, s:O, s:O, s:O, s:O, s:O, s:o, s:O, "
	    "s:O}", "total_gap", json_object_get(full, "cost_attribution_gap"),
	    "group_by", group_by, "groups", groups_json(json_object_get(cost,
	    "accounts"), group_by), "period", json_object_get(cost, "period"),
	    "metric", json_object_get(cost, "metric"), "ce_requests",
	    json_object_get(cost, "ce_requests"), "ce_request_cost_usd",
	    json_object_get(cost, "ce_request_cost_usd"), "accounts",
	    json_object_get(cost, "accounts"), "scan_id", d->scan_id != 0 ?
	    json_integer(d->scan_id) : json_null(), "scan_timestamp",
	    json_object_get(full, "scan_timestamp"), "data_quality",
	    json_object_get(full, "data_quality"));
	json_decref(full);
	tool_done(c, o);
}

static void
gap_handler(struct tool_call *c)
{
	const json_t *args = tool_args(c);
	const json_t *ids = json_object_get(args, "account_ids");
	const json_t *period = json_object_get(args, "time_period");
	const char *group_by = json_string_value(json_object_get(args,
	    "group_by"));
	struct scan_request req;
	struct errbuf err;

	if (!tool_config(c)->cost_explorer_enabled) {
		tool_fail(c, "cost attribution is off (COST_EXPLORER_ENABLED="
		    "false); set it to true to ask Cost Explorer ($0.01 per "
		    "request, cached for the day)");
		return;
	}
	if (tool_check_accounts(c, ids, &err) == -1 ||
	    tool_check_scope(c, "resource_types", json_object_get(args,
	    "resource_types"), NULL, NULL, &err) == -1) {
		tool_fail(c, "%s", err.msg);
		return;
	}
	tool_set_state(c, xstrdup(group_by != NULL ? group_by : "account"),
	    free);
	memset(&req, 0, sizeof(req));
	req.store = 1;		/* costs are joined with the stored rows */
	req.account_ids = tool_strings(ids, &req.naccount_ids);
	req.resource_types = tool_strings(json_object_get(args,
	    "resource_types"), &req.ntypes);
	req.cost_metric = json_string_value(json_object_get(args, "metric"));
	req.cost_start = json_string_value(json_object_get(period, "start"));
	req.cost_end = json_string_value(json_object_get(period, "end"));
	if (tool_scan(c, &req, gap_done, NULL, &err) == NULL)
		tool_fail(c, "%s", err.msg);
	free((void *)req.account_ids);
	free((void *)req.resource_types);
}

const struct tool tool_get_cost_attribution_gap = {
	"get_cost_attribution_gap",
	"Cost attribution gap",
	"What resources breaking the tagging policy cost (USD over the "
	"period, default the last 30 days), from Cost Explorer joined with a "
	"scan; grouped by account, region, resource_type or tag_key, with the "
	"method, bound and Cost Explorer requests made ($0.01 each).",
	gap_input,
	gap_output,
	gap_handler,
};
