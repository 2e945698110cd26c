/*
 * Resource Groups Tagging API (JSON 1.1): GetResources in each region for
 * the job's types whose listing does not carry their tags (Lambda
 * functions, S3 buckets, types no enumerator lists), 100 per page,
 * following PaginationToken to the end (pages may be short or empty and
 * still carry a token); no call when there is no such type. It shows only
 * resources that have or had tags (S3 buckets in their own region), so
 * once it is read to the end a resource it did not show has no tags: the
 * only source of tags for Lambda functions and S3 buckets, which saves one
 * ListTags or GetBucketTagging call per resource. The enumerators find
 * the never-tagged resources.
 *
 * A refusal (an AWS error answer, after retries) leaves those tags unknown
 * with the AWS error as the reason and the region scanned; it fails the
 * region only when the job wants a type no enumerator lists, since such
 * resources would be missing. A broken answer fails the region.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "awsjson.h"
#include "errbuf.h"
#include "http.h"
#include "inventory.h"
#include "services.h"

#define TAGGING_PER_PAGE	100
#define TAGGING_MAX_FILTERS	100	/* ResourceTypeFilters' limit */

static int	tagging_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);

/* The job's types as filters, once each ("s3" covers s3:bucket). */
static json_t *
tagging_filters(struct collect *c)
{
	const char *const *types;
	const char *f;
	json_t *list, *v;
	size_t i, j, n = collect_types(c, &types);

	list = json_array();
	for (i = 0; i < n; i++) {
		if ((f = services_tagging_filter(types[i])) == NULL)
			continue;
		json_array_foreach(list, j, v)
			if (strcmp(json_string_value(v), f) == 0)
				break;
		if (j == json_array_size(list))
			json_array_append_new(list, json_string(f));
	}
	return list;
}

static int
tagging_page(struct collect *c, struct collect_region *r, const char *token,
    struct errbuf *err)
{
	json_t *filters = tagging_filters(c), *body;

	if (json_array_size(filters) > TAGGING_MAX_FILTERS) {
		json_decref(filters);
		return err_set(err, "the job asks for more than %d resource "
		    "types; GetResources takes at most %d filters",
		    TAGGING_MAX_FILTERS, TAGGING_MAX_FILTERS);
	}
	body = json_pack("{s:i, s:o, s:s*}", "ResourcesPerPage",
	    TAGGING_PER_PAGE, "ResourceTypeFilters", filters,
	    "PaginationToken", token);
	if (body == NULL)
		return err_set(err, "cannot build a GetResources request");
	collect_json(c, r, "tagging", "GetResources", body, COLLECT_OWN_ERRORS,
	    tagging_done, token, NULL);
	return 0;
}

static int
tagging_mapping(struct collect *c, struct inventory *inv, const json_t *m,
    struct errbuf *err)
{
	const char *arn = awsjson_string(m, "ResourceARN"), *id;
	struct inventory_resource *res;
	char type[128];

	if (arn == NULL)
		return err_set(err, "malformed answer: a mapping without "
		    "ResourceARN");
	/* Another type under a service filter ("s3" also gives access points). */
	if (services_arn_type(arn, type, sizeof(type), &id) == -1 ||
	    !collect_wants_type(c, type))
		return 0;
	if (inventory_get(inv, INVENTORY_TAGGING, type, arn, id, &res,
	    err) == -1)
		return -1;
	return collect_json_tags(res, INVENTORY_TAGGING, json_object_get(m,
	    "Tags"), "Key", "Value", err);
}

/* 1 when every type of the job has an enumerator. */
static int
tagging_all_enumerated(struct collect *c)
{
	const char *const *types;
	size_t i, n = collect_types(c, &types);

	for (i = 0; i < n; i++)
		if (!services_enumerated(types[i]))
			return 0;
	return 1;
}

static int
tagging_refused(struct collect *c, struct collect_call *call,
    const struct http_response *resp)
{
	struct collect_region *r = collect_call_region(call);
	char why[1024];

	/* No answer at all, or a type only this listing finds: fail. */
	if (resp->status < 300 || resp->error_code[0] == '\0' ||
	    !tagging_all_enumerated(c))
		return COLLECT_DEFAULT;
	snprintf(why, sizeof(why), "%s: %s", resp->error_code,
	    resp->error_message);
	inventory_tagging_listed(collect_region_inventory(r), why);
	collect_log(c, "WARNING", "region %s: tagging GetResources refused, "
	    "so the tags of Lambda functions and S3 buckets there are "
	    "unknown: %s", collect_region_name(r), why);
	return 0;
}

static int
tagging_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct collect_region *r = collect_call_region(call);
	const char *token;
	json_t *doc, *list, *m;
	size_t i;
	int rc = 0;

	if (collect_call_failed(call))
		return tagging_refused(c, call, resp);
	if ((doc = collect_parse_json(resp, err)) == NULL)
		return -1;
	if ((list = awsjson_array(doc, "ResourceTagMappingList")) == NULL)
		rc = err_set(err, "malformed answer: no ResourceTagMappingList");
	json_array_foreach(list, i, m)
		if (rc == 0 && tagging_mapping(c, collect_region_inventory(r), m,
		    err) == -1)
			rc = -1;
	token = awsjson_string(doc, "PaginationToken");
	if (rc == 0 && (rc = collect_next_token("GetResources",
	    collect_call_key(call), token, err)) == 1)
		rc = tagging_page(c, r, token, err);
	else if (rc == 0)
		inventory_tagging_listed(collect_region_inventory(r), NULL);
	json_decref(doc);
	return rc;
}

/* 1 when a type of the job takes its tags from GetResources. */
static int
tagging_wanted(struct collect *c)
{
	const char *const *types;
	size_t i, n = collect_types(c, &types);

	for (i = 0; i < n; i++)
		if (services_tagging_filter(types[i]) != NULL)
			return 1;
	return 0;
}

int
svc_tagging_start(struct collect *c, struct collect_region *r,
    struct errbuf *err)
{
	if (tagging_wanted(c))
		return tagging_page(c, r, NULL, err);
	/* An empty filter would ask for every type: nothing to ask. */
	inventory_tagging_listed(collect_region_inventory(r), NULL);
	return 0;
}
