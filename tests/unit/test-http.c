/*
 * http: the service table, endpoint resolution and override checks, the
 * headers of a signed request, standard retry mode (classification, quota,
 * backoff), redaction, and the retry loop against a refused loopback port.
 * Expected values come from the AWS endpoint and retry documentation and
 * botocore 1.29's retries/standard.py, stated beside each case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "xmalloc.h"

/* The AWS documentation's example key pair; fake, never valid anywhere. */
#define AKID	"AKIDEXAMPLE"
#define SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN	"FAKE//TOKEN+value/for/tests="

static const char *const endpoint_vars[] = {
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_EC2",
	"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API",
	"AWS_ENDPOINT_URL_RDS", "AWS_ENDPOINT_URL_LAMBDA",
	"AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_IAM",
	"AWS_ENDPOINT_URL_ORGANIZATIONS", "AWS_ENDPOINT_URL_COST_EXPLORER",
};

static int
clear_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(endpoint_vars) / sizeof(endpoint_vars[0]); i++)
		unsetenv(endpoint_vars[i]);
	unsetenv("AWS_CA_BUNDLE");
	return 0;
}

static void
expect_url(const char *id, const char *region, const char *want)
{
	const struct aws_service *svc = aws_service_find(id);
	struct errbuf err;
	char *url = NULL;

	assert_non_null(svc);
	err.msg[0] = '\0';
	if (aws_endpoint_resolve(svc, region, &url, &err) != 0)
		fail_msg("%s in %s: %s", id, region, err.msg);
	assert_string_equal(url, want);
	free(url);
}

static void
expect_endpoint_error(const char *id, const char *want)
{
	const struct aws_service *svc = aws_service_find(id);
	struct errbuf err;
	char *url = (char *)"unchanged";

	err.msg[0] = '\0';
	assert_int_equal(aws_endpoint_resolve(svc, "us-east-1", &url, &err),
	    -1);
	assert_null(url);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
}

static void
test_http_service_table_rows(void **state)
{
	/* Protocols, target prefixes and env names from the AWS API models
	   and the SDKs' service-specific endpoint table. */
	static const struct {
		const char *id, *signing, *suffix, *prefix;
		enum aws_protocol proto;
	} rows[] = {
		{ "sts", "sts", "STS", NULL, AWS_PROTO_QUERY },
		{ "ec2", "ec2", "EC2", NULL, AWS_PROTO_QUERY },
		{ "s3", "s3", "S3", NULL, AWS_PROTO_REST_XML },
		{ "tagging", "tagging", "RESOURCE_GROUPS_TAGGING_API",
		  "ResourceGroupsTaggingAPI_20170126", AWS_PROTO_JSON },
		{ "rds", "rds", "RDS", NULL, AWS_PROTO_QUERY },
		{ "lambda", "lambda", "LAMBDA", NULL, AWS_PROTO_REST_JSON },
		{ "ecs", "ecs", "ECS", "AmazonEC2ContainerServiceV20141113",
		  AWS_PROTO_JSON },
		{ "iam", "iam", "IAM", NULL, AWS_PROTO_QUERY },
		{ "organizations", "organizations", "ORGANIZATIONS",
		  "AWSOrganizationsV20161128", AWS_PROTO_JSON },
		{ "ce", "ce", "COST_EXPLORER", "AWSInsightsIndexService",
		  AWS_PROTO_JSON },
	};
	const struct aws_service *svc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		svc = aws_service_find(rows[i].id);
		assert_non_null(svc);
		assert_string_equal(svc->signing_name, rows[i].signing);
		assert_string_equal(svc->env_suffix, rows[i].suffix);
		assert_int_equal(svc->protocol, rows[i].proto);
		if (rows[i].prefix == NULL)
			assert_null(svc->target_prefix);
		else
			assert_string_equal(svc->target_prefix, rows[i].prefix);
	}
	assert_int_equal(aws_service_find("s3")->s3_signing, 1);
	assert_int_equal(aws_service_find("sts")->s3_signing, 0);
	assert_null(aws_service_find("dynamodb"));
}

static void
test_http_endpoint_regional_defaults(void **state)
{
	(void)state;
	/* Regional STS, not the legacy global sts.amazonaws.com. */
	expect_url("sts", "eu-west-1", "https://sts.eu-west-1.amazonaws.com");
	expect_url("ec2", "us-west-2", "https://ec2.us-west-2.amazonaws.com");
	expect_url("s3", "us-east-1", "https://s3.us-east-1.amazonaws.com");
	expect_url("tagging", "ap-southeast-2",
	    "https://tagging.ap-southeast-2.amazonaws.com");
	expect_url("rds", "eu-central-1", "https://rds.eu-central-1.amazonaws.com");
	expect_url("lambda", "us-east-2", "https://lambda.us-east-2.amazonaws.com");
	expect_url("ecs", "ca-central-1", "https://ecs.ca-central-1.amazonaws.com");
}

static void
test_http_endpoint_global_services(void **state)
{
	static const struct {
		const char *id, *url;
	} rows[] = {
		{ "iam", "https://iam.amazonaws.com" },
		{ "organizations", "https://organizations.us-east-1.amazonaws.com" },
		{ "ce", "https://ce.us-east-1.amazonaws.com" },
	};
	const struct aws_service *svc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* The caller's region changes neither host nor scope. */
		expect_url(rows[i].id, "eu-west-1", rows[i].url);
		expect_url(rows[i].id, NULL, rows[i].url);
		svc = aws_service_find(rows[i].id);
		assert_string_equal(aws_signing_region(svc, "eu-west-1"),
		    "us-east-1");
	}
	assert_string_equal(aws_signing_region(aws_service_find("ec2"),
	    "eu-west-1"), "eu-west-1");
}

static void
test_http_endpoint_overrides_per_service(void **state)
{
	(void)state;
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
	setenv("AWS_ENDPOINT_URL_S3", "http://localhost:9000/", 1);
	setenv("AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API",
	    "https://tagging.example.test:8443", 1);
	setenv("AWS_ENDPOINT_URL_COST_EXPLORER", "http://[::1]:7000", 1);
	/* The service variable beats the general one, trailing '/' goes. */
	expect_url("s3", "us-east-1", "http://localhost:9000");
	expect_url("tagging", "us-east-1", "https://tagging.example.test:8443");
	expect_url("ce", "us-east-1", "http://[::1]:7000");
	/* Without its own variable a service takes AWS_ENDPOINT_URL. */
	expect_url("ec2", "us-west-2", "http://127.0.0.1:4566");
	expect_url("iam", NULL, "http://127.0.0.1:4566");
	/* An empty variable counts as unset. */
	setenv("AWS_ENDPOINT_URL_EC2", "", 1);
	expect_url("ec2", "us-west-2", "http://127.0.0.1:4566");
	unsetenv("AWS_ENDPOINT_URL");
	expect_url("ec2", "us-west-2", "https://ec2.us-west-2.amazonaws.com");
	/* The default port of the scheme is dropped, as in the Host header. */
	setenv("AWS_ENDPOINT_URL_STS", "https://sts.example.test:443", 1);
	expect_url("sts", "us-east-1", "https://sts.example.test");
	setenv("AWS_ENDPOINT_URL_STS", "HTTP://Sts.Example.Test:80", 1);
	expect_url("sts", "us-east-1", "http://Sts.Example.Test");
	clear_env(NULL);
}

static void
test_http_endpoint_rejects_bad_overrides(void **state)
{
	static const struct {
		const char *value, *want;
	} rows[] = {
		{ "ftp://files.example.test", "AWS_ENDPOINT_URL_EC2=\"ftp://"
		  "files.example.test\": scheme must be http or https" },
		{ "localhost:4566", "AWS_ENDPOINT_URL_EC2=\"localhost:4566\": "
		  "scheme must be http or https" },
		{ "http://127.0.0.1:4566/?a=b", "\": must not have a query" },
		{ "http://127.0.0.1:4566/#x", "\": must not have a fragment" },
		{ "http://127.0.0.1:4566/prefix", "\": must not have a path" },
		{ "http://127.0.0.1:0", "\": port must be 1..65535" },
		{ "http://127.0.0.1:99999", "AWS_ENDPOINT_URL_EC2=\"http://"
		  "127.0.0.1:99999\": not a URL" },
		{ "http://", "AWS_ENDPOINT_URL_EC2=\"http://\": not a URL" },
		{ "not a url at all", "AWS_ENDPOINT_URL_EC2=\"not a url at all\"" },
	};
	struct errbuf err;
	char *url;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		setenv("AWS_ENDPOINT_URL_EC2", rows[i].value, 1);
		expect_endpoint_error("ec2", rows[i].want);
	}
	/* A password in the URL is refused without echoing it. */
	setenv("AWS_ENDPOINT_URL_EC2", "http://user:hunter2@127.0.0.1:1", 1);
	expect_endpoint_error("ec2", "AWS_ENDPOINT_URL_EC2: must not contain "
	    "a user or password");
	assert_int_equal(aws_endpoint_resolve(aws_service_find("ec2"), "us-east-1",
	    &url, &err), -1);
	assert_null(strstr(err.msg, "hunter2"));
	/* The errbuf-less form gives NULL for a bad value, a URL otherwise. */
	assert_null(aws_endpoint_url(aws_service_find("ec2"), "us-east-1"));
	url = aws_endpoint_url(aws_service_find("sts"), "us-east-1");
	assert_string_equal(url, "https://sts.us-east-1.amazonaws.com");
	free(url);
	/* The general variable is named when it is the one in use. */
	unsetenv("AWS_ENDPOINT_URL_EC2");
	setenv("AWS_ENDPOINT_URL", "gopher://x", 1);
	expect_endpoint_error("ec2", "AWS_ENDPOINT_URL=\"gopher://x\": scheme");
	clear_env(NULL);
}

static void
test_http_endpoint_rejects_bad_region(void **state)
{
	static const char *const bad[] = {
		"US-EAST-1", "us east 1", "us-east-1.evil.test", "-us", "us-",
		"us-east-1/x", "",
	};
	struct errbuf err;
	char *url;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(aws_endpoint_resolve(aws_service_find("ec2"),
		    bad[i], &url, &err), -1);
		assert_null(url);
		assert_non_null(strstr(err.msg, bad[i][0] != '\0' ?
		    "not an AWS region name" : "no AWS region"));
	}
	assert_int_equal(aws_endpoint_resolve(aws_service_find("sts"), NULL,
	    &url, &err), -1);
	assert_string_equal(err.msg,
	    "no AWS region: set AWS_REGION, e.g. AWS_REGION=us-east-1");
}

/* Headers of a rearmed call, as curl will send them. */

static const char *
header_value(const struct http_call *c, const char *name)
{
	const struct curl_slist *p;
	size_t n = strlen(name);

	for (p = http_call_headers(c); p != NULL; p = p->next)
		if (strncasecmp(p->data, name, n) == 0 && p->data[n] == ':')
			return p->data[n + 1] == ' ' ? p->data + n + 2 :
			    p->data + n + 1;
	return NULL;
}

static struct http_call *
armed_call(struct http_client *cl, const struct http_request *req,
    const char *token)
{
	struct aws_creds creds = { (char *)AKID, (char *)SECRET,
	    (char *)token, 0, "test" };
	struct http_call *c;
	struct errbuf err;

	c = http_call_new(cl, req, NULL);
	if (http_call_rearm(c, &creds, &err) != 0)
		fail_msg("rearm: %s", err.msg);
	return c;
}

/* "AWS4-HMAC-SHA256 Credential=AKID/<8 digits>/<scope>, SignedHeaders=<h>,
   Signature=<64 hex>": the layout of the SigV4 documentation. */
static void
expect_authorization(const char *auth, const char *scope, const char *signed_h)
{
	char want[256];
	const char *p;
	size_t i;

	assert_non_null(auth);
	assert_true(strncmp(auth, "AWS4-HMAC-SHA256 Credential=" AKID "/",
	    28 + strlen(AKID) + 1) == 0);
	p = auth + 28 + strlen(AKID) + 1;
	for (i = 0; i < 8; i++)
		assert_true(p[i] >= '0' && p[i] <= '9');
	snprintf(want, sizeof(want), "/%s, SignedHeaders=%s, Signature=",
	    scope, signed_h);
	assert_true(strncmp(p + 8, want, strlen(want)) == 0);
	p += 8 + strlen(want);
	assert_int_equal(strspn(p, "0123456789abcdef"), 64);
	assert_int_equal(strlen(p), 64);
}

static void
test_http_headers_query_request(void **state)
{
	static const char body[] = "Action=GetCallerIdentity&Version=2011-06-15";
	struct http_request req = { aws_service_find("sts"), "eu-west-1",
	    "POST", "/", NULL, NULL, body, sizeof(body) - 1 };
	struct http_client *cl;
	struct http_call *c;
	const char *date;

	(void)state;
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8080", 1);
	cl = http_client_new(NULL);
	c = armed_call(cl, &req, TOKEN);
	assert_string_equal(header_value(c, "Host"), "127.0.0.1:8080");
	assert_string_equal(header_value(c, "Content-Type"),
	    "application/x-www-form-urlencoded; charset=utf-8");
	assert_null(header_value(c, "X-Amz-Target"));
	assert_null(header_value(c, "X-Amz-Content-SHA256"));
	assert_string_equal(header_value(c, "X-Amz-Security-Token"), TOKEN);
	assert_string_equal(header_value(c, "User-Agent"),
	    "tagwarden/" PACKAGE_VERSION);
	/* "Expect:" with nothing after it makes curl drop the header. */
	assert_string_equal(header_value(c, "Expect"), "");
	date = header_value(c, "X-Amz-Date");
	assert_non_null(date);
	assert_int_equal(strlen(date), 16);
	assert_int_equal(date[8], 'T');
	assert_int_equal(date[15], 'Z');
	expect_authorization(header_value(c, "Authorization"),
	    "eu-west-1/sts/aws4_request",
	    "content-type;host;x-amz-date;x-amz-security-token");
	http_call_free(c);
	http_client_free(cl);
	clear_env(NULL);
}

static void
test_http_headers_json_request(void **state)
{
	struct http_request req = { aws_service_find("tagging"), "eu-west-1",
	    "POST", "/", NULL, "GetResources", "{}", 2 };
	struct http_request orgs = { aws_service_find("organizations"), NULL,
	    "POST", "/", NULL, "ListAccounts", "{}", 2 };
	struct http_client *cl;
	struct http_call *c;

	(void)state;
	cl = http_client_new(NULL);
	c = armed_call(cl, &req, NULL);
	assert_string_equal(header_value(c, "Host"),
	    "tagging.eu-west-1.amazonaws.com");
	assert_string_equal(header_value(c, "X-Amz-Target"),
	    "ResourceGroupsTaggingAPI_20170126.GetResources");
	assert_string_equal(header_value(c, "Content-Type"),
	    "application/x-amz-json-1.1");
	assert_null(header_value(c, "X-Amz-Security-Token"));
	expect_authorization(header_value(c, "Authorization"),
	    "eu-west-1/tagging/aws4_request",
	    "content-type;host;x-amz-date;x-amz-target");
	http_call_free(c);
	/* A global service is signed for us-east-1 with no region given. */
	c = armed_call(cl, &orgs, NULL);
	assert_string_equal(header_value(c, "Host"),
	    "organizations.us-east-1.amazonaws.com");
	assert_string_equal(header_value(c, "X-Amz-Target"),
	    "AWSOrganizationsV20161128.ListAccounts");
	expect_authorization(header_value(c, "Authorization"),
	    "us-east-1/organizations/aws4_request",
	    "content-type;host;x-amz-date;x-amz-target");
	http_call_free(c);
	http_client_free(cl);
}

static void
test_http_headers_s3_request(void **state)
{
	struct http_request req = { aws_service_find("s3"), "us-west-2",
	    "GET", "/my-bucket", "list-type=2", NULL, NULL, 0 };
	struct http_client *cl;
	struct http_call *c;

	(void)state;
	setenv("AWS_ENDPOINT_URL_S3", "http://[::1]:9000", 1);
	cl = http_client_new(NULL);
	c = armed_call(cl, &req, TOKEN);
	assert_string_equal(header_value(c, "Host"), "[::1]:9000");
	/* SHA-256 of the empty string (FIPS 180-2 test value). */
	assert_string_equal(header_value(c, "X-Amz-Content-SHA256"),
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* No body, no content type: the empty line suppresses curl's. */
	assert_string_equal(header_value(c, "Content-Type"), "");
	expect_authorization(header_value(c, "Authorization"),
	    "us-west-2/s3/aws4_request",
	    "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
	http_call_free(c);
	http_client_free(cl);
	clear_env(NULL);
}

static void
test_http_rearm_reports_bad_endpoint(void **state)
{
	struct http_request req = { aws_service_find("sts"), "us-east-1",
	    "POST", "/", NULL, NULL, "Action=AssumeRole", 17 };
	struct aws_creds creds = { (char *)AKID, (char *)SECRET, NULL, 0, "t" };
	struct http_client *cl;
	struct http_call *c;
	struct errbuf err;

	(void)state;
	setenv("AWS_ENDPOINT_URL_STS", "https://sts.example.test?x=1", 1);
	cl = http_client_new(NULL);
	c = http_call_new(cl, &req, NULL);
	assert_int_equal(http_call_rearm(c, &creds, &err), -1);
	assert_string_equal(err.msg, "sts AssumeRole: AWS_ENDPOINT_URL_STS="
	    "\"https://sts.example.test?x=1\": must not have a query; use "
	    "http(s)://host[:port]");
	http_call_free(c);
	http_client_free(cl);
	clear_env(NULL);
}

/* Standard retry mode. */

static void
test_http_retry_classification(void **state)
{
	/* botocore 1.29 retries/standard.py: _TRANSIENT_ERROR_CODES,
	   _TRANSIENT_STATUS_CODES, _THROTTLED_ERROR_CODES; HTTP 429 and
	   InternalError, EC2ThrottledException from the SDK reference. */
	static const struct {
		CURLcode cc;
		long status;
		const char *code;
		enum http_retry_kind want;
	} rows[] = {
		{ CURLE_OK, 200, NULL, HTTP_RETRY_NONE },
		{ CURLE_OK, 400, "Throttling", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "ThrottlingException", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "ThrottledException", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "RequestThrottledException", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "TooManyRequestsException", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "ProvisionedThroughputExceededException",
		  HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "TransactionInProgressException",
		  HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 503, "RequestLimitExceeded", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "BandwidthLimitExceeded", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "LimitExceededException", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "RequestThrottled", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 503, "SlowDown", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "PriorRequestNotComplete", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 503, "EC2ThrottledException", HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 429, NULL, HTTP_RETRY_THROTTLE },
		{ CURLE_OK, 400, "RequestTimeout", HTTP_RETRY_TRANSIENT },
		{ CURLE_OK, 400, "RequestTimeoutException", HTTP_RETRY_TRANSIENT },
		{ CURLE_OK, 500, "InternalError", HTTP_RETRY_TRANSIENT },
		{ CURLE_OK, 500, NULL, HTTP_RETRY_TRANSIENT },
		{ CURLE_OK, 502, "", HTTP_RETRY_TRANSIENT },
		{ CURLE_OK, 503, "ServiceUnavailable", HTTP_RETRY_TRANSIENT },
		{ CURLE_OK, 504, NULL, HTTP_RETRY_TRANSIENT },
		{ CURLE_OK, 501, NULL, HTTP_RETRY_NONE },
		{ CURLE_OK, 403, "AccessDenied", HTTP_RETRY_NONE },
		{ CURLE_OK, 400, "ExpiredToken", HTTP_RETRY_NONE },
		{ CURLE_OK, 400, "ValidationException", HTTP_RETRY_NONE },
		/* Codes compare exactly, as botocore's list membership does. */
		{ CURLE_OK, 400, "throttling", HTTP_RETRY_NONE },
		{ CURLE_OK, 404, NULL, HTTP_RETRY_NONE },
		{ CURLE_OPERATION_TIMEDOUT, 0, NULL, HTTP_RETRY_TIMEOUT },
		{ CURLE_COULDNT_CONNECT, 0, NULL, HTTP_RETRY_TRANSIENT },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, NULL, HTTP_RETRY_TRANSIENT },
		{ CURLE_RECV_ERROR, 0, NULL, HTTP_RETRY_TRANSIENT },
		{ CURLE_GOT_NOTHING, 0, NULL, HTTP_RETRY_TRANSIENT },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, NULL, HTTP_RETRY_NONE },
		{ CURLE_WRITE_ERROR, 200, NULL, HTTP_RETRY_NONE },
		{ CURLE_URL_MALFORMAT, 0, NULL, HTTP_RETRY_NONE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (http_retry_classify(rows[i].cc, rows[i].status,
		    rows[i].code) != rows[i].want)
			fail_msg("row %zu (%d, %ld, %s): got %d, want %d", i,
			    rows[i].cc, rows[i].status, rows[i].code,
			    http_retry_classify(rows[i].cc, rows[i].status,
			    rows[i].code), rows[i].want);
	}
}

static void
test_http_retry_quota_arithmetic(void **state)
{
	struct http_retry_quota q;
	int i;

	(void)state;
	/* botocore quota.py / RetryQuotaChecker: 500 tokens, retry costs 5,
	   timeout retry 10, success refunds the last cost or 1, capped. */
	http_quota_init(&q);
	assert_int_equal(q.available, 500);
	assert_int_equal(http_quota_acquire(&q, HTTP_RETRY_NONE), 0);
	assert_int_equal(q.available, 500);
	assert_int_equal(http_quota_acquire(&q, HTTP_RETRY_THROTTLE), 5);
	assert_int_equal(http_quota_acquire(&q, HTTP_RETRY_TRANSIENT), 5);
	assert_int_equal(http_quota_acquire(&q, HTTP_RETRY_TIMEOUT), 10);
	assert_int_equal(q.available, 480);			/* 500-5-5-10 */
	http_quota_success(&q, 10);
	assert_int_equal(q.available, 490);
	http_quota_success(&q, 0);
	assert_int_equal(q.available, 491);
	/* Full bucket stays full. */
	http_quota_init(&q);
	http_quota_success(&q, 0);
	http_quota_success(&q, 5);
	assert_int_equal(q.available, 500);
	/* Refund near the top is capped: 497 + 5 -> 500. */
	q.available = 497;
	http_quota_success(&q, 5);
	assert_int_equal(q.available, 500);
	/* 100 retries of 5 drain 500 tokens; then nothing, even 5 short. */
	for (i = 0; i < 100; i++)
		assert_int_equal(http_quota_acquire(&q, HTTP_RETRY_THROTTLE), 5);
	assert_int_equal(q.available, 0);
	assert_int_equal(http_quota_acquire(&q, HTTP_RETRY_THROTTLE), 0);
	q.available = 9;
	assert_int_equal(http_quota_acquire(&q, HTTP_RETRY_TIMEOUT), 0);
	assert_int_equal(q.available, 9);
	assert_int_equal(http_quota_acquire(&q, HTTP_RETRY_TRANSIENT), 5);
	assert_int_equal(q.available, 4);
}

static void
test_http_retry_backoff_bounds(void **state)
{
	(void)state;
	/* min(rnd * 2^(attempt-1), 20) seconds, botocore ExponentialBackoff. */
	assert_int_equal(http_retry_delay_ms(1, 0.0, NULL), 0);
	assert_int_equal(http_retry_delay_ms(1, 0.5, NULL), 500);
	assert_int_equal(http_retry_delay_ms(2, 0.5, NULL), 1000);
	assert_int_equal(http_retry_delay_ms(3, 0.25, NULL), 1000);
	assert_int_equal(http_retry_delay_ms(1, 0.999, NULL), 999);
	assert_int_equal(http_retry_delay_ms(5, 0.999, NULL), 15984);
	/* 0.75 * 2^5 = 24 s, truncated to the 20 s maximum. */
	assert_int_equal(http_retry_delay_ms(6, 0.75, NULL), 20000);
	assert_int_equal(http_retry_delay_ms(6, 0.5, NULL), 16000);
	assert_int_equal(http_retry_delay_ms(60, 0.999, NULL), 20000);
	assert_int_equal(http_retry_delay_ms(60, 0.0, NULL), 0);
	/* Out-of-range jitter is clamped rather than trusted. */
	assert_int_equal(http_retry_delay_ms(1, -3.0, NULL), 0);
	assert_int_equal(http_retry_delay_ms(1, 7.0, NULL), 1000);
	/* x-amz-retry-after is milliseconds and replaces the jitter... */
	assert_int_equal(http_retry_delay_ms(1, 0.9, "300"), 300);
	assert_int_equal(http_retry_delay_ms(3, 0.9, "0"), 0);
	/* ...capped at the maximum backoff, ignored when malformed. */
	assert_int_equal(http_retry_delay_ms(1, 0.5, "3600000"), 20000);
	assert_int_equal(http_retry_delay_ms(1, 0.5, "-5"), 500);
	assert_int_equal(http_retry_delay_ms(1, 0.5, "soon"), 500);
	assert_int_equal(http_retry_delay_ms(1, 0.5, ""), 500);
	assert_int_equal(http_retry_delay_ms(1, 0.5, "99999999999999999999"),
	    500);
}

static void
test_http_retry_decide_limits(void **state)
{
	struct http_retry_quota q;
	long ms;
	int cost;

	(void)state;
	http_quota_init(&q);
	/* Attempt 1 of 3 throttled: retry after 0.5 * 1 s, 5 tokens. */
	assert_int_equal(http_retry_decide(&q, HTTP_RETRY_THROTTLE, 1, 3, 0.5,
	    NULL, &ms, &cost), 1);
	assert_int_equal(ms, 500);
	assert_int_equal(cost, 5);
	assert_int_equal(q.available, 495);
	/* Attempt 2 timed out: 0.5 * 2 s, 10 tokens. */
	assert_int_equal(http_retry_decide(&q, HTTP_RETRY_TIMEOUT, 2, 3, 0.5,
	    NULL, &ms, &cost), 1);
	assert_int_equal(ms, 1000);
	assert_int_equal(cost, 10);
	assert_int_equal(q.available, 485);
	/* Attempt 3 of 3: no more, and no tokens taken. */
	assert_int_equal(http_retry_decide(&q, HTTP_RETRY_THROTTLE, 3, 3, 0.5,
	    NULL, &ms, &cost), 0);
	assert_int_equal(q.available, 485);
	assert_int_equal(cost, 0);
	/* Not retryable. */
	assert_int_equal(http_retry_decide(&q, HTTP_RETRY_NONE, 1, 3, 0.5,
	    NULL, &ms, &cost), 0);
	/* Empty bucket: no retry although attempts remain. */
	q.available = 4;
	assert_int_equal(http_retry_decide(&q, HTTP_RETRY_TRANSIENT, 1, 3, 0.5,
	    NULL, &ms, &cost), 0);
	assert_int_equal(q.available, 4);
	assert_int_equal(ms, 0);
	/* x-amz-retry-after wins over the computed backoff. */
	q.available = 500;
	assert_int_equal(http_retry_decide(&q, HTTP_RETRY_THROTTLE, 2, 5, 0.9,
	    "250", &ms, &cost), 1);
	assert_int_equal(ms, 250);
}

static void
test_http_redact_header_lines(void **state)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, "
		  "Signature=abc", "Authorization: [redacted]" },
		{ "authorization:Bearer xyz", "authorization: [redacted]" },
		{ "X-Amz-Security-Token: " TOKEN, "X-Amz-Security-Token: [redacted]" },
		{ "x-amz-security-token:", "x-amz-security-token: [redacted]" },
		{ "X-aws-ec2-metadata-token: AQAAAF", "X-aws-ec2-metadata-token: "
		  "[redacted]" },
		{ "Proxy-Authorization: Basic dXNlcg==",
		  "Proxy-Authorization: [redacted]" },
		/* Only whole names match. */
		{ "X-Authorization-Hint: keep", "X-Authorization-Hint: keep" },
		{ "X-Amz-Security-Token-Id: keep", "X-Amz-Security-Token-Id: keep" },
		{ "X-Amz-Date: 20150830T123600Z", "X-Amz-Date: 20150830T123600Z" },
		{ "Expect:", "Expect:" },
		{ "no colon here", "no colon here" },
	};
	char *out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		out = http_redact_header(rows[i].in);
		assert_string_equal(out, rows[i].want);
		free(out);
	}
}

/* The retry loop on a loopback port nobody listens on. */

struct recorded {
	double	rnd;
	long	slept[8];
	int	nslept;
};

static double
fixed_random(void *arg)
{
	return ((struct recorded *)arg)->rnd;
}

static void
record_sleep(void *arg, long ms)
{
	struct recorded *r = arg;

	if (r->nslept < 8)
		r->slept[r->nslept] = ms;
	r->nslept++;
}

static int
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);	/* bound but never listening: connect is refused */
	return port;
}

static void
test_http_send_retries_refused_connection(void **state)
{
	struct recorded rec = { 0.5, { 0 }, 0 };
	struct http_hooks hooks = { fixed_random, record_sleep, &rec };
	struct aws_creds creds = { (char *)AKID, (char *)SECRET, NULL, 0, "t" };
	struct http_request req = { aws_service_find("ec2"), "us-east-1",
	    "POST", "/", NULL, NULL, "Action=DescribeRegions&Version=2016-11-15",
	    41 };
	struct http_response resp;
	struct http_client *cl;
	struct errbuf err;
	char url[64], want[128];

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
	setenv("AWS_ENDPOINT_URL", url, 1);
	cl = http_client_new(NULL);
	http_client_set_hooks(cl, &hooks);
	assert_int_equal(http_send(cl, &creds, &req, &resp, &err), -1);
	/* 3 attempts; sleeps 0.5 * 2^0 s and 0.5 * 2^1 s; 2 * 5 tokens. */
	assert_int_equal(resp.attempts, 3);
	assert_int_equal(resp.status, 0);
	assert_int_equal(rec.nslept, 2);
	assert_int_equal(rec.slept[0], 500);
	assert_int_equal(rec.slept[1], 1000);
	assert_int_equal(http_client_quota(cl), 490);
	assert_true(strncmp(err.msg, "ec2 DescribeRegions failed: ", 28) == 0);
	snprintf(want, sizeof(want), "(after 3 attempts)");
	assert_non_null(strstr(err.msg, want));
	http_response_clear(&resp);
	http_client_free(cl);
	clear_env(NULL);
}

static void
test_http_plain_single_attempt(void **state)
{
	struct recorded rec = { 0.5, { 0 }, 0 };
	struct http_hooks hooks = { fixed_random, record_sleep, &rec };
	struct http_options opts = { 1000, 2000, 1, NULL, 0 };
	static const char *const hdrs[] = {
		"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL
	};
	struct http_response resp;
	struct http_client *cl;
	struct errbuf err;
	char url[64], want[128];

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/latest/api/token",
	    closed_port());
	cl = http_client_new(&opts);
	http_client_set_hooks(cl, &hooks);
	assert_int_equal(http_plain(cl, "PUT", url, hdrs, NULL, &resp, &err),
	    -1);
	assert_int_equal(resp.attempts, 1);
	assert_int_equal(rec.nslept, 0);
	assert_int_equal(http_client_quota(cl), 500);
	snprintf(want, sizeof(want), "PUT %s failed: ", url);
	assert_true(strncmp(err.msg, want, strlen(want)) == 0);
	assert_non_null(strstr(err.msg, "(after 1 attempt)"));
	http_response_clear(&resp);
	http_client_free(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_service_table_rows),
		cmocka_unit_test_setup(test_http_endpoint_regional_defaults,
		    clear_env),
		cmocka_unit_test_setup(test_http_endpoint_global_services,
		    clear_env),
		cmocka_unit_test_setup(test_http_endpoint_overrides_per_service,
		    clear_env),
		cmocka_unit_test_setup(test_http_endpoint_rejects_bad_overrides,
		    clear_env),
		cmocka_unit_test_setup(test_http_endpoint_rejects_bad_region,
		    clear_env),
		cmocka_unit_test_setup(test_http_headers_query_request,
		    clear_env),
		cmocka_unit_test_setup(test_http_headers_json_request,
		    clear_env),
		cmocka_unit_test_setup(test_http_headers_s3_request, clear_env),
		cmocka_unit_test_setup(test_http_rearm_reports_bad_endpoint,
		    clear_env),
		cmocka_unit_test(test_http_retry_classification),
		cmocka_unit_test(test_http_retry_quota_arithmetic),
		cmocka_unit_test(test_http_retry_backoff_bounds),
		cmocka_unit_test(test_http_retry_decide_limits),
		cmocka_unit_test(test_http_redact_header_lines),
		cmocka_unit_test_setup(test_http_send_retries_refused_connection,
		    clear_env),
		cmocka_unit_test_setup(test_http_plain_single_attempt,
		    clear_env),
	};

	/* Programs own curl's global state; atexit keeps valgrind quiet. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	atexit(curl_global_cleanup);
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
