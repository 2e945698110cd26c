/*
 * S3 (REST-XML, path-style): the account's buckets, listed once from the
 * home region (ListBuckets, every page), each placed in its own region
 * (BucketRegion when the listing gives it, else GetBucketLocation).
 * Buckets outside the scanned regions are left alone.
 *
 * Their tags are not read here: GetResources in the bucket's region shows
 * them (svc-tagging.c), and a bucket it does not show has no tags, so one
 * GetBucketTagging per bucket would only repeat what that listing says.
 */
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "errbuf.h"
#include "http.h"
#include "inventory.h"
#include "services.h"
#include "xmalloc.h"

/* ListBuckets pages (and BucketRegion) come with a parameter only. */
#define S3_MAX_BUCKETS	1000

static int	s3_list_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);
static int	s3_location_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);

static void
s3_list(struct collect *c, const char *token)
{
	char *query, *enc = NULL;

	if (token != NULL)
		enc = collect_urlencode(token);
	query = xprintf("max-buckets=%d%s%s", S3_MAX_BUCKETS,
	    enc != NULL ? "&continuation-token=" : "", enc != NULL ? enc : "");
	collect_get(c, NULL, "s3", "ListBuckets", "/", query,
	    COLLECT_BLOCKING, s3_list_done, token, NULL);
	free(query);
	free(enc);
}

static char *
s3_path(const char *bucket)
{
	char *enc, *path;

	enc = collect_urlencode(bucket);
	path = xprintf("/%s", enc);
	free(enc);
	return path;
}

/* The bucket lives in region: record it there. */
static int
s3_place(struct collect *c, const char *name, const char *region,
    const char *created, struct errbuf *err)
{
	struct collect_region *r = collect_region_find(c, region);
	struct inventory_resource *res;
	char *arn;
	int rc;

	if (r == NULL)
		return 0;
	arn = xprintf("arn:aws:s3:::%s", name);
	rc = inventory_get(collect_region_inventory(r), INVENTORY_ENUMERATOR,
	    "s3:bucket", arn, name, &res, err);
	free(arn);
	if (rc == -1)
		return -1;
	return inventory_set_created(res, created, err);
}

static int
s3_list_bucket(struct collect *c, const struct awsxml_node *b,
    struct errbuf *err)
{
	const char *name = awsxml_text(b, "Name");
	const char *created = awsxml_text(b, "CreationDate");
	const char *region = awsxml_text(b, "BucketRegion");
	char *path;

	if (name == NULL || *name == '\0' || strlen(name) > 255)
		return err_set(err, "malformed answer: a bucket without a "
		    "valid Name");
	if (region != NULL && *region != '\0')
		return s3_place(c, name, region, created, err);
	path = s3_path(name);
	collect_get(c, NULL, "s3", "GetBucketLocation", path, "location",
	    COLLECT_BLOCKING, s3_location_done, name, created);
	free(path);
	return 0;
}

static int
s3_list_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	const struct awsxml_node *b;
	struct awsxml_node *root;
	const char *token;
	int rc = 0;

	if ((root = collect_parse_xml(resp, "ListAllMyBucketsResult",
	    err)) == NULL)
		return -1;
	for (b = awsxml_first(awsxml_find(root, "Buckets"), "Bucket");
	    rc == 0 && b != NULL; b = awsxml_next(b))
		rc = s3_list_bucket(c, b, err);
	token = awsxml_text(root, "ContinuationToken");
	if (rc == 0 && (rc = collect_next_token("ListBuckets",
	    collect_call_key(call), token, err)) == 1) {
		s3_list(c, token);
		rc = 0;
	}
	awsxml_free(root);
	return rc;
}

/* Empty is us-east-1 and "EU" eu-west-1, S3's two legacy spellings. */
static int
s3_location_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct awsxml_node *root;
	const char *loc;
	size_t len;
	int rc;

	if ((root = collect_parse_xml(resp, "LocationConstraint", err)) ==
	    NULL)
		return -1;
	loc = root->text;
	if (*loc == '\0')
		loc = "us-east-1";
	else if (strcmp(loc, "EU") == 0)
		loc = "eu-west-1";
	len = strlen(loc);
	if (len > 32 || strspn(loc, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    len)
		rc = err_set(err, "malformed answer: bucket %s has no valid "
		    "LocationConstraint", collect_call_key(call));
	else
		rc = s3_place(c, collect_call_key(call), loc,
		    collect_call_key2(call), err);
	awsxml_free(root);
	return rc;
}

int
svc_s3_start(struct collect *c, struct collect_region *r, struct errbuf *err)
{
	(void)r;
	(void)err;
	s3_list(c, NULL);
	return 0;
}
