/*
 * http-endpoint owns the AWS service table and endpoint resolution: the
 * regional or global host of a service, or an AWS_ENDPOINT_URL[_<SERVICE>]
 * override checked to be http(s)://host[:port] and nothing more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "errbuf.h"
#include "http.h"
#include "http-internal.h"
#include "log.h"
#include "strnum.h"
#include "xmalloc.h"

/*
 * Global services are signed for and served from one region whatever the
 * caller's region. Endpoints follow the aws partition only (no China or
 * GovCloud hosts); AWS_ENDPOINT_URL covers anything else.
 */
static const struct aws_service services[] = {
	/* id, signing name, host label, env suffix, global region, global host,
	   protocol, JSON version, X-Amz-Target prefix, S3 signing */
	{ "sts", "sts", "sts", "STS", NULL, NULL,
	  AWS_PROTO_QUERY, NULL, NULL, 0 },
	{ "ec2", "ec2", "ec2", "EC2", NULL, NULL,
	  AWS_PROTO_QUERY, NULL, NULL, 0 },
	{ "s3", "s3", "s3", "S3", NULL, NULL,
	  AWS_PROTO_REST_XML, NULL, NULL, 1 },
	{ "tagging", "tagging", "tagging", "RESOURCE_GROUPS_TAGGING_API",
	  NULL, NULL, AWS_PROTO_JSON, "1.1",
	  "ResourceGroupsTaggingAPI_20170126", 0 },
	{ "rds", "rds", "rds", "RDS", NULL, NULL,
	  AWS_PROTO_QUERY, NULL, NULL, 0 },
	{ "lambda", "lambda", "lambda", "LAMBDA", NULL, NULL,
	  AWS_PROTO_REST_JSON, NULL, NULL, 0 },
	{ "ecs", "ecs", "ecs", "ECS", NULL, NULL,
	  AWS_PROTO_JSON, "1.1", "AmazonEC2ContainerServiceV20141113", 0 },
	{ "iam", "iam", "iam", "IAM", "us-east-1", "iam.amazonaws.com",
	  AWS_PROTO_QUERY, NULL, NULL, 0 },
	{ "organizations", "organizations", "organizations", "ORGANIZATIONS",
	  "us-east-1", "organizations.us-east-1.amazonaws.com",
	  AWS_PROTO_JSON, "1.1", "AWSOrganizationsV20161128", 0 },
	{ "ce", "ce", "ce", "COST_EXPLORER", "us-east-1",
	  "ce.us-east-1.amazonaws.com",
	  AWS_PROTO_JSON, "1.1", "AWSInsightsIndexService", 0 },
};

const struct aws_service *
aws_service_find(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(services[i].id, id) == 0)
			return &services[i];
	return NULL;
}

const char *
aws_signing_region(const struct aws_service *svc, const char *region)
{
	return svc->global_region != NULL ? svc->global_region : region;
}

/* The region becomes a host label, so only what AWS uses may pass. */
static int
region_check(const char *region, struct errbuf *err)
{
	size_t len;

	if (region == NULL || *region == '\0')
		return err_set(err, "no AWS region: set AWS_REGION, e.g. "
		    "AWS_REGION=us-east-1");
	len = strlen(region);
	if (len > 32 || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-")
	    != len || region[0] == '-' || region[len - 1] == '-')
		return err_set(err, "region \"%.64s\": not an AWS region name "
		    "(lowercase letters, digits and '-', e.g. us-east-1)",
		    region);
	return 0;
}

static char *
url_part(CURLU *u, CURLUPart part)
{
	char *s = NULL, *r;

	if (curl_url_get(u, part, &s, 0) != CURLUE_OK || s == NULL)
		return NULL;
	r = xstrdup(s);
	curl_free(s);
	return r;
}

/* Parts an endpoint override must not have, with what to tell the user. */
static const struct {
	CURLUPart	 part;
	const char	*problem;
} endpoint_forbidden[] = {
	{ CURLUPART_QUERY, "must not have a query" },
	{ CURLUPART_FRAGMENT, "must not have a fragment" },
	{ CURLUPART_OPTIONS, "must not have login options" },
};

static int
endpoint_check_parts(CURLU *u, const char *var, const char *value,
    struct errbuf *err)
{
	char *s;
	size_t i;

	/* Never echo a URL that carries a password. */
	if ((s = url_part(u, CURLUPART_USER)) != NULL) {
		free(s);
		return err_set(err, "%s: must not contain a user or password; "
		    "use http(s)://host[:port]", var);
	}
	for (i = 0; i < sizeof(endpoint_forbidden) /
	    sizeof(endpoint_forbidden[0]); i++) {
		if ((s = url_part(u, endpoint_forbidden[i].part)) == NULL)
			continue;
		free(s);
		return err_set(err, "%s=\"%.200s\": %s; use http(s)://host"
		    "[:port]", var, value, endpoint_forbidden[i].problem);
	}
	/* A path prefix would have to be signed too; nobody needs one. */
	if ((s = url_part(u, CURLUPART_PATH)) != NULL && strcmp(s, "/") != 0) {
		free(s);
		return err_set(err, "%s=\"%.200s\": must not have a path; use "
		    "http(s)://host[:port]", var, value);
	}
	free(s);
	return 0;
}

static int
port_ok(const char *port)
{
	const char *errstr;

	strnum(port, 1, 65535, &errstr);
	return errstr == NULL;
}

/* scheme://host[:port] into base, host[:port] (the Host header) into host. */
static int
endpoint_build(CURLU *u, const char *var, const char *value, char **base,
    char **host, struct errbuf *err)
{
	char *scheme, *name, *port;
	int rc = -1, deflt;

	scheme = url_part(u, CURLUPART_SCHEME);
	name = url_part(u, CURLUPART_HOST);
	port = url_part(u, CURLUPART_PORT);
	if (scheme == NULL || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0))
		err_set(err, "%s=\"%.200s\": scheme must be http or https, "
		    "e.g. http://127.0.0.1:4566", var, value);
	else if (name == NULL || *name == '\0')
		err_set(err, "%s=\"%.200s\": no host; use "
		    "http(s)://host[:port]", var, value);
	else if (port != NULL && !port_ok(port))
		err_set(err, "%s=\"%.200s\": port must be 1..65535", var,
		    value);
	else {
		deflt = port == NULL || strcmp(port,
		    strcmp(scheme, "https") == 0 ? "443" : "80") == 0;
		*host = deflt ? xstrdup(name) : xprintf("%s:%s", name, port);
		*base = xprintf("%s://%s", scheme, *host);
		rc = 0;
	}
	free(scheme);
	free(name);
	free(port);
	return rc;
}

static int
endpoint_override(const char *var, const char *value, char **base,
    char **host, struct errbuf *err)
{
	CURLU *u;
	CURLUcode uc;
	int rc = -1;

	/* "localhost:4566" would read as a scheme called "localhost". */
	if (strstr(value, "://") == NULL)
		return err_set(err, "%s=\"%.200s\": scheme must be http or "
		    "https, e.g. http://127.0.0.1:4566", var, value);
	if ((u = curl_url()) == NULL)
		fatalx("curl_url: out of memory");
	/* Accept any scheme here so the error can say which ones we take. */
	uc = curl_url_set(u, CURLUPART_URL, value, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK)
		err_set(err, "%s=\"%.200s\": not a URL (%s); use "
		    "http(s)://host[:port]", var, value, curl_url_strerror(uc));
	else if (endpoint_check_parts(u, var, value, err) == 0)
		rc = endpoint_build(u, var, value, base, host, err);
	curl_url_cleanup(u);
	return rc;
}

int
http_endpoint_lookup(const struct aws_service *svc, const char *region,
    char **base, char **host, struct errbuf *err)
{
	char var[96];
	const char *v;

	if (svc->global_region == NULL && region_check(region, err) == -1)
		return -1;
	snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", svc->env_suffix);
	if ((v = getenv(var)) != NULL && *v != '\0')
		return endpoint_override(var, v, base, host, err);
	if ((v = getenv("AWS_ENDPOINT_URL")) != NULL && *v != '\0')
		return endpoint_override("AWS_ENDPOINT_URL", v, base, host,
		    err);
	/*
	 * S3 is addressed path-style on s3.<region>.amazonaws.com too: one
	 * shape for the emulator and AWS, and bucket names with dots work.
	 */
	if (svc->global_host != NULL)
		*host = xstrdup(svc->global_host);
	else
		*host = xprintf("%s.%s.amazonaws.com", svc->endpoint_prefix,
		    region);
	*base = xprintf("https://%s", *host);
	return 0;
}

int
aws_endpoint_resolve(const struct aws_service *svc, const char *region,
    char **url, struct errbuf *err)
{
	char *host;

	*url = NULL;
	if (http_endpoint_lookup(svc, region, url, &host, err) == -1)
		return -1;
	free(host);
	return 0;
}

char *
aws_endpoint_url(const struct aws_service *svc, const char *region)
{
	struct errbuf err;
	char *url;

	if (aws_endpoint_resolve(svc, region, &url, &err) == -1)
		log_warnx("%s", err.msg);
	return url;
}
