/*
 * Lambda (REST-JSON, 2015-03-31): ListFunctions with Marker/MaxItems over
 * the caller's functions in the request's region, and ListTags by function
 * ARN. Function settings come from the fixture resource's attributes
 * (README.md, section Lambda, ECS, Organizations and Cost Explorer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <openssl/evp.h>

#include "emulator.h"
#include "errbuf.h"

#define LAMBDA_TYPE		"lambda:function"
#define LAMBDA_PAGE_MAX		50	/* AWS caps a page at 50 items */
#define LAMBDA_MAX_ITEMS	10000	/* the model's MaxListItems */
#define LAMBDA_LIST_PATH	"/2015-03-31/functions"
#define LAMBDA_TAGS_PATH	"/2017-03-31/tags/"

static const char *
lambda_attr(const struct emu_resource *r, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(r->attrs, key));

	return v != NULL ? v : def;
}

static json_int_t
lambda_attr_int(const struct emu_resource *r, const char *key, json_int_t def)
{
	json_t *v = json_object_get(r->attrs, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* Lambda's own timestamp shape: "2024-01-01T00:00:00.000+0000". */
static void
lambda_time(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%S.000+0000", &tm);
}

/* A stable stand-in for the base64 SHA-256 of the deployment package. */
static void
lambda_code_sha(const char *arn, char out[64])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(arn, strlen(arn), md, &n, EVP_sha256(), NULL) != 1)
		n = 0;
	EVP_EncodeBlock((unsigned char *)out, md, (int)n);
}

static json_t *
lambda_config(const struct emu_resource *r)
{
	char when[40], role[512], sha[64], rev[64];

	lambda_time(r->created, when, sizeof(when));
	snprintf(role, sizeof(role), "arn:aws:iam::%s:role/service-role/"
	    "%s-role", r->account->id, r->id);
	lambda_code_sha(r->arn, sha);
	ids_derive_hex("", r->arn, 32, rev, sizeof(rev));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s, "
	    "s:s, s:s, s:s, s:{s:s}, s:s, s:[s], s:{s:I}, s:{s:s, s:s}}",
	    "FunctionName", r->id, "FunctionArn", r->arn,
	    "Runtime", lambda_attr(r, "runtime", "python3.12"),
	    "Role", lambda_attr(r, "role", role),
	    "Handler", lambda_attr(r, "handler", "index.handler"),
	    "CodeSize", lambda_attr_int(r, "code_size", 1024),
	    "Description", lambda_attr(r, "description", ""),
	    "Timeout", lambda_attr_int(r, "timeout", 3),
	    "MemorySize", lambda_attr_int(r, "memory_size", 128),
	    "LastModified", when, "CodeSha256", sha,
	    "Version", "$LATEST", "RevisionId", rev,
	    "TracingConfig", "Mode", "PassThrough",
	    "PackageType", lambda_attr(r, "package_type", "Zip"),
	    "Architectures", lambda_attr(r, "architecture", "x86_64"),
	    "EphemeralStorage", "Size", (json_int_t)512,
	    "SnapStart", "ApplyOn", "None", "OptimizationStatus", "Off");
}

/* AWS's generic constraint message, e.g. for MaxItems=0. */
static int
lambda_max_items(struct emu_req *req, size_t *page)
{
	const char *s = request_param(req, "MaxItems");
	struct errbuf err;
	long long n;

	if (request_param_int(req, "MaxItems", 1, LAMBDA_MAX_ITEMS,
	    LAMBDA_PAGE_MAX, &n, &err) == -1) {
		reply_error(req, 400, "ValidationException", "1 validation "
		    "error detected: Value '%s' at 'maxItems' failed to "
		    "satisfy constraint: Member must have value %s", s,
		    strtoll(s, NULL, 10) < 1 ? "greater than or equal to 1" :
		    "less than or equal to 10000");
		return -1;
	}
	*page = n < LAMBDA_PAGE_MAX ? (size_t)n : LAMBDA_PAGE_MAX;
	return 0;
}

static int
lambda_check_version(struct emu_req *req)
{
	const char *v = request_param(req, "FunctionVersion");

	if (v == NULL || strcmp(v, "ALL") == 0)
		return 0;
	reply_error(req, 400, "ValidationException", "1 validation error "
	    "detected: Value '%s' at 'functionVersion' failed to satisfy "
	    "constraint: Member must satisfy enum value set: [ALL]", v);
	return -1;
}

static void
lambda_list_functions(struct emu_req *req)
{
	const struct emu_region *reg = fixture_region(req->account,
	    req->region);
	size_t i, size, total = reg != NULL ? reg->nres : 0;
	json_t *list, *body;
	struct errbuf err;
	char token[512];
	struct page pg;

	if (lambda_max_items(req, &size) == -1 ||
	    lambda_check_version(req) == -1)
		return;
	if (page_start(req, request_param(req, "Marker"), size, &pg,
	    &err) == -1) {
		reply_error(req, 400, "InvalidParameterValueException",
		    "Invalid Marker: %s. Start again without a Marker.",
		    err.msg);
		return;
	}
	list = json_array();
	for (i = pg.resume; i < total && pg.taken < pg.limit; i++)
		if (strcmp(reg->res[i].type, LAMBDA_TYPE) == 0) {
			json_array_append_new(list,
			    lambda_config(&reg->res[i]));
			pg.taken++;
		}
	page_finish(req, &pg, i, total, token, sizeof(token));
	body = json_pack("{s:o}", "Functions", list);
	if (token[0] != '\0')
		json_object_set_new(body, "NextMarker", json_string(token));
	reply_json(req, body);
}

/* arn:aws:lambda:REGION:ACCOUNT:function:NAME, as the model's pattern. */
static int
lambda_arn_ok(const char *arn)
{
	char region[32], account[16], name[256];
	int n = 0;

	if (sscanf(arn, "arn:aws:lambda:%31[a-z0-9-]:%15[0-9]:function:"
	    "%255[a-zA-Z0-9_-]%n", region, account, name, &n) != 3)
		return 0;
	return strlen(account) == 12 && (arn[n] == '\0' || arn[n] == ':');
}

static json_t *
lambda_tags(const struct emu_resource *r)
{
	json_t *tags = json_object();
	size_t i;

	for (i = 0; i < r->ntags; i++)
		json_object_set_new(tags, r->tags[i].key,
		    json_string(r->tags[i].value));
	return tags;
}

/*
 * Another account's or region's function is "not found", as for a name
 * that does not exist: the caller learns nothing about it.
 */
static void
lambda_list_tags(struct emu_req *req)
{
	const char *enc = req->path + strlen(LAMBDA_TAGS_PATH);
	const struct emu_resource *r;
	char *arn;

	arn = evhttp_uridecode(enc, 0, NULL);
	if (arn == NULL || !lambda_arn_ok(arn))
		reply_error(req, 400, "ValidationException", "1 validation "
		    "error detected: Value '%s' at 'resource' failed to "
		    "satisfy constraint: Member must satisfy regular "
		    "expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:"
		    "[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:"
		    "function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
		    arn != NULL ? arn : enc);
	else if ((r = fixture_by_arn(req->srv->fx, arn)) == NULL ||
	    r->account != req->account || strcmp(r->region, req->region) != 0 ||
	    strcmp(r->type, LAMBDA_TYPE) != 0)
		reply_error(req, 404, "ResourceNotFoundException", "Function "
		    "not found: %s", arn);
	else
		reply_json(req, json_pack("{s:o}", "Tags", lambda_tags(r)));
	free(arn);
}

/* The services.c row's route: method and path to an operation. */
const struct emu_op *
svc_lambda_route(struct emu_req *req)
{
	const char *p = req->path;

	if (strcmp(req->method, "GET") != 0)
		return NULL;
	if (strcmp(p, LAMBDA_LIST_PATH) == 0 ||
	    strcmp(p, LAMBDA_LIST_PATH "/") == 0)
		return services_op(req->svc, "ListFunctions");
	if (strncmp(p, LAMBDA_TAGS_PATH, strlen(LAMBDA_TAGS_PATH)) == 0 &&
	    p[strlen(LAMBDA_TAGS_PATH)] != '\0' &&
	    strchr(p + strlen(LAMBDA_TAGS_PATH), '/') == NULL)
		return services_op(req->svc, "ListTags");
	return NULL;
}

const struct emu_op svc_lambda_ops[] = {
	{ "ListFunctions", 0, lambda_list_functions },
	{ "ListTags", 0, lambda_list_tags },
	{ NULL, 0, NULL },
};
