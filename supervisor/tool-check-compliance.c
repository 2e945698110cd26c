/*
 * check_tag_compliance: scan now (or reuse fresh cached account results)
 * and answer the ComplianceResult, or with account_ids the
 * MultiAccountComplianceResult (DESIGN.md section 6), as result.c builds
 * it. A tag filter narrows the counted resources to those carrying the
 * given tags: the scan is read back from the history and the result is
 * rebuilt from the matching rows by the same result.c, so filtered and
 * unfiltered answers count alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "errbuf.h"
#include "result.h"
#include "scan.h"
#include "snapshot.h"
#include "tools.h"
#include "xmalloc.h"

#define TYPE_ENUM \
	"[\"all\", \"ec2:instance\", \"ec2:volume\", \"s3:bucket\", " \
	"\"rds:db\", \"lambda:function\", \"ecs:cluster\"]"

static const char check_input[] = "{"
    "\"type\": \"object\","
    "\"properties\": {"
    " \"resource_types\": {\"type\": \"array\", \"minItems\": 1,"
    "  \"maxItems\": 7, \"uniqueItems\": true, \"default\": [\"all\"],"
    "  \"description\": \"Resource types to check; [\\\"all\\\"] (the "
    "default) means every type the policy applies to.\","
    "  \"items\": {\"type\": \"string\", \"enum\": " TYPE_ENUM "}},"
    " \"filters\": {\"type\": \"object\", \"additionalProperties\": false,"
    "  \"description\": \"Narrow the scan to regions, and the counts to "
    "resources carrying given tags.\","
    "  \"properties\": {"
    "   \"regions\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 64,"
    "    \"uniqueItems\": true, \"description\": \"Regions to scan "
    "(default: ALLOWED_REGIONS, else every enabled region).\","
    "    \"items\": {\"type\": \"string\","
    "     \"pattern\": \"^[a-z]{2}(-[a-z]+)+-[0-9]+$\"}},"
    "   \"tags\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 20,"
    "    \"description\": \"Count only resources that have every listed "
    "tag key (exact case) with one of its values (any value when values "
    "is empty or absent). Needs store_snapshot true.\","
    "    \"items\": {\"type\": \"object\", \"additionalProperties\": false,"
    "     \"required\": [\"key\"], \"properties\": {"
    "      \"key\": {\"type\": \"string\", \"minLength\": 1,"
    "       \"maxLength\": 128},"
    "      \"values\": {\"type\": \"array\", \"maxItems\": 50,"
    "       \"items\": {\"type\": \"string\", \"maxLength\": 256}}}}}}},"
    " \"severity\": {\"type\": \"string\", \"enum\": [\"all\", "
    "\"errors_only\", \"warnings_only\"], \"default\": \"all\","
    "  \"description\": \"Which violations are listed; counts never "
    "change.\"},"
    " \"store_snapshot\": {\"type\": \"boolean\", \"default\": true,"
    "  \"description\": \"Record the scan in the history database "
    "(get_violation_history reads it).\"},"
    " \"force_refresh\": {\"type\": \"boolean\", \"default\": false,"
    "  \"description\": \"Scan again even when a cached result is fresh "
    "(CACHE_TTL_SECONDS).\"},"
    " \"account_ids\": {\"type\": \"array\", \"minItems\": 1,"
    "  \"maxItems\": 1000, \"uniqueItems\": true,"
    "  \"description\": \"AWS accounts to scan through their "
    "FinOpsTagComplianceReadOnly role (needs MULTI_ACCOUNT_ENABLED=true); "
    "the answer is then a MultiAccountComplianceResult.\","
    "  \"items\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\"}}"
    "},"
    "\"additionalProperties\": false"
    "}";

#define NULLABLE_STRING	"{\"type\": [\"string\", \"null\"]}"
#define STRINGS		"{\"type\": \"array\", \"items\": {\"type\": \"string\"}}"
#define COUNT		"{\"type\": \"integer\", \"minimum\": 0}"

static const char check_output[] = "{"
    "\"type\": \"object\","
    "\"required\": [\"compliance_score\", \"total_resources\","
    " \"compliant_resources\", \"violations\", \"cost_attribution_gap\","
    " \"scan_timestamp\", \"severity_filter\", \"violation_count_total\","
    " \"violation_count_filtered\", \"violations_truncated\","
    " \"violations_limit\", \"scan_id\", \"data_quality\"],"
    "\"properties\": {"
    " \"compliance_score\": {\"type\": \"number\", \"minimum\": 0,"
    "  \"maximum\": 1},"
    " \"total_resources\": " COUNT ","
    " \"compliant_resources\": " COUNT ","
    " \"violations\": {\"type\": \"array\", \"items\": {"
    "  \"type\": \"object\","
    "  \"required\": [\"resource_id\", \"resource_type\", \"resource_arn\","
    "   \"region\", \"account_id\", \"tag_name\", \"violation_type\","
    "   \"severity\", \"current_value\", \"allowed_values\", \"message\"],"
    "  \"properties\": {"
    "   \"resource_id\": {\"type\": \"string\"},"
    "   \"resource_type\": {\"type\": \"string\"},"
    "   \"resource_arn\": {\"type\": \"string\"},"
    "   \"region\": {\"type\": \"string\"},"
    "   \"account_id\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\"},"
    "   \"tag_name\": {\"type\": \"string\"},"
    "   \"violation_type\": {\"type\": \"string\", \"enum\": ["
    "    \"missing_required_tag\", \"invalid_value\", \"invalid_format\"]},"
    "   \"severity\": {\"type\": \"string\", \"enum\": [\"error\", "
    "\"warning\"]},"
    "   \"current_value\": " NULLABLE_STRING ","
    "   \"allowed_values\": {\"type\": [\"array\", \"null\"],"
    "    \"items\": {\"type\": \"string\"}},"
    "   \"message\": {\"type\": \"string\"}}}},"
    " \"cost_attribution_gap\": {\"type\": [\"number\", \"null\"]},"
    " \"scan_timestamp\": {\"type\": \"string\"},"
    " \"severity_filter\": {\"type\": \"string\", \"enum\": [\"all\","
    "  \"errors_only\", \"warnings_only\"]},"
    " \"violation_count_total\": " COUNT ","
    " \"violation_count_filtered\": " COUNT ","
    " \"violations_truncated\": {\"type\": \"boolean\"},"
    " \"violations_limit\": " COUNT ","
    " \"scan_id\": {\"type\": [\"integer\", \"null\"]},"
    " \"tag_filter\": {\"type\": \"array\"},"
    " \"account_metadata\": {\"type\": \"object\","
    "  \"required\": [\"total_accounts\", \"successful_accounts\","
    "   \"failed_accounts\", \"skipped_accounts\"],"
    "  \"properties\": {\"total_accounts\": " COUNT ","
    "   \"successful_accounts\": " STRINGS ","
    "   \"failed_accounts\": " STRINGS ","
    "   \"skipped_accounts\": " STRINGS "}},"
    " \"account_breakdown\": {\"type\": \"object\"},"
    " \"account_errors\": {\"type\": \"object\"},"
    " \"data_quality\": {\"type\": \"object\","
    "  \"required\": [\"complete\", \"notes\"],"
    "  \"properties\": {\"complete\": {\"type\": \"boolean\"},"
    "   \"notes\": " STRINGS "}}"
    "}}";

struct check {
	enum result_severity	 severity;
	json_t			*tags;		/* NULL: no tag filter */
	int			 multi;
	time_t			 started;
};

static void
check_free(void *arg)
{
	struct check *ck = arg;

	json_decref(ck->tags);
	free(ck);
}

/* --- the tag filter --- */

static int
tag_filter_one(const json_t *tags, const json_t *f)
{
	const json_t *values = json_object_get(f, "values"), *v, *want;
	size_t i;

	v = json_object_get(tags, json_string_value(json_object_get(f, "key")));
	if (!json_is_string(v))
		return 0;
	if (json_array_size(values) == 0)
		return 1;
	json_array_foreach(values, i, want)
		if (json_equal((json_t *)want, (json_t *)v))
			return 1;
	return 0;
}

/* Every filter matches; unreadable tags match none. */
static int
tag_filter_match(const json_t *filters, const json_t *resource)
{
	const json_t *tags = json_object_get(resource, "tags"), *f;
	size_t i;

	if (!json_is_object(tags))
		return 0;
	json_array_foreach(filters, i, f)
		if (!tag_filter_one(tags, f))
			return 0;
	return 1;
}

struct rebuild {
	struct result_account	*acct;
	const json_t		*filters;
	long long		 matched, seen;
	struct errbuf		*err;
};

static int
rebuild_resource(const char *account_id, const json_t *r, void *arg)
{
	struct rebuild *rb = arg;
	json_t *row;
	int rc;

	(void)account_id;
	rb->seen++;
	if (!tag_filter_match(rb->filters, r))
		return 0;
	rb->matched++;
	row = snapshot_row(r);
	rc = result_add_resource(rb->acct, row, rb->err);
	json_decref(row);
	return rc == -1 ? -1 : 0;
}

static int
rebuild_region(const char *account_id, const json_t *region, void *arg)
{
	struct rebuild *rb = arg;

	(void)account_id;
	result_add_region(rb->acct, region);
	return 0;
}

/* One account of the filtered result: rows from the history. */
static int
rebuild_account(struct result *res, const struct result_account *a,
    struct store *store, int64_t scan_id, struct rebuild *rb)
{
	rb->acct = result_add_account(res, a->account_id);
	if (a->status == RESULT_OK && snapshot_resources(store, scan_id,
	    a->account_id, rebuild_resource, rb, rb->err) == -1)
		return -1;
	if (snapshot_regions(store, scan_id, a->account_id, rebuild_region,
	    rb, rb->err) == -1)
		return -1;
	if (a->from_cache)
		result_set_cached(rb->acct, a->cached_at);
	result_finish_account(rb->acct, a->status, a->error, a->alias,
	    a->duration_ms);
	return 0;
}

static struct result *
check_rebuild(struct tool_call *c, const struct check *ck,
    const struct tool_scan_done *d, struct errbuf *err)
{
	struct rebuild rb = { NULL, ck->tags, 0, 0, err };
	struct result *res = result_new(ck->multi, ck->started);
	size_t i;

	if (d->scan_id == 0) {
		result_free(res);
		err_set(err, "filters.tags: the scan could not be recorded in "
		    "the history, which the tag filter reads; see the server "
		    "log, or leave filters.tags out");
		return NULL;
	}
	for (i = 0; i < result_naccounts(d->result); i++) {
		if (rebuild_account(res, result_account_at(d->result, i),
		    tool_store(c), d->scan_id, &rb) == -1) {
			result_free(res);
			return NULL;
		}
	}
	result_note(res, "filters.tags: %lld of %lld scanned resources carry "
	    "the requested tags and are counted", rb.matched, rb.seen);
	return res;
}

/* --- the answer --- */

/* At most TOOL_MAX_LIST violations; the counts say how many there are. */
static void
check_bound(json_t *o)
{
	json_t *list = json_object_get(o, "violations");

	if (json_array_size(list) > TOOL_MAX_LIST) {
		while (json_array_size(list) > TOOL_MAX_LIST)
			json_array_remove(list, json_array_size(list) - 1);
		json_object_set_new(o, "violations_truncated", json_true());
	}
	json_object_set_new(o, "violations_limit",
	    json_integer(TOOL_MAX_LIST));
}

static void
check_done(struct tool_call *c, const struct tool_scan_done *d)
{
	struct check *ck = tool_state(c);
	struct result *filtered = NULL;
	struct errbuf err;
	json_t *o;

	if (d->outcome == SCAN_FAILED || d->outcome == SCAN_REFUSED) {
		tool_fail(c, "%s", d->error != NULL ? d->error : "scan failed");
		return;
	}
	if (ck->tags != NULL &&
	    (filtered = check_rebuild(c, ck, d, &err)) == NULL) {
		tool_fail(c, "%s", err.msg);
		return;
	}
	o = result_json(filtered != NULL ? filtered : d->result, ck->severity);
	result_free(filtered);
	check_bound(o);
	json_object_set_new(o, "scan_id", d->scan_id != 0 ?
	    json_integer(d->scan_id) : json_null());
	if (ck->tags != NULL)
		json_object_set(o, "tag_filter", ck->tags);
	tool_done(c, o);
}

/* The scan the arguments ask for; strings borrowed from args. */
static void
check_request(const json_t *args, struct scan_request *req)
{
	const json_t *filters = json_object_get(args, "filters");
	const json_t *snap = json_object_get(args, "store_snapshot");

	memset(req, 0, sizeof(*req));
	req->store = snap == NULL || json_is_true(snap);
	req->force_refresh = json_is_true(json_object_get(args,
	    "force_refresh"));
	req->account_ids = tool_strings(json_object_get(args, "account_ids"),
	    &req->naccount_ids);
	req->regions = tool_strings(json_object_get(filters, "regions"),
	    &req->nregions);
	req->resource_types = tool_strings(json_object_get(args,
	    "resource_types"), &req->ntypes);
}

static void
check_handler(struct tool_call *c)
{
	const json_t *args = tool_args(c);
	const json_t *filters = json_object_get(args, "filters");
	const json_t *sev = json_object_get(args, "severity");
	struct scan_request req;
	struct check *ck;
	struct errbuf err;

	if (tool_check_accounts(c, json_object_get(args, "account_ids"),
	    &err) == -1 || tool_check_scope(c, "resource_types",
	    json_object_get(args, "resource_types"), "filters.regions",
	    json_object_get(filters, "regions"), &err) == -1) {
		tool_fail(c, "%s", err.msg);
		return;
	}
	ck = xcalloc(1, sizeof(*ck));
	tool_set_state(c, ck, check_free);
	if (sev != NULL)
		(void)result_severity_parse(json_string_value(sev),
		    &ck->severity);
	ck->multi = json_array_size(json_object_get(args, "account_ids")) > 0;
	if (json_object_get(filters, "tags") != NULL)
		ck->tags = json_deep_copy(json_object_get(filters, "tags"));
	check_request(args, &req);
	ck->started = time(NULL);
	if (ck->tags != NULL && !req.store)
		tool_fail(c, "filters.tags: needs store_snapshot true (the tag "
		    "filter reads the scanned resources back from the history); "
		    "set store_snapshot to true or leave filters.tags out");
	else if (tool_scan(c, &req, check_done, NULL, &err) == NULL)
		tool_fail(c, "%s", err.msg);
	free((void *)req.account_ids);
	free((void *)req.regions);
	free((void *)req.resource_types);
}

const struct tool tool_check_tag_compliance = {
	"check_tag_compliance",
	"Check tag compliance",
	"Scan AWS resources against the tagging policy and return the "
	"compliance score, counts and violations (at most 100 listed; "
	"violation_count_filtered is the full count). With account_ids, "
	"scans those accounts and adds per-account results.",
	check_input,
	check_output,
	check_handler,
};
