/*
 * Lambda (REST-JSON): functions, every page by Marker (ListFunctions).
 * Their tags are not read here: ListFunctions does not carry them and one
 * ListTags per function would cost a request each, so they come from the
 * region's GetResources listing (svc-tagging.c), where a function it does
 * not show has no tags.
 */
#include <stdlib.h>

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
lambda_function(struct collect_region *r, const json_t *f,
    struct errbuf *err)
{
	const char *name = awsjson_string(f, "FunctionName");
	const char *arn = awsjson_string(f, "FunctionArn");
	struct inventory_resource *res;

	if (name == NULL || arn == NULL)
		return err_set(err, "malformed answer: a function without "
		    "FunctionName or FunctionArn");
	if (inventory_get(collect_region_inventory(r), INVENTORY_ENUMERATOR,
	    "lambda:function", arn, name, &res, err) == -1)
		return -1;
	return inventory_set_state(res, awsjson_string(f, "State"), err);
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
			rc = lambda_function(r, f, err);
	marker = awsjson_string(doc, "NextMarker");
	if (rc == 0 && (rc = collect_next_token("ListFunctions",
	    collect_call_key(call), marker, err)) == 1) {
		lambda_page(c, r, marker);
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

int
svc_lambda_start(struct collect *c, struct collect_region *r,
    struct errbuf *err)
{
	(void)err;
	lambda_page(c, r, NULL);
	return 0;
}
