/*
 * validate_resource_tags: up to 100 ARNs, each looked up where it lives.
 * The ARNs are grouped by (account, region); each group is one fresh scan
 * of that account and region restricted to the groups' resource types,
 * recorded in the history like any scan, and the ARNs are picked out of
 * its rows. An ARN the scan did not report is "not_found". This costs a
 * listing of the types in the region, but it sees exactly what
 * check_tag_compliance sees, with the same verdicts, and needs no other
 * AWS permission than the scans already use.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "errbuf.h"
#include "policy.h"
#include "result.h"
#include "scan.h"
#include "snapshot.h"
#include "tools.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define VALIDATE_MAX_ARNS	100

static const char validate_input[] = "{"
    "\"type\": \"object\","
    "\"required\": [\"resource_arns\"],"
    "\"properties\": {"
    " \"resource_arns\": {\"type\": \"array\", \"minItems\": 1,"
    "  \"maxItems\": 100, \"uniqueItems\": true,"
    "  \"description\": \"ARNs of EC2 instances and volumes, RDS DB "
    "instances, Lambda functions or ECS clusters, e.g. "
    "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc.\","
    "  \"items\": {\"type\": \"string\", \"maxLength\": 2048, \"pattern\": "
    "\"^arn:aws:[a-z0-9-]+:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:[^\\\\s]+$\"}}"
    "},"
    "\"additionalProperties\": false"
    "}";

static const char validate_output[] = "{"
    "\"type\": \"object\","
    "\"required\": [\"results\", \"total\", \"compliant\", \"noncompliant\","
    " \"not_found\", \"unreadable\", \"errors\", \"scan_ids\"],"
    "\"properties\": {"
    " \"results\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
    "  \"required\": [\"resource_arn\", \"account_id\", \"region\","
    "   \"resource_type\", \"status\", \"compliant\", \"tags\","
    "   \"violations\", \"error\"],"
    "  \"properties\": {"
    "   \"resource_arn\": {\"type\": \"string\"},"
    "   \"account_id\": {\"type\": \"string\"},"
    "   \"region\": {\"type\": \"string\"},"
    "   \"resource_type\": {\"type\": [\"string\", \"null\"]},"
    "   \"status\": {\"type\": \"string\", \"enum\": [\"compliant\","
    "    \"noncompliant\", \"not_found\", \"unreadable\", \"error\"]},"
    "   \"compliant\": {\"type\": [\"boolean\", \"null\"]},"
    "   \"tags\": {\"type\": [\"object\", \"null\"]},"
    "   \"violations\": {\"type\": \"array\"},"
    "   \"error\": {\"type\": [\"string\", \"null\"]}}}},"
    " \"total\": {\"type\": \"integer\"},"
    " \"compliant\": {\"type\": \"integer\"},"
    " \"noncompliant\": {\"type\": \"integer\"},"
    " \"not_found\": {\"type\": \"integer\"},"
    " \"unreadable\": {\"type\": \"integer\"},"
    " \"errors\": {\"type\": \"integer\"},"
    " \"scan_ids\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}}"
    "}}";

/* ARN forms a scan reports: service, resource prefix, resource type. */
static const struct arn_form {
	const char	*service;
	const char	*prefix;
	const char	*type;
} arn_forms[] = {
	{ "ec2", "instance/", "ec2:instance" },
	{ "ec2", "volume/", "ec2:volume" },
	{ "rds", "db:", "rds:db" },
	{ "lambda", "function:", "lambda:function" },
	{ "ecs", "cluster/", "ecs:cluster" },
};

struct vgroup {
	struct validate	*v;
	char		 account[16];
	char		 region[32];
	json_t		*types;		/* distinct, in ARN order */
	json_t		*arns;		/* ARN -> index into v->results */
};

struct validate {
	json_t		*results;	/* one entry per ARN, input order */
	struct vgroup	*groups;
	size_t		 ngroups, pending;
	json_t		*scan_ids;
};

static void
validate_free(void *arg)
{
	struct validate *v = arg;
	size_t i;

	for (i = 0; i < v->ngroups; i++) {
		json_decref(v->groups[i].types);
		json_decref(v->groups[i].arns);
	}
	free(v->groups);
	json_decref(v->results);
	json_decref(v->scan_ids);
	free(v);
}

/* --- ARNs --- */

static const char *
arn_type(const char *service, const char *resource)
{
	size_t i;

	for (i = 0; i < nitems(arn_forms); i++)
		if (strcmp(arn_forms[i].service, service) == 0 &&
		    strncmp(resource, arn_forms[i].prefix,
		    strlen(arn_forms[i].prefix)) == 0 &&
		    resource[strlen(arn_forms[i].prefix)] != '\0')
			return arn_forms[i].type;
	return NULL;
}

static void
entry_error(json_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
entry_error(json_t *e, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	json_t *s;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if ((s = json_string(text)) == NULL)
		s = json_string("lookup failed");
	json_object_set_new(e, "status", json_string("error"));
	json_object_set_new(e, "error", s);
}

/* The entry of one ARN, still "not_found" until a scan reports it. */
static json_t *
entry_new(const char *arn, char *parts[6])
{
	const char *type = arn_type(parts[2], parts[5]);

	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:n, s:n, s:[], s:n}",
	    "resource_arn", arn, "account_id", parts[4], "region", parts[3],
	    "resource_type", type, "status", "not_found", "compliant",
	    "tags", "violations", "error");
}

/* arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE (the schema checked the form). */
static void
arn_split(char *copy, char *parts[6])
{
	size_t i;

	for (i = 0; i < 5; i++)
		parts[i] = strsep(&copy, ":");
	parts[5] = copy != NULL ? copy : (char *)"";
}

static struct vgroup *
group_for(struct validate *v, const char *account, const char *region)
{
	struct vgroup *g;
	size_t i;

	for (i = 0; i < v->ngroups; i++)
		if (strcmp(v->groups[i].account, account) == 0 &&
		    strcmp(v->groups[i].region, region) == 0)
			return &v->groups[i];
	v->groups = xreallocarray(v->groups, v->ngroups + 1,
	    sizeof(*v->groups));
	g = &v->groups[v->ngroups++];
	memset(g, 0, sizeof(*g));
	g->v = v;
	snprintf(g->account, sizeof(g->account), "%s", account);
	snprintf(g->region, sizeof(g->region), "%s", region);
	g->types = json_array();
	g->arns = json_object();
	return g;
}

/* Unsupported or out-of-policy ARNs are answered without a scan. */
static void
validate_plan_one(struct validate *v, const struct policy *p,
    const char *arn)
{
	char *copy = xstrdup(arn), *parts[6];
	const json_t *t;
	json_t *e;
	struct vgroup *g;
	size_t i, idx = json_array_size(v->results);
	const char *type;

	arn_split(copy, parts);
	e = entry_new(arn, parts);
	json_array_append_new(v->results, e);
	type = json_string_value(json_object_get(e, "resource_type"));
	if (type == NULL)
		entry_error(e, "unsupported ARN: tagwarden scans EC2 instances "
		    "(ec2 instance/ID), EC2 volumes (ec2 volume/ID), RDS DB "
		    "instances (rds db:NAME), Lambda functions (lambda "
		    "function:NAME) and ECS clusters (ecs cluster/NAME)");
	else if (!policy_applies(p, type))
		entry_error(e, "resource type %s is not covered by the tagging "
		    "policy (get_tagging_policy lists the types)", type);
	else {
		g = group_for(v, parts[4], parts[3]);
		json_object_set_new(g->arns, arn, json_integer((json_int_t)idx));
		json_array_foreach(g->types, i, t)
			if (strcmp(json_string_value(t), type) == 0)
				break;
		if (i == json_array_size(g->types))
			json_array_append_new(g->types, json_string(type));
	}
	free(copy);
}

/* --- answers per group --- */

static void
group_fail(struct vgroup *g, const char *error)
{
	const char *arn;
	json_t *idx;

	json_object_foreach(g->arns, arn, idx)
		entry_error(json_array_get(g->v->results,
		    (size_t)json_integer_value(idx)), "%s", error);
}

static int
group_resource(const char *account_id, const json_t *r, void *arg)
{
	struct vgroup *g = arg;
	const json_t *idx = json_object_get(g->arns, json_string_value(
	    json_object_get(r, "resource_arn")));
	const json_t *tags = json_object_get(r, "tags");
	json_t *e;

	(void)account_id;
	if (idx == NULL)
		return 0;
	e = json_array_get(g->v->results, (size_t)json_integer_value(idx));
	json_object_set(e, "tags", (json_t *)tags);
	json_object_set(e, "violations", json_object_get(r, "violations"));
	if (!json_is_object(tags)) {
		json_object_set_new(e, "status", json_string("unreadable"));
		json_object_set(e, "error", json_object_get(r, "tags_error"));
		return 0;
	}
	json_object_set(e, "compliant", json_object_get(r, "compliant"));
	json_object_set_new(e, "status", json_string(json_is_true(
	    json_object_get(r, "compliant")) ? "compliant" : "noncompliant"));
	return 0;
}

/* A failed or skipped region answers for its ARNs still not found. */
static int
group_region(const char *account_id, const json_t *region, void *arg)
{
	struct vgroup *g = arg;
	const char *status = json_string_value(json_object_get(region,
	    "status")), *arn, *why;
	json_t *idx, *e;

	(void)account_id;
	if (status == NULL || strcmp(status, "ok") == 0)
		return 0;
	why = json_string_value(json_object_get(region, "error"));
	json_object_foreach(g->arns, arn, idx) {
		e = json_array_get(g->v->results,
		    (size_t)json_integer_value(idx));
		if (strcmp(json_string_value(json_object_get(e, "status")),
		    "not_found") == 0)
			entry_error(e, "region %s %s: %s", g->region, status,
			    why != NULL ? why : "no reason given");
	}
	return 0;
}

static void
group_read(struct tool_call *c, struct vgroup *g,
    const struct tool_scan_done *d)
{
	const struct result_account *a = result_account_at(d->result, 0);
	struct errbuf err;

	if (d->outcome == SCAN_FAILED || d->outcome == SCAN_REFUSED) {
		group_fail(g, d->error != NULL ? d->error : "scan failed");
		return;
	}
	if (a == NULL || a->status != RESULT_OK) {
		group_fail(g, a != NULL && a->error != NULL ? a->error :
		    "account not scanned");
		return;
	}
	if (d->scan_id == 0) {
		group_fail(g, "the scan could not be recorded in the history "
		    "database, from which the resources are read");
		return;
	}
	json_array_append_new(g->v->scan_ids, json_integer(d->scan_id));
	if (snapshot_resources(tool_store(c), d->scan_id, g->account,
	    group_resource, g, &err) == -1 ||
	    snapshot_regions(tool_store(c), d->scan_id, g->account,
	    group_region, g, &err) == -1)
		group_fail(g, err.msg);
}

static void
validate_answer(struct tool_call *c)
{
	struct validate *v = tool_state(c);
	long long n[5] = { 0, 0, 0, 0, 0 };
	static const char *const names[] = { "compliant", "noncompliant",
	    "not_found", "unreadable", "error" };
	const json_t *e;
	size_t i, k;

	json_array_foreach(v->results, i, e)
		for (k = 0; k < nitems(names); k++)
			if (strcmp(json_string_value(json_object_get(e,
			    "status")), names[k]) == 0)
				n[k]++;
	tool_done(c, json_pack("{s:O, s:I, s:I, s:I, s:I, s:I, s:I, s:O}",
	    "results", v->results, "total",
	    (json_int_t)json_array_size(v->results), "compliant",
	    (json_int_t)n[0], "noncompliant", (json_int_t)n[1], "not_found",
	    (json_int_t)n[2], "unreadable", (json_int_t)n[3], "errors",
	    (json_int_t)n[4], "scan_ids", v->scan_ids));
}

static void
validate_group_done(struct tool_call *c, const struct tool_scan_done *d)
{
	struct validate *v = tool_state(c);
	struct vgroup *g = &v->groups[(size_t)(uintptr_t)d->arg];

	group_read(c, g, d);
	if (--v->pending == 0)
		validate_answer(c);
}

static void
validate_start(struct tool_call *c, struct validate *v)
{
	const char *account, *region;
	struct scan_request req;
	struct errbuf err;
	size_t i;

	v->pending = v->ngroups + 1;	/* held until every scan started */
	for (i = 0; i < v->ngroups; i++) {
		account = v->groups[i].account;
		region = v->groups[i].region;
		memset(&req, 0, sizeof(req));
		req.account_ids = &account;
		req.naccount_ids = 1;
		req.regions = &region;
		req.nregions = 1;
		req.resource_types = tool_strings(v->groups[i].types,
		    &req.ntypes);
		req.force_refresh = 1;	/* a lookup wants the tags of now */
		req.store = 1;		/* the rows are read back */
		req.no_cost = 1;	/* tags only: no paid Cost Explorer call */
		if (tool_scan(c, &req, validate_group_done, (void *)(uintptr_t)i,
		    &err) == NULL) {
			group_fail(&v->groups[i], err.msg);
			v->pending--;
		}
		free((void *)req.resource_types);
	}
	if (--v->pending == 0)
		validate_answer(c);
}

static void
validate_handler(struct tool_call *c)
{
	const json_t *arns = json_object_get(tool_args(c), "resource_arns");
	struct policy_errors perr = { NULL, 0 };
	struct policy *p = NULL;
	struct validate *v;
	const json_t *a;
	size_t i;

	v = xcalloc(1, sizeof(*v));
	v->results = json_array();
	v->scan_ids = json_array();
	tool_set_state(c, v, validate_free);
	if (policy_load(tool_config(c)->policy_path, &p, &perr) == -1) {
		tool_fail(c, "POLICY_PATH=%s: %s; tagwarden policy check %s lists "
		    "every problem", tool_config(c)->policy_path, perr.count > 0 ?
		    perr.lines[0] : "cannot load the policy",
		    tool_config(c)->policy_path);
		policy_errors_free(&perr);
		return;
	}
	policy_errors_free(&perr);
	json_array_foreach(arns, i, a)
		if (i < VALIDATE_MAX_ARNS)
			validate_plan_one(v, p, json_string_value(a));
	policy_free(p);
	validate_start(c, v);
}

const struct tool tool_validate_resource_tags = {
	"validate_resource_tags",
	"Validate resource tags",
	"Look up to 100 resources by ARN, each in its own account and region, "
	"and return per ARN its tags and policy violations, or not_found.",
	validate_input,
	validate_output,
	validate_handler,
};
