/*
 * S3 (REST-XML, path-style addressing only: a loopback endpoint has no
 * bucket host names): ListBuckets in its plain and its paginated form,
 * GetBucketLocation and GetBucketTagging. Bucket names are global, so a
 * bucket is found by its ARN among every account's; another account's
 * bucket exists but is AccessDenied, and a tag read signed for the wrong
 * region is sent to the bucket's own with a 301, as S3 does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "emulator.h"
#include "errbuf.h"
#include "xmalloc.h"

#define S3_XML_PROLOG	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define S3_CONTENT_TYPE	"application/xml"
#define S3_MAX_BUCKETS	10000	/* max-buckets limit and default page */
#define S3_NAME_MAX	63

/* An element S3 adds to some errors (BucketName, Endpoint, ...). */
struct s3_extra {
	const char	*name;
	const char	*value;
};

/* ListBuckets' view of the caller's buckets, sorted by name. */
struct s3_listing {
	const struct emu_resource	**items;
	size_t				  n;
	const char			 *prefix;	/* NULL: none */
	const char			 *region;	/* bucket-region or NULL */
	int				  paged;	/* a parameter was given */
};

/*
 * reply_error's S3 <Error> plus the elements S3 adds for the error, such as
 * BucketName, or Endpoint and Bucket for a redirect.
 */
static void
s3_error(struct emu_req *req, int status, const char *code, const char *msg,
    const struct s3_extra *extra, size_t nextra)
{
	struct evbuffer *b = req->out;
	size_t i;

	evbuffer_drain(b, evbuffer_get_length(b));
	evbuffer_add_printf(b, S3_XML_PROLOG "<Error>");
	xml_text(b, "Code", code);
	xml_text(b, "Message", msg);
	for (i = 0; i < nextra; i++)
		xml_text(b, extra[i].name, extra[i].value);
	xml_text(b, "RequestId", req->reqid);
	xml_text(b, "HostId", req->reqid);
	xml_close(b, "Error");
	req->status = status;
	snprintf(req->errcode, sizeof(req->errcode), "%s", code);
	req->content_type = S3_CONTENT_TYPE;
}

/* "/NAME" or "/NAME/": the bucket of a path-style request, else -1. */
static int
s3_path_bucket(const char *path, char *name, size_t namesz)
{
	size_t n;

	if (path[0] != '/')
		return -1;
	n = strcspn(path + 1, "/");
	if (n == 0 || n >= namesz || (path[1 + n] == '/' && path[2 + n] != '\0'))
		return -1;
	memcpy(name, path + 1, n);
	name[n] = '\0';
	return 0;
}

/*
 * The path's bucket, whoever owns it, or NULL after replying NoSuchBucket.
 * Names are unique across S3, as the fixture's ARNs arn:aws:s3:::NAME are.
 */
static const struct emu_resource *
s3_find(struct emu_req *req, char *name, size_t namesz)
{
	const struct emu_resource *r = NULL;
	struct s3_extra extra;
	char arn[128];

	if (s3_path_bucket(req->path, name, namesz) == 0) {
		snprintf(arn, sizeof(arn), "arn:aws:s3:::%s", name);
		r = fixture_by_arn(req->srv->fx, arn);
	} else
		snprintf(name, namesz, "%s", "");
	if (r != NULL && strcmp(r->type, "s3:bucket") == 0)
		return r;
	extra.name = "BucketName";
	extra.value = name;
	s3_error(req, 404, "NoSuchBucket", "The specified bucket does not "
	    "exist", &extra, 1);
	return NULL;
}

/*
 * A bucket of another account: S3 says it exists but refuses; so it does
 * when x-amz-expected-bucket-owner names another account than the owner.
 */
static int
s3_owned(struct emu_req *req, const struct emu_resource *r)
{
	const char *expected = request_header(req,
	    "x-amz-expected-bucket-owner");

	if (r->account == req->account && (expected == NULL ||
	    strcmp(expected, r->account->id) == 0))
		return 1;
	s3_error(req, 403, "AccessDenied", "Access Denied", NULL, 0);
	return 0;
}

/*
 * A request signed for another region than the bucket's: 301 with the
 * bucket's region in x-amz-bucket-region, which clients follow.
 */
static int
s3_in_region(struct emu_req *req, const struct emu_resource *r)
{
	struct s3_extra extra[2];
	char endpoint[128];

	if (strcmp(r->region, req->region) == 0)
		return 1;
	snprintf(endpoint, sizeof(endpoint), "%s.s3.%s.amazonaws.com", r->id,
	    r->region);
	extra[0].name = "Endpoint";
	extra[0].value = endpoint;
	extra[1].name = "Bucket";
	extra[1].value = r->id;
	s3_error(req, 301, "PermanentRedirect", "The bucket you are attempting "
	    "to access must be addressed using the specified endpoint. Please "
	    "send all future requests to this endpoint.", extra, 2);
	evhttp_add_header(evhttp_request_get_output_headers(req->http),
	    "x-amz-bucket-region", r->region);
	return 0;
}

static int
s3_name_cmp(const void *a, const void *b)
{
	const struct emu_resource *const *ra = a, *const *rb = b;

	return strcmp((*ra)->id, (*rb)->id);
}

/* The caller's buckets of every region, filtered, in S3's name order. */
static void
s3_collect(struct emu_req *req, struct s3_listing *l)
{
	const struct emu_account *a = req->account;
	const struct emu_resource *r;
	size_t i, j, cap = 0;

	for (i = 0; i < a->nregions; i++)
		for (j = 0; j < a->regions[i].nres; j++) {
			r = &a->regions[i].res[j];
			if (strcmp(r->type, "s3:bucket") != 0 ||
			    (l->prefix != NULL && strncmp(r->id, l->prefix,
			    strlen(l->prefix)) != 0) ||
			    (l->region != NULL && strcmp(r->region,
			    l->region) != 0))
				continue;
			if (l->n == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				l->items = xreallocarray(l->items, cap,
				    sizeof(*l->items));
			}
			l->items[l->n++] = r;
		}
	if (l->n > 1)
		qsort(l->items, l->n, sizeof(*l->items), s3_name_cmp);
}

static void
s3_owner(struct emu_req *req)
{
	char id[80];

	/* A canonical user id is 64 hex digits; derive a stable one. */
	ids_derive_hex("", req->account->id, 64, id, sizeof(id));
	xml_open(req->out, "Owner");
	xml_text(req->out, "ID", id);
	xml_text(req->out, "DisplayName", req->account->alias[0] != '\0' ?
	    req->account->alias : req->account->id);
	xml_close(req->out, "Owner");
}

static void
s3_bucket_xml(struct emu_req *req, const struct s3_listing *l,
    const struct emu_resource *r)
{
	char when[32];

	isotime_format(r->created, 1, when);
	xml_open(req->out, "Bucket");
	xml_text(req->out, "Name", r->id);
	xml_text(req->out, "CreationDate", when);
	/* AWS shows BucketRegion only when a list parameter was given. */
	if (l->paged)
		xml_text(req->out, "BucketRegion", r->region);
	xml_close(req->out, "Bucket");
}

static void
s3_list_reply(struct emu_req *req, const struct s3_listing *l,
    const struct page *pg, size_t next, const char *token)
{
	size_t i;

	evbuffer_add_printf(req->out, S3_XML_PROLOG "<ListAllMyBucketsResult "
	    "xmlns=\"%s\">", req->svc->xmlns);
	s3_owner(req);
	xml_open(req->out, "Buckets");
	for (i = pg->resume; i < next; i++)
		s3_bucket_xml(req, l, l->items[i]);
	xml_close(req->out, "Buckets");
	if (token[0] != '\0')
		xml_text(req->out, "ContinuationToken", token);
	if (l->prefix != NULL)
		xml_text(req->out, "Prefix", l->prefix);
	xml_close(req->out, "ListAllMyBucketsResult");
	reply_raw(req, 200, S3_CONTENT_TYPE);
}

/*
 * Without parameters every bucket comes in one answer; with any of
 * max-buckets, continuation-token, prefix or bucket-region, pages of
 * max-buckets (default 10,000) with a ContinuationToken while more remain.
 */
static void
s3_list_buckets(struct emu_req *req)
{
	const char *token = request_param(req, "continuation-token");
	struct s3_listing l;
	struct errbuf err;
	struct page pg;
	long long max;
	size_t next;
	char out[512];

	memset(&l, 0, sizeof(l));
	l.prefix = request_param(req, "prefix");
	l.region = request_param(req, "bucket-region");
	l.paged = token != NULL || l.prefix != NULL || l.region != NULL ||
	    request_param(req, "max-buckets") != NULL;
	if (request_param_int(req, "max-buckets", 1, S3_MAX_BUCKETS,
	    S3_MAX_BUCKETS, &max, &err) == -1 || page_start(req, token,
	    l.paged ? (size_t)max : SIZE_MAX, &pg, &err) == -1) {
		s3_error(req, 400, "InvalidArgument", err.msg, NULL, 0);
		return;
	}
	s3_collect(req, &l);
	if (pg.resume > l.n)
		pg.resume = l.n;
	next = l.n - pg.resume > pg.limit ? pg.resume + pg.limit : l.n;
	page_finish(req, &pg, next, l.n, out, sizeof(out));
	s3_list_reply(req, &l, &pg, next, out);
	free(l.items);
}

/* Any region may ask where a bucket is: that is how clients find out. */
static void
s3_get_bucket_location(struct emu_req *req)
{
	const struct emu_resource *r;
	char name[S3_NAME_MAX + 2];

	if ((r = s3_find(req, name, sizeof(name))) == NULL || !s3_owned(req, r))
		return;
	evbuffer_add_printf(req->out, S3_XML_PROLOG);
	/* us-east-1 is the empty constraint, as S3 has always said it. */
	if (strcmp(r->region, "us-east-1") == 0)
		evbuffer_add_printf(req->out, "<LocationConstraint xmlns=\"%s\"/>",
		    req->svc->xmlns);
	else {
		evbuffer_add_printf(req->out, "<LocationConstraint xmlns=\"%s\">",
		    req->svc->xmlns);
		xml_escaped(req->out, r->region);
		xml_close(req->out, "LocationConstraint");
	}
	reply_raw(req, 200, S3_CONTENT_TYPE);
}

/* The region redirect comes before permission: S3 decides it first. */
static void
s3_get_bucket_tagging(struct emu_req *req)
{
	const struct emu_resource *r;
	char name[S3_NAME_MAX + 2];
	struct s3_extra extra;
	size_t i;

	if ((r = s3_find(req, name, sizeof(name))) == NULL ||
	    !s3_in_region(req, r) || !s3_owned(req, r))
		return;
	if (r->ntags == 0) {
		extra.name = "BucketName";
		extra.value = r->id;
		s3_error(req, 404, "NoSuchTagSet", "The TagSet does not exist",
		    &extra, 1);
		return;
	}
	evbuffer_add_printf(req->out, S3_XML_PROLOG "<Tagging xmlns=\"%s\">"
	    "<TagSet>", req->svc->xmlns);
	for (i = 0; i < r->ntags; i++) {
		xml_open(req->out, "Tag");
		xml_text(req->out, "Key", r->tags[i].key);
		xml_text(req->out, "Value", r->tags[i].value);
		xml_close(req->out, "Tag");
	}
	evbuffer_add_printf(req->out, "</TagSet></Tagging>");
	reply_raw(req, 200, S3_CONTENT_TYPE);
}

const struct emu_op svc_s3_ops[] = {
	{ "ListBuckets", 0, s3_list_buckets },
	{ "GetBucketLocation", 0, s3_get_bucket_location },
	{ "GetBucketTagging", 0, s3_get_bucket_tagging },
	{ NULL, 0, NULL },
};

/* Bucket sub-resources, named by a bare query key ("?tagging"). */
static const struct {
	const char	*key;
	const char	*op;
} s3_subresources[] = {
	{ "location", "GetBucketLocation" },
	{ "tagging", "GetBucketTagging" },
};

const struct emu_op *
svc_s3_route(struct emu_req *req)
{
	char name[S3_NAME_MAX + 2];
	size_t i;

	if (strcmp(req->method, "GET") != 0)
		return NULL;
	if (strcmp(req->path, "/") == 0)
		return services_op(req->svc, "ListBuckets");
	if (s3_path_bucket(req->path, name, sizeof(name)) == -1)
		return NULL;
	for (i = 0; i < sizeof(s3_subresources) / sizeof(s3_subresources[0]);
	    i++)
		if (request_param(req, s3_subresources[i].key) != NULL)
			return services_op(req->svc, s3_subresources[i].op);
	return NULL;
}
