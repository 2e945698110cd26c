/*
 * awsjson: real-shaped AWS JSON bodies, the JSON error forms, and refusal
 * of malformed bodies with a clear sentence.
 *
 * Fixture shapes come from the botocore service models on this machine,
 * /usr/lib/python3/dist-packages/botocore/data/{resourcegroupstaggingapi/
 * 2017-01-26,ce/2017-10-25}/service-2.json (GetResourcesOutput,
 * GetCostAndUsageResponse). The error rules come from botocore/parsers.py
 * (BaseJSONParser._do_error_parse, RestJSONParser._inject_error_code) and
 * the Smithy awsJson1_0/restJson1 protocol tests. botocore's RestJSONParser
 * was run once on the error cases below and gives the same codes and
 * messages, except for a namespaced header, which botocore leaves as
 * "aws.protocoltests.restjson#FooError" while the Smithy protocol test
 * RestJsonFooErrorUsingXAmznErrorTypeWithUriAndNamespace expects "FooError".
 *
 * Expected parser positions are counted by hand: jansson numbers lines and
 * columns from 1 and reports the column of the last character it read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "awsjson.h"
#include "errbuf.h"

static const char tagging_get_resources[] =
    "{\"PaginationToken\":\"eyJFbmNyeXB0ZWREYXRhIjpbMTExLDEwOV19\","
    "\"ResourceTagMappingList\":["
    "{\"ResourceARN\":\"arn:aws:ec2:us-east-1:123456789012:instance/"
    "i-1234567890abcdef0\","
    "\"Tags\":[{\"Key\":\"Environment\",\"Value\":\"production\"},"
    "{\"Key\":\"Team\",\"Value\":\" Data & ML \"}]},"
    "{\"ResourceARN\":\"arn:aws:s3:::amzn-s3-demo-bucket1\",\"Tags\":[]}"
    "]}";

static const char ce_get_cost_and_usage[] =
    "{\n"
    "  \"GroupDefinitions\": [{\"Type\": \"TAG\", \"Key\": \"CostCenter\"}],\n"
    "  \"ResultsByTime\": [\n"
    "    {\n"
    "      \"TimePeriod\": {\"Start\": \"2024-01-01\", "
    "\"End\": \"2024-02-01\"},\n"
    "      \"Total\": {},\n"
    "      \"Groups\": [\n"
    "        {\"Keys\": [\"CostCenter$cc-4711\"], \"Metrics\": "
    "{\"UnblendedCost\": {\"Amount\": \"1234.5678\", \"Unit\": \"USD\"}}},\n"
    "        {\"Keys\": [\"CostCenter$\"], \"Metrics\": "
    "{\"UnblendedCost\": {\"Amount\": \"99.01\", \"Unit\": \"USD\"}}}\n"
    "      ],\n"
    "      \"Estimated\": false\n"
    "    }\n"
    "  ],\n"
    "  \"DimensionValueAttributes\": []\n"
    "}\n";

static json_t *
parse_ok(const char *body)
{
	struct errbuf err;
	json_t *root;

	err_clear(&err);
	if ((root = awsjson_parse(body, strlen(body), &err)) == NULL)
		fail_msg("unexpected parse error: %s", err.msg);
	return root;
}

static void
test_awsjson_tagging_get_resources(void **state)
{
	json_t *root, *list, *m, *tags;

	(void)state;
	root = parse_ok(tagging_get_resources);
	assert_string_equal(awsjson_string(root, "PaginationToken"),
	    "eyJFbmNyeXB0ZWREYXRhIjpbMTExLDEwOV19");
	list = awsjson_array(root, "ResourceTagMappingList");
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 2);
	m = json_array_get(list, 0);
	assert_string_equal(awsjson_string(m, "ResourceARN"),
	    "arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0");
	tags = awsjson_array(m, "Tags");
	assert_int_equal(json_array_size(tags), 2);
	assert_string_equal(awsjson_string(json_array_get(tags, 1), "Key"),
	    "Team");
	assert_string_equal(awsjson_string(json_array_get(tags, 1), "Value"),
	    " Data & ML ");
	m = json_array_get(list, 1);
	assert_string_equal(awsjson_string(m, "ResourceARN"),
	    "arn:aws:s3:::amzn-s3-demo-bucket1");
	assert_int_equal(json_array_size(awsjson_array(m, "Tags")), 0);
	json_decref(root);
}

static void
test_awsjson_cost_explorer(void **state)
{
	json_t *root, *r, *g, *cost;

	(void)state;
	root = parse_ok(ce_get_cost_and_usage);
	assert_null(awsjson_string(root, "NextPageToken"));
	r = json_array_get(awsjson_array(root, "ResultsByTime"), 0);
	assert_string_equal(awsjson_string(awsjson_object(r, "TimePeriod"),
	    "Start"), "2024-01-01");
	assert_non_null(awsjson_object(r, "Total"));
	assert_true(json_is_false(json_object_get(r, "Estimated")));
	g = json_array_get(awsjson_array(r, "Groups"), 1);
	assert_string_equal(json_string_value(json_array_get(
	    awsjson_array(g, "Keys"), 0)), "CostCenter$");
	cost = awsjson_object(awsjson_object(g, "Metrics"), "UnblendedCost");
	/* Cost Explorer sends amounts as strings. */
	assert_string_equal(awsjson_string(cost, "Amount"), "99.01");
	assert_string_equal(awsjson_string(cost, "Unit"), "USD");
	json_decref(root);
}

static void
test_awsjson_typed_lookups(void **state)
{
	static const char body[] =
	    "{\"Count\": 42, \"Text\": \"42\", \"Real\": 4.2, \"Obj\": {}, "
	    "\"Arr\": [1], \"Null\": null, "
	    "\"Max\": 9223372036854775807, \"Neg\": -7}";
	struct errbuf err;
	long long v;
	json_t *root;

	(void)state;
	root = parse_ok(body);
	assert_int_equal(awsjson_int(root, "Count", &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(awsjson_int(root, "Max", &v, &err), 0);
	assert_true(v == 9223372036854775807LL);
	assert_int_equal(awsjson_int(root, "Neg", &v, &err), 0);
	assert_int_equal(v, -7);
	/* A number sent as a string is refused, and the value is not echoed. */
	assert_int_equal(awsjson_int(root, "Text", &v, &err), -1);
	assert_string_equal(err.msg, "AWS JSON response member \"Text\" is a "
	    "string where an integer was expected");
	assert_int_equal(awsjson_int(root, "Real", &v, &err), -1);
	assert_string_equal(err.msg, "AWS JSON response member \"Real\" is a "
	    "real number where an integer was expected");
	assert_int_equal(awsjson_int(root, "Null", &v, &err), -1);
	assert_string_equal(err.msg, "AWS JSON response member \"Null\" is "
	    "null where an integer was expected");
	assert_int_equal(awsjson_int(root, "Missing", &v, &err), -1);
	assert_string_equal(err.msg, "AWS JSON response lacks the integer "
	    "member \"Missing\"");
	assert_int_equal(awsjson_int(NULL, "Count", &v, NULL), -1);

	assert_null(awsjson_string(root, "Count"));
	assert_string_equal(awsjson_string(root, "Text"), "42");
	assert_null(awsjson_string(NULL, "Text"));
	assert_null(awsjson_object(root, "Arr"));
	assert_non_null(awsjson_object(root, "Obj"));
	assert_null(awsjson_object(NULL, "Obj"));
	assert_null(awsjson_array(root, "Obj"));
	assert_non_null(awsjson_array(root, "Arr"));
	assert_null(awsjson_array(root, "Missing"));
	json_decref(root);
}

struct json_error_case {
	const char	*what;
	const char	*body;
	const char	*header;
	int		 rv;
	const char	*code;
	const char	*message;
};

static const struct json_error_case json_errors[] = {
	{ "__type without namespace",
	  "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
	  NULL, 0, "ThrottlingException", "Rate exceeded" },
	{ "__type with namespace",
	  "{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\","
	  "\"message\":\"The security token included in the request is "
	  "expired\"}", NULL, 0, "ExpiredTokenException",
	  "The security token included in the request is expired" },
	{ "capitalised Message",
	  "{\"__type\":\"AWSOrganizationsNotInUseException\",\"Message\":"
	  "\"Your account is not a member of an organization.\"}", NULL, 0,
	  "AWSOrganizationsNotInUseException",
	  "Your account is not a member of an organization." },
	{ "header with URL suffix wins",
	  "{\"__type\":\"com.amazon.coral.validate#Other\",\"message\":"
	  "\"1 validation error detected\"}",
	  "ValidationException:http://internal.amazon.com/coral/"
	  "com.amazon.coral.validate/", 0, "ValidationException",
	  "1 validation error detected" },
	{ "REST-JSON header with Type/Message body",
	  "{\"Type\":\"User\",\"Message\":\"Function not found: "
	  "arn:aws:lambda:us-east-1:123456789012:function:f\"}",
	  "ResourceNotFoundException", 0, "ResourceNotFoundException",
	  "Function not found: arn:aws:lambda:us-east-1:123456789012:"
	  "function:f" },
	{ "header with namespace and URL",
	  "{}", "aws.protocoltests.restjson#FooError:http://internal.amazon."
	  "com/coral/com.amazon.coral.validate/", 0, "FooError", "" },
	{ "header and empty body", "", "ThrottlingException", 0,
	  "ThrottlingException", "" },
	{ "header and an HTML body", "<html>503</html>", "ServiceUnavailable",
	  0, "ServiceUnavailable", "" },
	{ "empty header falls back to the body",
	  "{\"__type\":\"InvalidParameterException\"}", "", 0,
	  "InvalidParameterException", "" },
	{ "header with nothing before ':' falls back to the body",
	  "{\"__type\":\"InvalidParameterException\"}", ":x", 0,
	  "InvalidParameterException", "" },
	{ "code member",
	  "{\"code\":\"BadRequestException\",\"message\":\"m\"}", NULL, 0,
	  "BadRequestException", "m" },
	{ "message beats Message",
	  "{\"__type\":\"X\",\"Message\":\"upper\",\"message\":\"lower\"}",
	  NULL, 0, "X", "lower" },
	{ "success body", tagging_get_resources, NULL, -1, NULL, NULL },
	{ "__type not a string", "{\"__type\":42,\"message\":\"m\"}", NULL, -1,
	  NULL, NULL },
	{ "__type only a namespace", "{\"__type\":\"com.amazon#\"}", NULL, -1,
	  NULL, NULL },
	{ "no body, no header", "", NULL, -1, NULL, NULL },
	{ "not JSON", "<ErrorResponse/>", NULL, -1, NULL, NULL },
	{ "array", "[{\"__type\":\"X\"}]", NULL, -1, NULL, NULL },
};

static void
test_awsjson_error_forms(void **state)
{
	const struct json_error_case *c;
	char code[128], msg[256];
	size_t i;
	int rv;

	(void)state;
	for (i = 0; i < sizeof(json_errors) / sizeof(json_errors[0]); i++) {
		c = &json_errors[i];
		strcpy(code, "untouched");
		strcpy(msg, "untouched");
		rv = awsjson_error(c->body, strlen(c->body), c->header, code,
		    sizeof(code), msg, sizeof(msg));
		if (rv != c->rv)
			fail_msg("%s: returned %d", c->what, rv);
		if (c->rv == -1) {
			assert_string_equal(code, "untouched");
			continue;
		}
		if (strcmp(code, c->code) != 0 || strcmp(msg, c->message) != 0)
			fail_msg("%s: got \"%s\" / \"%s\"", c->what, code, msg);
	}
}

static void
test_awsjson_error_truncates_safely(void **state)
{
	/* é is C3 A9: a 5-byte message buffer holds "caf" and stops. */
	static const char body[] =
	    "{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\","
	    "\"message\":\"caf\\u00e9\\nbar\"}";
	char code[8], msg[5], big[32];

	(void)state;
	assert_int_equal(awsjson_error(body, strlen(body), NULL, code,
	    sizeof(code), msg, sizeof(msg)), 0);
	assert_string_equal(code, "Expired");
	assert_string_equal(msg, "caf");
	assert_int_equal(awsjson_error(body, strlen(body), NULL, code,
	    sizeof(code), big, sizeof(big)), 0);
	assert_string_equal(big, "caf\xc3\xa9 bar");
}

struct bad_json {
	const char	*what;
	const char	*body;
	size_t		 len;	/* 0: strlen(body) */
	const char	*msg;
};

#define MALFORMED "malformed JSON in AWS response at line "

static const struct bad_json bad_json[] = {
	{ "array instead of object", "[{\"a\":1}]", 0,
	  "AWS JSON response is an array where an object was expected" },
	{ "string", "\"x\"", 0,
	  "AWS JSON response is a string where an object was expected" },
	{ "number", "42", 0,
	  "AWS JSON response is an integer where an object was expected" },
	{ "null", "null", 0,
	  "AWS JSON response is null where an object was expected" },
	/* 'x' is the 9th character. */
	{ "trailing garbage", "{\"a\":1} x", 0,
	  MALFORMED "1, column 9: end of file expected" },
	/* The second '}' opens line 2. */
	{ "trailing brace", "{\"a\":1}\n}", 0,
	  MALFORMED "2, column 1: end of file expected" },
	/* 46 characters, the last inside the open string. */
	{ "truncated", "{\"ResourceTagMappingList\":[{\"ResourceARN\":\"arn", 0,
	  MALFORMED "1, column 46: premature end of input" },
	{ "unclosed array",
	  "{\"ResourceTagMappingList\":[{\"ResourceARN\":\"arn:aws:ec2\"}", 0,
	  MALFORMED "1, column 56: ']' expected near end of file" },
	/* The NUL is the 7th byte: {"a":"b then NUL. */
	{ "nul byte", "{\"a\":\"b\0c\"}", 11,
	  MALFORMED "1, column 7: control character 0x0" },
	{ "escaped nul", "{\"a\":\"b\\u0000c\"}", 0,
	  MALFORMED "1, column 15: \\u0000 is not allowed without "
	  "JSON_ALLOW_NUL" },
	{ "invalid utf-8", "{\"a\":\"\xff\"}", 0,
	  MALFORMED "1, column 6: unable to decode byte 0xff" },
	{ "latin-1 byte", "{\"a\":\"caf\xe9\"}", 0,
	  MALFORMED "1, column 9: unable to decode byte 0xe9" },
	{ "xml instead of json", "<ErrorResponse><Error/></ErrorResponse>", 0,
	  MALFORMED "1, column 1: invalid token" },
	{ "integer overflow", "{\"n\": 99999999999999999999}", 0,
	  MALFORMED "1, column 26: too big integer" },
	/* Line 3 is "  \"b\": tru", 10 characters. */
	{ "bad literal on line 3", "{\n  \"a\": 1,\n  \"b\": tru\n}", 0,
	  MALFORMED "3, column 10: invalid token" },
	/* jansson would quote '"wJalr\q': the text near an error is dropped. */
	{ "bad escape inside a secret",
	  "{\"SecretAccessKey\": \"wJalr\\q\"}", 0,
	  MALFORMED "1, column 28: invalid escape" },
	{ "whitespace only", "   ", 0,
	  MALFORMED "1, column 3: unexpected token near end of file" },
};

static void
test_awsjson_malformed_bodies(void **state)
{
	const struct bad_json *b;
	struct errbuf err;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		b = &bad_json[i];
		len = b->len != 0 ? b->len : strlen(b->body);
		err_clear(&err);
		if (awsjson_parse(b->body, len, &err) != NULL)
			fail_msg("%s: parsed", b->what);
		if (strcmp(err.msg, b->msg) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", b->what,
			    err.msg, b->msg);
		assert_null(strstr(err.msg, "wJalr"));
	}
}

static void
test_awsjson_empty_body(void **state)
{
	struct errbuf err;

	(void)state;
	err_clear(&err);
	assert_null(awsjson_parse("", 0, &err));
	assert_string_equal(err.msg, "empty AWS response body where a JSON "
	    "object was expected");
	err_clear(&err);
	assert_null(awsjson_parse(NULL, 0, &err));
	assert_string_equal(err.msg, "empty AWS response body where a JSON "
	    "object was expected");
	assert_null(awsjson_parse("[", 1, NULL));
}

static void
test_awsjson_deep_nesting(void **state)
{
	struct errbuf err;
	size_t n = 10000;
	char *body;

	(void)state;
	body = malloc(2 * n);
	assert_non_null(body);
	memset(body, '[', n);
	memset(body + n, ']', n);
	err_clear(&err);
	assert_null(awsjson_parse(body, 2 * n, &err));
	/* jansson stops at depth 2048: the 2049th '[' is column 2049. */
	assert_string_equal(err.msg, MALFORMED "1, column 2049: maximum "
	    "parsing depth reached");
	free(body);
}

static void
test_awsjson_size_limit(void **state)
{
	struct errbuf err;
	char *body;

	(void)state;
	body = calloc(1, (size_t)AWSJSON_MAX_SIZE + 1);
	assert_non_null(body);
	err_clear(&err);
	assert_null(awsjson_parse(body, (size_t)AWSJSON_MAX_SIZE + 1, &err));
	assert_string_equal(err.msg, "AWS JSON response of 16777217 bytes is "
	    "larger than the 16777216-byte limit (AWSJSON_MAX_SIZE); request "
	    "smaller pages");
	free(body);
}

static void
test_awsjson_huge_string(void **state)
{
	size_t textlen = 8 * 1024 * 1024;
	struct errbuf err;
	const char *v;
	json_t *root;
	char *body;

	(void)state;
	/* {"v":"xxx...x"}: an 8 MiB value under the limit is kept whole. */
	body = malloc(textlen + 9);
	assert_non_null(body);
	memcpy(body, "{\"v\":\"", 6);
	memset(body + 6, 'x', textlen);
	memcpy(body + 6 + textlen, "\"}", 3);
	root = awsjson_parse(body, textlen + 8, &err);
	assert_non_null(root);
	v = awsjson_string(root, "v");
	assert_non_null(v);
	assert_int_equal(strlen(v), textlen);
	assert_int_equal(strspn(v, "x"), textlen);
	json_decref(root);
	free(body);
}

/* Values in order; a NULL value (invalid UTF-8) fails and frees the rest. */
static void
test_awsjson_row_all_or_nothing(void **state)
{
	json_t *vals[3], *o;
	char *text;

	(void)state;
	vals[0] = json_integer(1);
	vals[1] = json_string("x");
	vals[2] = json_null();
	o = awsjson_row(vals, 3);
	assert_non_null(o);
	text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(text, "[1,\"x\",null]");
	free(text);
	json_decref(o);
	vals[0] = json_integer(1);
	vals[1] = json_string("\xff");		/* not UTF-8: NULL */
	vals[2] = json_string("y");
	assert_null(vals[1]);
	assert_null(awsjson_row(vals, 3));	/* valgrind: no leak */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_awsjson_tagging_get_resources),
		cmocka_unit_test(test_awsjson_cost_explorer),
		cmocka_unit_test(test_awsjson_typed_lookups),
		cmocka_unit_test(test_awsjson_error_forms),
		cmocka_unit_test(test_awsjson_error_truncates_safely),
		cmocka_unit_test(test_awsjson_malformed_bodies),
		cmocka_unit_test(test_awsjson_empty_body),
		cmocka_unit_test(test_awsjson_deep_nesting),
		cmocka_unit_test(test_awsjson_size_limit),
		cmocka_unit_test(test_awsjson_huge_string),
		cmocka_unit_test(test_awsjson_row_all_or_nothing),
	};

	return cmocka_run_group_tests_name("awsjson", tests, NULL, NULL);
}
