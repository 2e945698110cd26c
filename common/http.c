/*
 * AWS calls over libcurl: the service table and endpoint resolution, request
 * building and SigV4 signing, AWS standard retry mode with its retry quota,
 * error decoding and a redacted debug trace. A call is one object driven
 * either by http_send's loop or by a caller's curl multi handle, so both
 * paths build, sign and decide retries the same way.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "awsjson.h"
#include "awsxml.h"
#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "sigv4.h"
#include "strnum.h"
#include "xmalloc.h"

#define HTTP_USER_AGENT	"tagwarden/" PACKAGE_VERSION
#define REDACTED	"[redacted]"

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

struct http_client {
	long			 connect_timeout_ms;
	long			 request_timeout_ms;
	int			 max_attempts;
	size_t			 max_body;
	char			*ca_bundle;
	/* DNS, TLS sessions and the connection pool outlive each call. */
	CURLSH			*share;
	struct sigv4_cache	*sigv4;
	struct http_retry_quota	 quota;
	struct http_hooks	 hooks;
};

struct http_call {
	struct http_client	*client;
	void			*arg;
	const struct aws_service *service;	/* NULL: unsigned plain call */
	char			*region;
	char			*method;
	char			*path;
	char			*query;
	char			*target;		/* full X-Amz-Target */
	char			*content_type;	/* NULL: none */
	char			*body;
	size_t			 body_len;
	char			**plain_headers;
	char			*url;			/* set at first rearm */
	char			*host;			/* Host header value */
	char			 what[256];		/* "sts AssumeRole" */
	CURL			*easy;
	struct curl_slist	*headers;
	const struct aws_creds	*creds;			/* rearm to finish */
	char			 curl_err[CURL_ERROR_SIZE];
	CURLcode		 cc;
	int			 too_large;
	size_t			 body_cap;
	struct http_response	 resp;
	char			 error_type[128];	/* x-amzn-ErrorType */
	char			 retry_after[32];	/* x-amz-retry-after */
	int			 attempt;
	int			 last_cost;
	struct timespec		 started;
};

/* Service table and endpoints. */

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

static int
endpoint_lookup(const struct aws_service *svc, const char *region,
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
	if (endpoint_lookup(svc, region, url, &host, err) == -1)
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

/* Standard retry mode. */

static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};

static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalError",
};

static const long transient_statuses[] = { 500, 502, 503, 504 };

/* Failures before a whole reply arrived that a new attempt may fix. */
static const CURLcode transient_curl[] = {
	CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR,
	CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
	CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM,
};

static int
code_in(const char *code, const char *const *list, size_t n)
{
	size_t i;

	if (code == NULL || *code == '\0')
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

enum http_retry_kind
http_retry_classify(CURLcode cc, long status, const char *code)
{
	size_t i;

	if (cc == CURLE_OPERATION_TIMEDOUT)
		return HTTP_RETRY_TIMEOUT;
	if (cc != CURLE_OK) {
		for (i = 0; i < NELEM(transient_curl); i++)
			if (cc == transient_curl[i])
				return HTTP_RETRY_TRANSIENT;
		return HTTP_RETRY_NONE;
	}
	if (status >= 200 && status < 300)
		return HTTP_RETRY_NONE;
	if (status == 429 || code_in(code, throttle_codes,
	    NELEM(throttle_codes)))
		return HTTP_RETRY_THROTTLE;
	if (code_in(code, transient_codes, NELEM(transient_codes)))
		return HTTP_RETRY_TRANSIENT;
	for (i = 0; i < NELEM(transient_statuses); i++)
		if (status == transient_statuses[i])
			return HTTP_RETRY_TRANSIENT;
	return HTTP_RETRY_NONE;
}

void
http_quota_init(struct http_retry_quota *q)
{
	q->capacity = q->available = HTTP_QUOTA_CAPACITY;
}

int
http_quota_acquire(struct http_retry_quota *q, enum http_retry_kind kind)
{
	int cost;

	if (kind == HTTP_RETRY_NONE)
		return 0;
	cost = kind == HTTP_RETRY_TIMEOUT ? HTTP_QUOTA_TIMEOUT_COST :
	    HTTP_QUOTA_RETRY_COST;
	if (cost > q->available)
		return 0;
	q->available -= cost;
	return cost;
}

void
http_quota_success(struct http_retry_quota *q, int last_cost)
{
	int amount = last_cost > 0 ? last_cost : HTTP_QUOTA_NO_RETRY_REFUND;

	if (amount > q->capacity - q->available)
		amount = q->capacity - q->available;
	q->available += amount;
}

long
http_retry_delay_ms(int attempt, double rnd, const char *retry_after)
{
	const char *errstr;
	long long v;
	double ms;

	if (retry_after != NULL && *retry_after != '\0') {
		v = strnum(retry_after, 0, LLONG_MAX, &errstr);
		if (errstr == NULL)
			return v > HTTP_MAX_BACKOFF_MS ? HTTP_MAX_BACKOFF_MS :
			    (long)v;
	}
	if (!(rnd >= 0.0))	/* also NaN */
		rnd = 0.0;
	if (rnd > 1.0)
		rnd = 1.0;
	/* Past 2^15 s the cap wins anyway; stop before the shift overflows. */
	if (attempt < 1)
		attempt = 1;
	if (attempt > 16)
		attempt = 16;
	ms = rnd * 1000.0 * (double)(1L << (attempt - 1));
	return ms > HTTP_MAX_BACKOFF_MS ? HTTP_MAX_BACKOFF_MS : (long)ms;
}

int
http_retry_decide(struct http_retry_quota *q, enum http_retry_kind kind,
    int attempt, int max_attempts, double rnd, const char *retry_after,
    long *delay_ms, int *cost)
{
	*delay_ms = 0;
	*cost = 0;
	if (kind == HTTP_RETRY_NONE || attempt >= max_attempts)
		return 0;
	if ((*cost = http_quota_acquire(q, kind)) == 0)
		return 0;
	*delay_ms = http_retry_delay_ms(attempt, rnd, retry_after);
	return 1;
}

/* Redaction of secrets in traces and messages. */

static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "x-amz-security-token",
	"x-aws-ec2-metadata-token",
};

char *
http_redact_header(const char *line)
{
	const char *colon;
	size_t i, len;

	if ((colon = strchr(line, ':')) == NULL)
		return xstrdup(line);
	len = (size_t)(colon - line);
	for (i = 0; i < NELEM(secret_headers); i++) {
		if (strlen(secret_headers[i]) == len &&
		    strncasecmp(line, secret_headers[i], len) == 0)
			return xprintf("%.*s: " REDACTED, (int)len, line);
	}
	return xstrdup(line);
}

/* Replace every copy of needle in s (in place, never growing s). */
static void
scrub_needle(char *s, const char *needle)
{
	size_t n, r = strlen(REDACTED);
	char *p;

	if (needle == NULL || (n = strlen(needle)) == 0)
		return;
	while ((p = strstr(s, needle)) != NULL) {
		if (n < r) {
			memset(p, '*', n);
			continue;
		}
		memcpy(p, REDACTED, r);
		memmove(p + r, p + n, strlen(p + n) + 1);
	}
}

/*
 * Query services answer SignatureDoesNotMatch with the canonical request in
 * the message, and that includes the session token header: cut it off.
 */
static void
scrub_message(char *msg, size_t size, const struct aws_creds *creds)
{
	char *p;

	if ((p = strcasestr(msg, "x-amz-security-token")) != NULL)
		snprintf(p, size - (size_t)(p - msg), "[rest redacted]");
	if (creds != NULL) {
		scrub_needle(msg, creds->session_token);
		scrub_needle(msg, creds->secret_access_key);
	}
}

/* Client. */

static double
default_random(void *arg)
{
	(void)arg;
	return (double)arc4random() / 4294967296.0;
}

static void
default_sleep(void *arg, long ms)
{
	struct timespec ts;

	(void)arg;
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

struct http_client *
http_client_new(const struct http_options *opts)
{
	static const struct http_options none;
	struct http_client *cl;
	const char *ca;

	if (opts == NULL)
		opts = &none;
	cl = xcalloc(1, sizeof(*cl));
	cl->connect_timeout_ms = opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms : HTTP_CONNECT_TIMEOUT_MS;
	cl->request_timeout_ms = opts->request_timeout_ms > 0 ?
	    opts->request_timeout_ms : HTTP_REQUEST_TIMEOUT_MS;
	cl->max_attempts = opts->max_attempts > 0 ? opts->max_attempts :
	    HTTP_MAX_ATTEMPTS;
	cl->max_body = opts->max_body > 0 ? opts->max_body : HTTP_MAX_BODY;
	ca = opts->ca_bundle != NULL ? opts->ca_bundle :
	    getenv("AWS_CA_BUNDLE");
	if (ca != NULL && *ca != '\0')
		cl->ca_bundle = xstrdup(ca);
	if ((cl->share = curl_share_init()) == NULL)
		fatalx("curl_share_init failed");
	curl_share_setopt(cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(cl->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	cl->sigv4 = sigv4_cache_new();
	http_quota_init(&cl->quota);
	http_client_set_hooks(cl, NULL);
	return cl;
}

void
http_client_free(struct http_client *cl)
{
	if (cl == NULL)
		return;
	/* Fails only while a call still holds the share: a caller bug. */
	if (curl_share_cleanup(cl->share) != CURLSHE_OK)
		fatalx("http_client_free: calls still open");
	sigv4_cache_free(cl->sigv4);
	free(cl->ca_bundle);
	free(cl);
}

int
http_client_quota(const struct http_client *cl)
{
	return cl->quota.available;
}

void
http_client_set_hooks(struct http_client *cl, const struct http_hooks *h)
{
	cl->hooks.random = h != NULL && h->random != NULL ? h->random :
	    default_random;
	cl->hooks.sleep_ms = h != NULL && h->sleep_ms != NULL ? h->sleep_ms :
	    default_sleep;
	cl->hooks.arg = h != NULL ? h->arg : NULL;
}

/* Response capture. */

static size_t
call_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_call *c = arg;
	struct http_response *r = &c->resp;
	size_t len = size * n, want;

	if (len > c->client->max_body - r->body_len) {
		c->too_large = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	if (r->body_len + len + 1 > c->body_cap) {
		want = c->body_cap < 4096 ? 4096 : c->body_cap;
		while (want < r->body_len + len + 1)
			want *= 2;
		r->body = xreallocarray(r->body, 1, want);
		c->body_cap = want;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

#define CALL_FIELD(f)	offsetof(struct http_call, f), \
	sizeof(((struct http_call *)NULL)->f)

static const struct {
	const char	*name;
	size_t		 offset;
	size_t		 size;
} captured_headers[] = {
	{ "x-amzn-RequestId", CALL_FIELD(resp.request_id) },
	{ "x-amz-request-id", CALL_FIELD(resp.request_id) },
	{ "Content-Type", CALL_FIELD(resp.content_type) },
	{ "x-amzn-ErrorType", CALL_FIELD(error_type) },
	{ "x-amz-retry-after", CALL_FIELD(retry_after) },
};

static void
call_clear_captures(struct http_call *c)
{
	size_t i;

	for (i = 0; i < NELEM(captured_headers); i++)
		*((char *)c + captured_headers[i].offset) = '\0';
}

static size_t
call_header(char *buf, size_t size, size_t n, void *arg)
{
	struct http_call *c = arg;
	size_t len = size * n, namelen, vlen, i;
	const char *colon, *v, *end = buf + len;

	/* A new status line (after 100 Continue, say) starts a new set. */
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		call_clear_captures(c);
		return len;
	}
	if ((colon = memchr(buf, ':', len)) == NULL)
		return len;
	namelen = (size_t)(colon - buf);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (i = 0; i < NELEM(captured_headers); i++) {
		if (strlen(captured_headers[i].name) != namelen ||
		    strncasecmp(buf, captured_headers[i].name, namelen) != 0)
			continue;
		vlen = (size_t)(end - v);
		if (vlen >= captured_headers[i].size)
			vlen = captured_headers[i].size - 1;
		memcpy((char *)c + captured_headers[i].offset, v, vlen);
		*((char *)c + captured_headers[i].offset + vlen) = '\0';
	}
	return len;
}

/* Building a call. */

static struct http_call *
call_alloc(struct http_client *cl, const char *method, const char *body,
    size_t body_len, void *arg)
{
	struct http_call *c;

	c = xcalloc(1, sizeof(*c));
	c->client = cl;
	c->arg = arg;
	c->method = xstrdup(method);
	if (body != NULL) {
		c->body = xmalloc(body_len + 1);
		memcpy(c->body, body, body_len);
		c->body[body_len] = '\0';
		c->body_len = body_len;
	}
	if ((c->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	/* Until an attempt finishes there is nothing to report but this. */
	c->cc = CURLE_FAILED_INIT;
	snprintf(c->curl_err, sizeof(c->curl_err), "request not sent");
	return c;
}

/* Query protocol: the operation is the Action parameter of the form. */
static int
query_action(const char *form, char *out, size_t size)
{
	const char *p = form;
	size_t n;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, "Action=", 7) == 0) {
			p += 7;
			n = strcspn(p, "&");
			snprintf(out, size, "%.*s", (int)n, p);
			return n > 0 ? 0 : -1;
		}
		if ((p = strchr(p, '&')) != NULL)
			p++;
	}
	return -1;
}

/* What the user sees in messages: "<service> <operation>". */
static void
call_describe(struct http_call *c, const char *target)
{
	const struct aws_service *svc = c->service;
	const char *dot;
	char op[128];

	if (target != NULL) {
		dot = strrchr(target, '.');
		snprintf(op, sizeof(op), "%s", dot != NULL ? dot + 1 : target);
	} else if (svc->protocol != AWS_PROTO_QUERY ||
	    (query_action(c->body, op, sizeof(op)) == -1 &&
	    query_action(c->query, op, sizeof(op)) == -1))
		snprintf(op, sizeof(op), "%s %s", c->method, c->path);
	snprintf(c->what, sizeof(c->what), "%s %s", svc->id, op);
}

/* Content-Type per protocol; REST ones send it only with a body. */
static const struct {
	const char	*content_type;	/* NULL: JSON, built from the version */
	int		 body_only;
} protocol_rows[] = {
	[AWS_PROTO_QUERY] = {
	    "application/x-www-form-urlencoded; charset=utf-8", 0 },
	[AWS_PROTO_JSON] = { NULL, 0 },
	[AWS_PROTO_REST_XML] = { "application/xml", 1 },
	[AWS_PROTO_REST_JSON] = { "application/json", 1 },
};

static void
call_set_protocol(struct http_call *c, const char *target)
{
	const struct aws_service *svc = c->service;

	if (target != NULL && strchr(target, '.') == NULL &&
	    svc->target_prefix != NULL)
		c->target = xprintf("%s.%s", svc->target_prefix, target);
	else if (target != NULL)
		c->target = xstrdup(target);
	if (protocol_rows[svc->protocol].body_only && c->body == NULL)
		return;
	if (protocol_rows[svc->protocol].content_type != NULL)
		c->content_type = xstrdup(
		    protocol_rows[svc->protocol].content_type);
	else
		c->content_type = xprintf("application/x-amz-json-%s",
		    svc->json_version != NULL ? svc->json_version : "1.1");
}

struct http_call *
http_call_new(struct http_client *cl, const struct http_request *req,
    void *arg)
{
	struct http_call *c;

	if (req->service == NULL || req->method == NULL)
		fatalx("http_call_new: request without service or method");
	c = call_alloc(cl, req->method, req->body, req->body_len, arg);
	c->service = req->service;
	c->region = req->region != NULL ? xstrdup(req->region) : NULL;
	c->path = xstrdup(req->path != NULL && *req->path != '\0' ?
	    req->path : "/");
	if (req->query != NULL && *req->query != '\0')
		c->query = xstrdup(req->query);
	call_set_protocol(c, req->target);
	call_describe(c, req->target);
	return c;
}

static struct http_call *
call_new_plain(struct http_client *cl, const char *method, const char *url,
    const char *const *headers, const char *body)
{
	struct http_call *c;
	size_t i, n = 0;

	c = call_alloc(cl, method, body, body != NULL ? strlen(body) : 0,
	    NULL);
	c->url = xstrdup(url);
	while (headers != NULL && headers[n] != NULL)
		n++;
	c->plain_headers = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		c->plain_headers[i] = xstrdup(headers[i]);
	snprintf(c->what, sizeof(c->what), "%s %s", method, url);
	return c;
}

/* The slist holds the token and signature: wipe before curl frees it. */
static void
headers_free(struct curl_slist *list)
{
	struct curl_slist *p;

	for (p = list; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(list);
}

static void
call_add_line(struct http_call *c, const char *line)
{
	struct curl_slist *l;

	if ((l = curl_slist_append(c->headers, line)) == NULL)
		fatalx("curl_slist_append: out of memory");
	c->headers = l;
}

static void
call_add_header(struct http_call *c, const char *name, const char *value)
{
	char *line;

	line = xprintf("%s: %s", name, value);
	call_add_line(c, line);
	explicit_bzero(line, strlen(line));
	free(line);
}

void
http_call_free(struct http_call *c)
{
	size_t i;

	if (c == NULL)
		return;
	curl_easy_cleanup(c->easy);
	headers_free(c->headers);
	http_response_clear(&c->resp);
	for (i = 0; c->plain_headers != NULL && c->plain_headers[i] != NULL;
	    i++) {
		explicit_bzero(c->plain_headers[i],
		    strlen(c->plain_headers[i]));
		free(c->plain_headers[i]);
	}
	free(c->plain_headers);
	free(c->region);
	free(c->method);
	free(c->path);
	free(c->query);
	free(c->target);
	free(c->content_type);
	free(c->body);
	free(c->url);
	free(c->host);
	free(c);
}

CURL *
http_call_easy(struct http_call *c)
{
	return c->easy;
}

void *
http_call_arg(struct http_call *c)
{
	return c->arg;
}

struct http_response *
http_call_response(struct http_call *c)
{
	return &c->resp;
}

const struct curl_slist *
http_call_headers(const struct http_call *c)
{
	return c->headers;
}

/* Each attempt. */

static int
call_resolve(struct http_call *c, struct errbuf *err)
{
	char *base;

	if (c->url != NULL)
		return 0;
	if (endpoint_lookup(c->service, c->region, &base, &c->host,
	    err) == -1)
		return err_prefix(err, "%s", c->what);
	c->url = xprintf("%s%s%s%s", base, c->path, c->query != NULL ? "?" :
	    "", c->query != NULL ? c->query : "");
	free(base);
	return 0;
}

static void
call_reset(struct http_call *c)
{
	http_response_clear(&c->resp);
	c->body_cap = 0;
	c->too_large = 0;
	c->error_type[0] = '\0';
	c->retry_after[0] = '\0';
	c->curl_err[0] = '\0';
	c->cc = CURLE_FAILED_INIT;
	headers_free(c->headers);
	c->headers = NULL;
	/* Keeps the share, so the pooled connection stays usable. */
	curl_easy_reset(c->easy);
}

static void
call_sigv4_request(const struct http_call *c, struct sigv4_header *h,
    size_t n, struct sigv4_request *sr)
{
	memset(sr, 0, sizeof(*sr));
	sr->method = c->method;
	sr->path = c->path;
	sr->query = c->query;
	sr->headers = h;
	sr->nheaders = n;
	sr->body = c->body != NULL ? c->body : "";
	sr->body_len = c->body_len;
	sr->payload_hash = NULL;
	sr->region = aws_signing_region(c->service, c->region);
	sr->service = c->service->signing_name;
	sr->when = time(NULL);
	sr->s3 = c->service->s3_signing;
}

static int
call_sign(struct http_call *c, const struct aws_creds *creds,
    struct errbuf *err)
{
	struct sigv4_header h[3];
	struct sigv4_request sr;
	struct sigv4_signed sig;
	size_t n = 0;

	h[n++] = (struct sigv4_header){ "host", c->host };
	if (c->content_type != NULL)
		h[n++] = (struct sigv4_header){ "content-type",
		    c->content_type };
	if (c->target != NULL)
		h[n++] = (struct sigv4_header){ "x-amz-target", c->target };
	call_sigv4_request(c, h, n, &sr);
	if (sigv4_sign(c->client->sigv4, creds, &sr, &sig, err) == -1)
		return err_prefix(err, "%s", c->what);
	call_add_header(c, "Host", c->host);
	/* Otherwise curl adds its form Content-Type to a bodiless POST. */
	if (c->content_type != NULL)
		call_add_header(c, "Content-Type", c->content_type);
	else
		call_add_line(c, "Content-Type:");
	if (c->target != NULL)
		call_add_header(c, "X-Amz-Target", c->target);
	call_add_header(c, "X-Amz-Date", sig.amz_date);
	if (sig.content_sha256[0] != '\0')
		call_add_header(c, "X-Amz-Content-SHA256", sig.content_sha256);
	if (sig.security_token != NULL)
		call_add_header(c, "X-Amz-Security-Token", sig.security_token);
	call_add_header(c, "Authorization", sig.authorization);
	explicit_bzero(&sig, sizeof(sig));
	return 0;
}

static void
call_set_method(struct http_call *c)
{
	CURL *e = c->easy;

	/* POST always carries a body, even empty, or curl would read stdin. */
	if (c->body != NULL || strcmp(c->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
		    c->body != NULL ? c->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)c->body_len);
		if (strcmp(c->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	} else if (strcmp(c->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(c->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
}

static void
call_set_options(struct http_call *c)
{
	const struct http_client *cl = c->client;
	CURL *e = c->easy;

	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_SHARE, cl->share);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)c);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cl->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cl->request_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, call_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, call_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)c);
	if (cl->ca_bundle != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, cl->ca_bundle);
	call_set_method(c);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
}

static void
call_trace_request(const struct http_call *c)
{
	const struct curl_slist *p;
	char *line;

	if (log_get_level() > LOG_LEVEL_DEBUG)
		return;
	log_debug("http: > %s %s (attempt %d)", c->method, c->url, c->attempt);
	for (p = c->headers; p != NULL; p = p->next) {
		line = http_redact_header(p->data);
		log_debug("http: >   %s", line);
		free(line);
	}
}

int
http_call_rearm(struct http_call *c, const struct aws_creds *creds,
    struct errbuf *err)
{
	size_t i;

	if (c->service != NULL && call_resolve(c, err) == -1)
		return -1;
	call_reset(c);
	if (c->service != NULL) {
		if (creds == NULL)
			return err_set(err, "%s: no AWS credentials", c->what);
		if (call_sign(c, creds, err) == -1)
			return -1;
	}
	for (i = 0; c->plain_headers != NULL && c->plain_headers[i] != NULL;
	    i++)
		call_add_line(c, c->plain_headers[i]);
	call_add_header(c, "User-Agent", HTTP_USER_AGENT);
	/* 100-continue buys nothing from AWS and costs a round trip. */
	call_add_line(c, "Expect:");
	call_set_options(c);
	c->attempt++;
	c->creds = creds;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	call_trace_request(c);
	return 0;
}

/* Each reply. */

static void
call_decode_error(struct http_call *c)
{
	struct http_response *r = &c->resp;
	const char *ct = r->content_type, *etype = NULL;
	char msg[4096], *colon;
	int json, rc;

	/* x-amzn-ErrorType is "Code:http://internal..." at times. */
	if ((colon = strchr(c->error_type, ':')) != NULL)
		*colon = '\0';
	if (c->error_type[0] != '\0')
		etype = c->error_type;
	json = strcasestr(ct, "json") != NULL || (strcasestr(ct, "xml") ==
	    NULL && (c->service->protocol == AWS_PROTO_JSON ||
	    c->service->protocol == AWS_PROTO_REST_JSON));
	msg[0] = '\0';
	if (json)
		rc = awsjson_error(r->body, r->body_len, etype, r->error_code,
		    sizeof(r->error_code), msg, sizeof(msg));
	else
		rc = awsxml_error(r->body, r->body_len, r->error_code,
		    sizeof(r->error_code), msg, sizeof(msg));
	if (rc == -1) {
		snprintf(r->error_code, sizeof(r->error_code), "%s",
		    etype != NULL ? etype : "");
		msg[0] = '\0';
	}
	scrub_message(msg, sizeof(msg), c->creds);
	snprintf(r->error_message, sizeof(r->error_message), "%s", msg);
}

static long
call_elapsed_ms(const struct http_call *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - c->started.tv_sec) * 1000 +
	    (now.tv_nsec - c->started.tv_nsec) / 1000000;
}

static void
call_trace_reply(const struct http_call *c)
{
	const struct http_response *r = &c->resp;

	if (log_get_level() > LOG_LEVEL_DEBUG)
		return;
	if (c->cc != CURLE_OK)
		log_debug("http: < %s %s: %s (attempt %d, %ld ms)", c->method,
		    c->url, c->curl_err[0] != '\0' ? c->curl_err :
		    curl_easy_strerror(c->cc), c->attempt, call_elapsed_ms(c));
	else
		log_debug("http: < %s %s: HTTP %ld%s%s (attempt %d, %ld ms, "
		    "%zu bytes, request id %s)", c->method, c->url, r->status,
		    r->error_code[0] != '\0' ? " " : "", r->error_code,
		    c->attempt, call_elapsed_ms(c), r->body_len,
		    r->request_id[0] != '\0' ? r->request_id : "none");
}

static void
call_collect(struct http_call *c, CURLcode cc)
{
	struct http_response *r = &c->resp;
	long status = 0;

	c->cc = cc;
	if (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		status = 0;
	r->status = status;
	r->attempts = c->attempt;
	if (r->body == NULL)
		r->body = xstrdup("");
	if (cc == CURLE_OK && status >= 300 && c->service != NULL)
		call_decode_error(c);
	call_trace_reply(c);
}

enum http_verdict
http_call_finish(struct http_call *c, CURLcode cc, long *retry_ms)
{
	struct http_client *cl = c->client;
	enum http_retry_kind kind;
	int cost;

	*retry_ms = 0;
	call_collect(c, cc);
	c->creds = NULL;
	if (cc == CURLE_OK && c->resp.status >= 200 && c->resp.status < 300) {
		http_quota_success(&cl->quota, c->last_cost);
		return HTTP_VERDICT_DONE;
	}
	kind = c->too_large ? HTTP_RETRY_NONE :
	    http_retry_classify(cc, c->resp.status, c->resp.error_code);
	if (!http_retry_decide(&cl->quota, kind, c->attempt, cl->max_attempts,
	    cl->hooks.random(cl->hooks.arg), c->retry_after, retry_ms, &cost))
		return HTTP_VERDICT_DONE;
	c->last_cost = cost;
	log_debug("http: %s: retry in %ld ms (quota %d left)", c->what,
	    *retry_ms, cl->quota.available);
	return HTTP_VERDICT_RETRY;
}

static int
call_error_curl(const struct http_call *c, struct errbuf *err)
{
	const struct http_client *cl = c->client;
	int n = c->resp.attempts;

	if (c->too_large && cl->max_body % (1024 * 1024) == 0)
		return err_set(err, "%s failed: response body larger than the "
		    "%zu MiB limit", c->what, cl->max_body / (1024 * 1024));
	if (c->too_large)
		return err_set(err, "%s failed: response body larger than the "
		    "%zu byte limit", c->what, cl->max_body);
	return err_set(err, "%s failed: %s (after %d attempt%s)", c->what,
	    c->curl_err[0] != '\0' ? c->curl_err : curl_easy_strerror(c->cc),
	    n, n == 1 ? "" : "s");
}

int
http_call_error(const struct http_call *c, struct errbuf *err)
{
	const struct http_response *r = &c->resp;
	char tail[256];
	int n;

	if (c->cc == CURLE_OK && r->status >= 200 && r->status < 300)
		return 0;
	if (c->cc != CURLE_OK)
		return call_error_curl(c, err);
	n = snprintf(tail, sizeof(tail), "HTTP %ld", r->status);
	if (r->request_id[0] != '\0')
		n += snprintf(tail + n, sizeof(tail) - (size_t)n,
		    ", request id %s", r->request_id);
	if (r->attempts > 1)
		snprintf(tail + n, sizeof(tail) - (size_t)n,
		    ", after %d attempts", r->attempts);
	if (r->error_code[0] == '\0')
		return err_set(err, "%s failed: %s", c->what, tail);
	if (r->error_message[0] == '\0')
		return err_set(err, "%s failed: %s (%s)", c->what,
		    r->error_code, tail);
	return err_set(err, "%s failed: %s: %s (%s)", c->what, r->error_code,
	    r->error_message, tail);
}

/* The blocking form: the same call, driven by curl_easy_perform. */

static int
call_run(struct http_call *c, const struct aws_creds *creds,
    struct http_response *resp, struct errbuf *err)
{
	const struct http_hooks *h = &c->client->hooks;
	long ms;
	int rc;

	for (;;) {
		if (http_call_rearm(c, creds, err) == -1) {
			rc = -1;
			break;
		}
		if (http_call_finish(c, curl_easy_perform(c->easy), &ms) ==
		    HTTP_VERDICT_DONE) {
			rc = http_call_error(c, err);
			break;
		}
		h->sleep_ms(h->arg, ms);
	}
	*resp = c->resp;
	memset(&c->resp, 0, sizeof(c->resp));
	return rc;
}

int
http_send(struct http_client *cl, const struct aws_creds *creds,
    const struct http_request *req, struct http_response *resp,
    struct errbuf *err)
{
	struct http_call *c;
	int rc;

	memset(resp, 0, sizeof(*resp));
	c = http_call_new(cl, req, NULL);
	rc = call_run(c, creds, resp, err);
	http_call_free(c);
	return rc;
}

int
http_plain(struct http_client *cl, const char *method, const char *url,
    const char *const *headers, const char *body, struct http_response *resp,
    struct errbuf *err)
{
	struct http_call *c;
	int rc;

	memset(resp, 0, sizeof(*resp));
	c = call_new_plain(cl, method, url, headers, body);
	rc = call_run(c, NULL, resp, err);
	http_call_free(c);
	return rc;
}

void
http_response_clear(struct http_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}
