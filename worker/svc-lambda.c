/*
 * Lambda (REST-JSON): functions, every page by Marker (ListFunctions),
 * then each function's tags (ListTags on its ARN). A tag read AWS refuses
 * leaves that function's tags unknown with "<code>: <message>"; a function
 * deleted in between (ResourceNotFoundException) is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "awsjson.h"
#include "errbuf.h"
#include "http.h"
#include "inventory.h"
#include "services.h"
#include "xmalloc.h"

#define LAMBDA_MAX_ITEMS	50	/* ListFunctions' page maximum */

static int	lambda_list_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);
static int	lambda_tags_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);

static void
lambda_page(struct collect *c, struct collect_region *r, const char *marker)
{
	char *query, *enc = NULL;

	if (marker != NULL)
		enc = collect_urlencode(marker);
	query = xprintf("MaxItems=%d%s%s", LAMBDA_MAX_ITEMS,
	    enc != NULL ? "&Marker=" : "", enc != NULL ? enc : "");
	collect_get(c, r, "lambda", "ListFunctions", "/2015-03-31/functions/",
	    query, 0, lambda_list_done, marker, NULL);
	free(query);
	free(enc);
}

static int
lambda_function(struct collect *c, struct collect_region *r, const json_t *f,
    struct errbuf *err)
{
	const char *name = awsjson_string(f, "FunctionName");
	const char *arn = awsjson_string(f, "FunctionArn");
	struct inventory_resource *res;
	char *path, *enc;

	if (name == NULL || arn == NULL)
		return err_set(err, "malformed answer: a function without "
		    "FunctionName or FunctionArn");
	if (inventory_get(collect_region_inventory(r), INVENTORY_ENUMERATOR,
	    "lambda:function", arn, name, &res, err) == -1 ||
	    inventory_set_state(res, awsjson_string(f, "State"), err) == -1)
		return -1;
	/* The ARN is one path segment: its ':' are encoded too. */
	enc = collect_urlencode(arn);
	path = xprintf("/2017-03-31/tags/%s", enc);
	collect_get(c, r, "lambda", "ListTags", path, NULL, COLLECT_OWN_ERRORS,
	    lambda_tags_done, arn, name);
	free(path);
	free(enc);
	return 0;
}

static int
lambda_list_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct collect_region *r = collect_call_region(call);
	const char *marker;
	json_t *doc, *list, *f;
	size_t i;
	int rc = 0;

	if ((doc = collect_parse_json(resp, err)) == NULL)
		return -1;
	if ((list = awsjson_array(doc, "Functions")) == NULL)
		rc = err_set(err, "malformed answer: no Functions list");
	json_array_foreach(list, i, f)
		if (rc == 0)
			rc = lambda_function(c, r, f, err);
	marker = awsjson_string(doc, "NextMarker");
	if (rc == 0 && (rc = collect_next_token("ListFunctions",
	    collect_call_key(call), marker, err)) == 1) {
		lambda_page(c, r, marker);
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

/* ListTags answers {"Tags": {"key": "value", ...}}. */
static int
lambda_tags(struct inventory_resource *res, const json_t *doc,
    struct errbuf *err)
{
	const char *key;
	json_t *tags = json_object_get(doc, "Tags"), *v;

	if (inventory_has_tags(res, INVENTORY_ENUMERATOR))
		return 0;
	if (tags != NULL && !json_is_object(tags))
		return err_set(err, "malformed answer: Tags is not an object");
	json_object_foreach(tags, key, v)
		if (inventory_tag(res, INVENTORY_ENUMERATOR, key,
		    json_string_value(v), err) == -1)
			return -1;
	inventory_tags_read(res, INVENTORY_ENUMERATOR);
	return 0;
}

static int
lambda_tags_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct inventory_resource *res;
	char why[1024];
	json_t *doc;
	int rc;

	(void)c;
	if (inventory_get(collect_region_inventory(collect_call_region(call)),
	    INVENTORY_ENUMERATOR, "lambda:function", collect_call_key(call),
	    collect_call_key2(call), &res, err) == -1)
		return -1;
	if (resp->status >= 200 && resp->status < 300) {
		if ((doc = collect_parse_json(resp, err)) == NULL)
			return -1;
		rc = lambda_tags(res, doc, err);
		json_decref(doc);
		return rc;
	}
	if (strcmp(resp->error_code, "ResourceNotFoundException") == 0)
		inventory_set_gone(res);
	else if (resp->status >= 300 && resp->error_code[0] != '\0') {
		snprintf(why, sizeof(why), "%s: %s", resp->error_code,
		    resp->error_message);
		inventory_tags_failed(res, why);
	} else
		return COLLECT_DEFAULT;
	return 0;
}

int
svc_lambda_start(struct collect *c, struct collect_region *r,
    struct errbuf *err)
{
	(void)err;
	lambda_page(c, r, NULL);
	return 0;
}
