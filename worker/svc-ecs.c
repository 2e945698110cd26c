/*
 * ECS (JSON 1.1): cluster ARNs, every page by nextToken (ListClusters),
 * then DescribeClusters with TAGS for up to 100 of them per call. A
 * failure entry for a cluster that went away (MISSING) drops it; any other
 * failure entry leaves that cluster's tags unknown with the reason.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "awsjson.h"
#include "errbuf.h"
#include "http.h"
#include "inventory.h"
#include "services.h"

#define ECS_MAX_RESULTS		100	/* ListClusters' page maximum */
#define ECS_DESCRIBE_MAX	100	/* DescribeClusters' clusters maximum */

static int	ecs_list_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);
static int	ecs_describe_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);

static void
ecs_page(struct collect *c, struct collect_region *r, const char *token)
{
	collect_json(c, r, "ecs", "ListClusters", json_pack("{s:i, s:s*}",
	    "maxResults", ECS_MAX_RESULTS, "nextToken", token), 0,
	    ecs_list_done, token, NULL);
}

/* ARNs [from, from + n) of list, as one DescribeClusters call. */
static int
ecs_describe(struct collect *c, struct collect_region *r, const json_t *list,
    size_t from, size_t n, struct errbuf *err)
{
	json_t *arns = json_array(), *body;
	size_t i;

	for (i = from; i < from + n; i++) {
		if (!json_is_string(json_array_get(list, i))) {
			json_decref(arns);
			return err_set(err, "malformed answer: clusterArns "
			    "holds a non-string");
		}
		json_array_append(arns, json_array_get(list, i));
	}
	body = json_pack("{s:o, s:[s]}", "clusters", arns, "include", "TAGS");
	if (body == NULL)
		return err_set(err, "cannot build a DescribeClusters request");
	collect_json(c, r, "ecs", "DescribeClusters", body, 0,
	    ecs_describe_done, NULL, NULL);
	return 0;
}

static int
ecs_list_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct collect_region *r = collect_call_region(call);
	const char *token;
	json_t *doc, *list;
	size_t i, n;
	int rc = 0;

	if ((doc = collect_parse_json(resp, err)) == NULL)
		return -1;
	if ((list = awsjson_array(doc, "clusterArns")) == NULL)
		rc = err_set(err, "malformed answer: no clusterArns list");
	for (i = 0; rc == 0 && i < json_array_size(list); i += n) {
		n = json_array_size(list) - i;
		if (n > ECS_DESCRIBE_MAX)
			n = ECS_DESCRIBE_MAX;
		rc = ecs_describe(c, r, list, i, n, err);
	}
	token = awsjson_string(doc, "nextToken");
	if (rc == 0 && (rc = collect_next_token("ListClusters",
	    collect_call_key(call), token, err)) == 1) {
		ecs_page(c, r, token);
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

static int
ecs_cluster(struct inventory *inv, const json_t *cl, struct errbuf *err)
{
	const char *arn = awsjson_string(cl, "clusterArn");
	const char *name = awsjson_string(cl, "clusterName");
	const char *status = awsjson_string(cl, "status");
	struct inventory_resource *res;

	if (arn == NULL || name == NULL)
		return err_set(err, "malformed answer: a cluster without "
		    "clusterArn or clusterName");
	if (inventory_get(inv, INVENTORY_ENUMERATOR, "ecs:cluster", arn, name,
	    &res, err) == -1 || inventory_set_state(res, status, err) == -1)
		return -1;
	if (services_gone_state("ecs:cluster", status))
		inventory_set_gone(res);
	return collect_json_tags(res, INVENTORY_ENUMERATOR,
	    json_object_get(cl, "tags"), "key", "value", err);
}

static int
ecs_failure(struct inventory *inv, const json_t *f, struct errbuf *err)
{
	const char *arn = awsjson_string(f, "arn"), *reason, *detail, *id;
	struct inventory_resource *res;
	char type[128], why[1024];

	reason = awsjson_string(f, "reason");
	detail = awsjson_string(f, "detail");
	if (arn == NULL || (reason != NULL && strcmp(reason, "MISSING") == 0))
		return 0;
	if (services_arn_type(arn, type, sizeof(type), &id) == -1 ||
	    strcmp(type, "ecs:cluster") != 0)
		return err_set(err, "malformed answer: a failure for something "
		    "other than a cluster");
	if (inventory_get(inv, INVENTORY_ENUMERATOR, type, arn, id, &res,
	    err) == -1)
		return -1;
	snprintf(why, sizeof(why), "DescribeClusters: %s%s%s",
	    reason != NULL ? reason : "failed", detail != NULL ? ": " : "",
	    detail != NULL ? detail : "");
	inventory_tags_failed(res, why);
	return 0;
}

static int
ecs_describe_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct inventory *inv;
	json_t *doc, *list, *v;
	size_t i;
	int rc = 0;

	(void)c;
	inv = collect_region_inventory(collect_call_region(call));
	if ((doc = collect_parse_json(resp, err)) == NULL)
		return -1;
	if ((list = awsjson_array(doc, "clusters")) == NULL)
		rc = err_set(err, "malformed answer: no clusters list");
	json_array_foreach(list, i, v)
		if (rc == 0)
			rc = ecs_cluster(inv, v, err);
	json_array_foreach(awsjson_array(doc, "failures"), i, v)
		if (rc == 0)
			rc = ecs_failure(inv, v, err);
	json_decref(doc);
	return rc;
}

int
svc_ecs_start(struct collect *c, struct collect_region *r, struct errbuf *err)
{
	(void)err;
	ecs_page(c, r, NULL);
	return 0;
}
