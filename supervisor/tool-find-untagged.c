/*
 * find_untagged_resources: scan, then list the resources that carry none
 * of the tags the policy requires for their type, or no tags at all,
 * oldest first, with their age in days where AWS gives a creation time.
 * "None of the required tags" is read off the scan's own verdicts: a
 * resource is untagged when it has a missing_required_tag violation for
 * every required tag of its type, so the policy's case rules apply as in
 * every other answer. A resource is listed once even when several regions
 * report it (S3 buckets, global types).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "cost.h"
#include "errbuf.h"
#include "policy.h"
#include "result.h"
#include "scan.h"
#include "snapshot.h"
#include "tools.h"
#include "xmalloc.h"

static const char untagged_input[] = "{"
    "\"type\": \"object\","
    "\"properties\": {"
    " \"resource_types\": {\"type\": \"array\", \"minItems\": 1,"
    "  \"maxItems\": 7, \"uniqueItems\": true, \"default\": [\"all\"],"
    "  \"description\": \"Resource types to look at; [\\\"all\\\"] (the "
    "default) means every type the policy applies to.\","
    "  \"items\": {\"type\": \"string\", \"enum\": [\"all\", "
    "\"ec2:instance\", \"ec2:volume\", \"s3:bucket\", \"rds:db\", "
    "\"lambda:function\", \"ecs:cluster\"]}},"
    " \"regions\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 64,"
    "  \"uniqueItems\": true, \"description\": \"Regions to scan (default: "
    "ALLOWED_REGIONS, else every enabled region).\","
    "  \"items\": {\"type\": \"string\","
    "   \"pattern\": \"^[a-z]{2}(-[a-z]+)+-[0-9]+$\"}},"
    " \"account_ids\": {\"type\": \"array\", \"minItems\": 1,"
    "  \"maxItems\": 1000, \"uniqueItems\": true,"
    "  \"description\": \"AWS accounts to scan (needs "
    "MULTI_ACCOUNT_ENABLED=true); default: the local account.\","
    "  \"items\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\"}},"
    " \"include_costs\": {\"type\": \"boolean\", \"default\": false,"
    "  \"description\": \"Add each resource's cost over the last 30 days "
    "from Cost Explorer (resource-level data, last 14 days scaled; "
    "cached for the day, $0.01 per request otherwise) and list the most "
    "expensive first.\"},"
    " \"min_cost_threshold\": {\"type\": \"number\", \"minimum\": 0,"
    "  \"description\": \"Only resources costing at least this many USD "
    "over the period; implies include_costs.\"}"
    "},"
    "\"additionalProperties\": false"
    "}";

static const char untagged_output[] = "{"
    "\"type\": \"object\","
    "\"required\": [\"untagged_resources\", \"untagged_count\","
    " \"scanned_resources\", \"truncated\", \"limit\", \"scan_id\","
    " \"scan_timestamp\", \"accounts\", \"data_quality\"],"
    "\"properties\": {"
    " \"untagged_resources\": {\"type\": \"array\", \"items\": {"
    "  \"type\": \"object\","
    "  \"required\": [\"resource_arn\", \"resource_id\", \"resource_type\","
    "   \"region\", \"account_id\", \"tags\", \"missing_required_tags\","
    "   \"created_at\", \"age_days\"],"
    "  \"properties\": {"
    "   \"resource_arn\": {\"type\": \"string\"},"
    "   \"resource_id\": {\"type\": \"string\"},"
    "   \"resource_type\": {\"type\": \"string\"},"
    "   \"region\": {\"type\": \"string\"},"
    "   \"account_id\": {\"type\": \"string\"},"
    "   \"tags\": {\"type\": \"object\"},"
    "   \"missing_required_tags\": {\"type\": \"array\","
    "    \"items\": {\"type\": \"string\"}},"
    "   \"state\": {\"type\": [\"string\", \"null\"]},"
    "   \"created_at\": {\"type\": [\"string\", \"null\"]},"
    "   \"age_days\": {\"type\": [\"integer\", \"null\"]},"
    "   \"cost\": {\"type\": [\"number\", \"null\"]}}}},"
    " \"untagged_cost\": {\"type\": [\"number\", \"null\"]},"
    " \"cost_attribution\": {\"type\": \"object\"},"
    " \"untagged_count\": {\"type\": \"integer\", \"minimum\": 0},"
    " \"scanned_resources\": {\"type\": \"integer\", \"minimum\": 0},"
    " \"truncated\": {\"type\": \"boolean\"},"
    " \"limit\": {\"type\": \"integer\"},"
    " \"scan_id\": {\"type\": [\"integer\", \"null\"]},"
    " \"scan_timestamp\": {\"type\": \"string\"},"
    " \"accounts\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
    "  \"required\": [\"account_id\", \"status\", \"error\"]}},"
    " \"data_quality\": {\"type\": \"object\"}"
    "}}";

struct untagged {
	struct policy	*policy;
	json_t		*list;		/* untagged resources */
	json_t		*seen;		/* ARN -> true */
	long long	 scanned;
	int		 costs;		/* include_costs or a threshold */
	long long	 min_cents;	/* -1: no threshold */
};

static void
untagged_free(void *arg)
{
	struct untagged *u = arg;

	policy_free(u->policy);
	json_decref(u->list);
	json_decref(u->seen);
	free(u);
}

/* How many tags the policy requires of this type. */
static size_t
required_count(const struct policy *p, const char *type)
{
	struct policy_violations pv = { NULL, 0 };
	size_t i, n = 0;

	(void)policy_evaluate(p, type, NULL, 0, &pv);
	for (i = 0; i < pv.count; i++)
		if (pv.v[i].violation_type == POLICY_MISSING_REQUIRED_TAG)
			n++;
	policy_violations_free(&pv);
	return n;
}

static json_t *
missing_names(const json_t *violations)
{
	json_t *names = json_array();
	const json_t *v;
	size_t i;

	json_array_foreach(violations, i, v)
		if (strcmp(json_string_value(json_object_get(v,
		    "violation_type")), "missing_required_tag") == 0)
			json_array_append(names, json_object_get(v, "tag_name"));
	return names;
}

static int
untagged_resource(const char *account_id, const json_t *r, void *arg)
{
	struct untagged *u = arg;
	const json_t *tags = json_object_get(r, "tags");
	const char *arn = json_string_value(json_object_get(r, "resource_arn"));
	json_t *missing;
	size_t need;

	if (!json_is_object(tags) || arn == NULL ||
	    json_object_get(u->seen, arn) != NULL)
		return 0;	/* unreadable (see data_quality), or seen */
	json_object_set_new(u->seen, arn, json_true());
	u->scanned++;
	missing = missing_names(json_object_get(r, "violations"));
	need = required_count(u->policy, json_string_value(json_object_get(r,
	    "resource_type")));
	if (json_object_size(tags) > 0 &&
	    (need == 0 || json_array_size(missing) < need)) {
		json_decref(missing);
		return 0;
	}
	json_array_append_new(u->list, json_pack("{s:O, s:O, s:O, s:O, s:s, "
	    "s:O, s:o, s:O, s:O, s:O}", "resource_arn", json_object_get(r,
	    "resource_arn"), "resource_id", json_object_get(r, "resource_id"),
	    "resource_type", json_object_get(r, "resource_type"), "region",
	    json_object_get(r, "region"), "account_id", account_id, "tags",
	    tags, "missing_required_tags", missing, "state",
	    json_object_get(r, "state"), "created_at", json_object_get(r,
	    "created_at"), "age_days", json_object_get(r, "age_days")));
	return 0;
}

/* Oldest first; unknown ages last; then by ARN. */
static int
untagged_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const json_t *ax = json_object_get(x, "age_days");
	const json_t *ay = json_object_get(y, "age_days");

	if (json_is_integer(ax) != json_is_integer(ay))
		return json_is_integer(ax) ? -1 : 1;
	if (json_is_integer(ax) && json_integer_value(ax) !=
	    json_integer_value(ay))
		return json_integer_value(ax) > json_integer_value(ay) ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "resource_arn")),
	    json_string_value(json_object_get(y, "resource_arn")));
}

/* Most expensive first; unknown costs last; then oldest first. */
static int
untagged_cost_cmp(const void *a, const void *b)
{
	const json_t *cx = json_object_get(*(json_t *const *)a, "cost");
	const json_t *cy = json_object_get(*(json_t *const *)b, "cost");

	if (json_is_number(cx) != json_is_number(cy))
		return json_is_number(cx) ? -1 : 1;
	if (json_is_number(cx) && json_number_value(cx) !=
	    json_number_value(cy))
		return json_number_value(cx) > json_number_value(cy) ? -1 : 1;
	return untagged_cmp(a, b);
}

static json_t *
untagged_sorted(const json_t *list, size_t max, int by_cost)
{
	size_t n = json_array_size(list), i;
	json_t **v = xcalloc(n + 1, sizeof(*v)), *out = json_array();

	for (i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof(*v), by_cost ? untagged_cost_cmp : untagged_cmp);
	for (i = 0; i < n && i < max; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

static json_t *
untagged_accounts(const struct result *res)
{
	const struct result_account *a;
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < result_naccounts(res); i++) {
		a = result_account_at(res, i);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s?}",
		    "account_id", a->account_id, "status",
		    result_status_name(a->status), "error", a->error));
	}
	return list;
}

static const char *
jget(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/*
 * Each resource's cost over the period (null when unknown), then the
 * threshold: what costs less, or is unknown, is dropped. Returns the sum
 * of the known costs kept, in cents, or -1 with err.
 */
static long long
untagged_costs(struct untagged *u, const struct cost_run *run,
    struct errbuf *err)
{
	json_t *kept = json_array(), *r;
	long long cents, sum = 0;
	size_t i;
	int rc;

	json_array_foreach(u->list, i, r) {
		rc = run == NULL ? 0 : cost_run_resource_cost(run,
		    jget(r, "account_id"), jget(r, "resource_type"),
		    jget(r, "resource_id"), jget(r, "resource_arn"), &cents,
		    err);
		if (rc == -1) {
			json_decref(kept);
			return -1;
		}
		json_object_set_new(r, "cost", rc == 1 ?
		    result_usd(cents) : json_null());
		if (u->min_cents >= 0 && (rc == 0 || cents < u->min_cents))
			continue;
		sum += rc == 1 ? cents : 0;
		json_array_append(kept, r);
	}
	json_decref(u->list);
	u->list = kept;
	return sum;
}

static void
untagged_done(struct tool_call *c, const struct tool_scan_done *d)
{
	struct untagged *u = tool_state(c);
	struct errbuf err;
	json_t *full, *o;
	long long cost_sum = 0;

	if (d->outcome == SCAN_FAILED || d->outcome == SCAN_REFUSED) {
		tool_fail(c, "%s", d->error != NULL ? d->error : "scan failed");
		return;
	}
	if (d->scan_id == 0) {
		tool_fail(c, "the scan could not be recorded in the history "
		    "database, from which the resources are read; see the "
		    "server log (HISTORY_DB_PATH)");
		return;
	}
	if (snapshot_resources(tool_store(c), d->scan_id, NULL,
	    untagged_resource, u, &err) == -1) {
		tool_fail(c, "%s", err.msg);
		return;
	}
	if (u->costs && (cost_sum = untagged_costs(u, d->cost, &err)) == -1) {
		tool_fail(c, "%s", err.msg);
		return;
	}
	full = result_json(d->result, RESULT_SEVERITY_ALL);
	o = json_pack("{s:o, s:I, s:I, s:b, s:i, s:I, s:O, s:o, s:O}",
	    "untagged_resources", untagged_sorted(u->list, TOOL_MAX_LIST,
	    u->costs),
	    "untagged_count", (json_int_t)json_array_size(u->list),
	    "scanned_resources", (json_int_t)u->scanned,
	    "truncated", json_array_size(u->list) > TOOL_MAX_LIST,
	    "limit", TOOL_MAX_LIST, "scan_id", (json_int_t)d->scan_id,
	    "scan_timestamp", json_object_get(full, "scan_timestamp"),
	    "accounts", untagged_accounts(d->result),
	    "data_quality", json_object_get(full, "data_quality"));
	if (u->costs) {
		json_object_set_new(o, "untagged_cost", d->cost != NULL ?
		    result_usd(cost_sum) : json_null());
		if (json_object_get(full, "cost_attribution") != NULL)
			json_object_set(o, "cost_attribution",
			    json_object_get(full, "cost_attribution"));
	}
	json_decref(full);
	tool_done(c, o);
}

static void
untagged_handler(struct tool_call *c)
{
	const json_t *args = tool_args(c);
	const json_t *ids = json_object_get(args, "account_ids"), *min;
	struct policy_errors perr = { NULL, 0 };
	struct scan_request req;
	struct untagged *u;
	struct errbuf err;

	if (tool_check_accounts(c, ids, &err) == -1 ||
	    tool_check_scope(c, "resource_types", json_object_get(args,
	    "resource_types"), "regions", json_object_get(args, "regions"),
	    &err) == -1) {
		tool_fail(c, "%s", err.msg);
		return;
	}
	u = xcalloc(1, sizeof(*u));
	u->list = json_array();
	u->seen = json_object();
	u->min_cents = -1;
	if ((min = json_object_get(args, "min_cost_threshold")) != NULL)
		u->min_cents = (long long)(json_number_value(min) * 100.0 +
		    0.5);
	u->costs = json_is_true(json_object_get(args, "include_costs")) ||
	    min != NULL;
	tool_set_state(c, u, untagged_free);
	if (policy_load(tool_config(c)->policy_path, &u->policy, &perr) == -1) {
		tool_fail(c, "POLICY_PATH=%s: %s; tagwarden policy check %s lists "
		    "every problem", tool_config(c)->policy_path, perr.count > 0 ?
		    perr.lines[0] : "cannot load the policy",
		    tool_config(c)->policy_path);
		policy_errors_free(&perr);
		return;
	}
	policy_errors_free(&perr);
	memset(&req, 0, sizeof(req));
	req.store = 1;		/* the resources are read back from it */
	req.no_cost = !u->costs;	/* Cost Explorer is paid per request */
	req.account_ids = tool_strings(ids, &req.naccount_ids);
	req.regions = tool_strings(json_object_get(args, "regions"),
	    &req.nregions);
	req.resource_types = tool_strings(json_object_get(args,
	    "resource_types"), &req.ntypes);
	if (tool_scan(c, &req, untagged_done, NULL, &err) == NULL)
		tool_fail(c, "%s", err.msg);
	free((void *)req.account_ids);
	free((void *)req.regions);
	free((void *)req.resource_types);
}

const struct tool tool_find_untagged_resources = {
	"find_untagged_resources",
	"Find untagged resources",
	"Scan and list resources that have none of the tags the policy "
	"requires for their type, or no tags at all, oldest first (at most "
	"100; untagged_count is the full count); include_costs adds Cost "
	"Explorer costs, most expensive first.",
	untagged_input,
	untagged_output,
	untagged_handler,
};
