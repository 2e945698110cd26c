/*
 * ECS (JSON 1.1, AmazonEC2ContainerServiceV20141113): ListClusters with
 * maxResults/nextToken and DescribeClusters by name or ARN, with tags in
 * ECS's lowercase {key, value} shape when include names TAGS. Clusters are
 * the fixture's ecs:cluster resources of the caller's account and region.
 */
#include <stdio.h>
#include <string.h>

#include "emulator.h"
#include "errbuf.h"

#define ECS_TYPE		"ecs:cluster"
#define ECS_PAGE_MAX		100
#define ECS_DESCRIBE_MAX	100

/* The include values ECS knows; a row sets the bit its name selects. */
#define ECS_INCLUDE_TAGS	0x1
#define ECS_INCLUDE_SETTINGS	0x2
#define ECS_INCLUDE_STATISTICS	0x4

static const struct {
	const char	*name;
	int		 bit;
} ecs_includes[] = {
	{ "TAGS", ECS_INCLUDE_TAGS },
	{ "SETTINGS", ECS_INCLUDE_SETTINGS },
	{ "STATISTICS", ECS_INCLUDE_STATISTICS },
	{ "ATTACHMENTS", 0 },
	{ "CONFIGURATIONS", 0 },
};

static void
ecs_invalid(struct emu_req *req, const char *msg)
{
	reply_error(req, 400, "InvalidParameterException", "%s", msg);
}

/* INACTIVE clusters were deleted: described for a while, never listed. */
static int
ecs_listed(const struct emu_resource *r)
{
	return strcmp(r->type, ECS_TYPE) == 0 &&
	    strcmp(r->state, "INACTIVE") != 0;
}

static void
ecs_list_clusters(struct emu_req *req)
{
	const struct emu_region *reg = fixture_region(req->account,
	    req->region);
	json_t *max = json_object_get(req->json, "maxResults"), *arns, *body;
	size_t i, total = reg != NULL ? reg->nres : 0;
	struct errbuf err;
	char token[512];
	struct page pg;

	if (max != NULL && (!json_is_integer(max) ||
	    json_integer_value(max) < 1 ||
	    json_integer_value(max) > ECS_PAGE_MAX)) {
		ecs_invalid(req, "maxResults must be between 1 and 100.");
		return;
	}
	if (page_start(req, json_string_value(json_object_get(req->json,
	    "nextToken")), max != NULL ? (size_t)json_integer_value(max) :
	    ECS_PAGE_MAX, &pg, &err) == -1) {
		ecs_invalid(req, "Invalid token: start again without "
		    "nextToken.");
		return;
	}
	arns = json_array();
	for (i = pg.resume; i < total && pg.taken < pg.limit; i++)
		if (ecs_listed(&reg->res[i])) {
			json_array_append_new(arns,
			    json_string(reg->res[i].arn));
			pg.taken++;
		}
	page_finish(req, &pg, i, total, token, sizeof(token));
	body = json_pack("{s:o}", "clusterArns", arns);
	if (token[0] != '\0')
		json_object_set_new(body, "nextToken", json_string(token));
	reply_json(req, body);
}

static json_int_t
ecs_count(const struct emu_resource *r, const char *key)
{
	json_t *v = json_object_get(r->attrs, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static json_t *
ecs_tags(const struct emu_resource *r)
{
	json_t *tags = json_array();
	size_t i;

	for (i = 0; i < r->ntags; i++)
		json_array_append_new(tags, json_pack("{s:s, s:s}", "key",
		    r->tags[i].key, "value", r->tags[i].value));
	return tags;
}

static json_t *
ecs_cluster(const struct emu_resource *r, int include)
{
	const char *insights = json_string_value(json_object_get(r->attrs,
	    "container_insights"));
	json_t *c;

	c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:[], s:[], s:[]}",
	    "clusterArn", r->arn, "clusterName", r->id, "status", r->state,
	    "registeredContainerInstancesCount",
	    ecs_count(r, "registered_instances"),
	    "runningTasksCount", ecs_count(r, "running_tasks"),
	    "pendingTasksCount", ecs_count(r, "pending_tasks"),
	    "activeServicesCount", ecs_count(r, "active_services"),
	    "statistics", "capacityProviders",
	    "defaultCapacityProviderStrategy");
	if (include & ECS_INCLUDE_TAGS)
		json_object_set_new(c, "tags", ecs_tags(r));
	if (include & ECS_INCLUDE_SETTINGS)
		json_object_set_new(c, "settings", json_pack("[{s:s, s:s}]",
		    "name", "containerInsights", "value",
		    insights != NULL ? insights : "disabled"));
	return c;
}

/* A name or an ARN; only the caller's clusters of this region count. */
static const struct emu_resource *
ecs_find(struct emu_req *req, const char *id)
{
	const struct emu_region *reg = fixture_region(req->account,
	    req->region);
	const struct emu_resource *r;
	size_t i;

	if (strncmp(id, "arn:", 4) == 0) {
		r = fixture_by_arn(req->srv->fx, id);
		return r != NULL && r->account == req->account &&
		    strcmp(r->region, req->region) == 0 &&
		    strcmp(r->type, ECS_TYPE) == 0 ? r : NULL;
	}
	for (i = 0; reg != NULL && i < reg->nres; i++)
		if (strcmp(reg->res[i].type, ECS_TYPE) == 0 &&
		    strcmp(reg->res[i].id, id) == 0)
			return &reg->res[i];
	return NULL;
}

static int
ecs_parse_include(const json_t *v, int *include, struct errbuf *err)
{
	const char *s;
	json_t *e;
	size_t i, j;

	*include = 0;
	if (v != NULL && !json_is_array(v))
		return err_set(err, "include must be a list of strings.");
	json_array_foreach(v, i, e) {
		s = json_string_value(e);
		for (j = 0; s != NULL &&
		    j < sizeof(ecs_includes) / sizeof(ecs_includes[0]); j++)
			if (strcmp(ecs_includes[j].name, s) == 0)
				break;
		if (s == NULL ||
		    j == sizeof(ecs_includes) / sizeof(ecs_includes[0]))
			return err_set(err, "include: %s is not one of "
			    "ATTACHMENTS, CONFIGURATIONS, SETTINGS, "
			    "STATISTICS, TAGS.", s != NULL ? s :
			    "(not a string)");
		*include |= ecs_includes[j].bit;
	}
	return 0;
}

static void
ecs_failure(struct emu_req *req, json_t *failures, const char *id)
{
	char arn[1024];

	if (strncmp(id, "arn:", 4) == 0)
		snprintf(arn, sizeof(arn), "%s", id);
	else
		snprintf(arn, sizeof(arn), "arn:aws:ecs:%s:%s:cluster/%s",
		    req->region, req->account->id, id);
	json_array_append_new(failures, json_pack("{s:s, s:s}", "arn", arn,
	    "reason", "MISSING"));
}

static int
ecs_describe_args(struct emu_req *req, json_t **ids, int *include,
    struct errbuf *err)
{
	json_t *v;
	size_t i;

	*ids = json_object_get(req->json, "clusters");
	if (*ids != NULL && (!json_is_array(*ids) ||
	    json_array_size(*ids) > ECS_DESCRIBE_MAX))
		return err_set(err, "clusters can have at most 100 items.");
	json_array_foreach(*ids, i, v)
		if (!json_is_string(v))
			return err_set(err, "clusters must be a list of "
			    "cluster names or ARNs.");
	return ecs_parse_include(json_object_get(req->json, "include"),
	    include, err);
}

/* Without clusters ECS describes the cluster named "default". */
static void
ecs_describe_clusters(struct emu_req *req)
{
	json_t *ids, *clusters, *failures;
	const struct emu_resource *r;
	struct errbuf err;
	const char *id;
	int include = 0;
	size_t i, n;

	if (ecs_describe_args(req, &ids, &include, &err) == -1) {
		ecs_invalid(req, err.msg);
		return;
	}
	clusters = json_array();
	failures = json_array();
	n = json_array_size(ids) > 0 ? json_array_size(ids) : 1;
	for (i = 0; i < n; i++) {
		id = json_array_size(ids) > 0 ?
		    json_string_value(json_array_get(ids, i)) : "default";
		if ((r = ecs_find(req, id)) != NULL)
			json_array_append_new(clusters,
			    ecs_cluster(r, include));
		else
			ecs_failure(req, failures, id);
	}
	reply_json(req, json_pack("{s:o, s:o}", "clusters", clusters,
	    "failures", failures));
}

const struct emu_op svc_ecs_ops[] = {
	{ "ListClusters", 0, ecs_list_clusters },
	{ "DescribeClusters", 0, ecs_describe_clusters },
	{ NULL, 0, NULL },
};
