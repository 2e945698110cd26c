/*
 * proto: frame header, exact-shape decoding of every body, the error
 * sentences, blocking frame I/O (partial transfers, EINTR, EOF), wiping,
 * and random input that must never crash the decoder. Expected bytes and
 * sentences are written out by hand from proto.h's documented shapes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "errbuf.h"
#include "proto.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const char valid_job[] =
    "{\"proto\":1,\"job_id\":\"j1\",\"account_id\":\"123456789012\","
    "\"home_region\":\"eu-west-1\",\"regions\":null,"
    "\"resource_types\":[\"ec2:instance\"],\"policy\":\"{}\","
    "\"max_batch\":100,\"refresh_margin_s\":300}";
static const char valid_creds[] =
    "{\"access_key_id\":\"AKIDEXAMPLE\",\"secret_access_key\":"
    "\"wJalrXUtnFEMI\",\"session_token\":null,\"expiration\":0}";
/* A resource row, in the order common/proto.h documents, by hand. */
static const char valid_resource[] =
    "[\"arn:aws:ec2:eu-west-1:123456789012:instance/i-1\",\"i-1\","
    "\"ec2:instance\",\"eu-west-1\",{\"Owner\":\"ops\"},null,null,"
    "\"running\",true,false,[[\"CostCenter\",\"missing_required_tag\","
    "\"error\",null,[\"a\",\"b\"],\"missing\"]]]";

static json_t *
decode(uint32_t type, const char *body, struct errbuf *err)
{
	err_clear(err);
	return proto_decode(type, (const unsigned char *)body, strlen(body),
	    err);
}

/* The body must be refused with exactly this sentence. */
static void
assert_refused(uint32_t type, const char *body, const char *want)
{
	struct errbuf err;
	json_t *v;

	v = decode(type, body, &err);
	if (v != NULL)
		fail_msg("accepted %s: %s", msg_type_name(type), body);
	assert_string_equal(err.msg, want);
}

static void
assert_accepted(uint32_t type, const char *body)
{
	struct errbuf err;
	json_t *v;

	v = decode(type, body, &err);
	if (v == NULL)
		fail_msg("refused %s: %s", body, err.msg);
	json_decref(v);
}

/*
 * A RESOURCE_BATCH of one resource whose value at index is replaced by
 * value (JSON text), or removed when value is NULL, or with value
 * appended when index is PROTO_RES_NFIELDS.
 */
static char *
batch_with(size_t index, const char *value)
{
	json_error_t je;
	json_t *r, *b;
	char *s;

	r = json_loads(valid_resource, 0, &je);
	assert_non_null(r);
	if (value == NULL)
		json_array_remove(r, index);
	else if (index == PROTO_RES_NFIELDS)
		json_array_append_new(r, json_loads(value, JSON_DECODE_ANY,
		    &je));
	else
		json_array_set_new(r, index, json_loads(value,
		    JSON_DECODE_ANY, &je));
	b = json_pack("{s:[o]}", "resources", r);
	s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return s;
}

static void
test_proto_type_names(void **state)
{
	(void)state;
	assert_string_equal(msg_type_name(MSG_JOB), "JOB");
	assert_string_equal(msg_type_name(MSG_CREDENTIALS_REFRESHED),
	    "CREDENTIALS_REFRESHED");
	assert_string_equal(msg_type_name(MSG_RESOURCE_BATCH),
	    "RESOURCE_BATCH");
	assert_string_equal(msg_type_name(MSG_ERROR), "ERROR");
	assert_string_equal(msg_type_name(104), "LIMITS");
	assert_string_equal(msg_type_name(0), "unknown");
	assert_string_equal(msg_type_name(105), "unknown");
	assert_string_equal(msg_type_name(208), "unknown");
}

/* The names users see for row values (MCP answers, the history). */
static void
test_proto_row_names(void **state)
{
	json_t *r = json_loads(valid_resource, 0, NULL);

	/* The enums' order against the names, as proto.h documents them. */
	static const char *const resource[PROTO_RES_NFIELDS] = {
		[PROTO_RES_ARN] = "resource_arn",
		[PROTO_RES_ID] = "resource_id",
		[PROTO_RES_TYPE] = "resource_type",
		[PROTO_RES_REGION] = "region",
		[PROTO_RES_TAGS] = "tags",
		[PROTO_RES_TAGS_ERROR] = "tags_error",
		[PROTO_RES_CREATED_AT] = "created_at",
		[PROTO_RES_STATE] = "state",
		[PROTO_RES_IN_SCOPE] = "in_scope",
		[PROTO_RES_COMPLIANT] = "compliant",
		[PROTO_RES_VIOLATIONS] = "violations",
	};
	static const char *const violation[PROTO_VIOL_NFIELDS] = {
		[PROTO_VIOL_TAG_NAME] = "tag_name",
		[PROTO_VIOL_TYPE] = "violation_type",
		[PROTO_VIOL_SEVERITY] = "severity",
		[PROTO_VIOL_CURRENT_VALUE] = "current_value",
		[PROTO_VIOL_ALLOWED_VALUES] = "allowed_values",
		[PROTO_VIOL_MESSAGE] = "message",
	};
	size_t i;

	(void)state;
	for (i = 0; i < PROTO_RES_NFIELDS; i++)
		assert_string_equal(proto_resource_name(i), resource[i]);
	for (i = 0; i < PROTO_VIOL_NFIELDS; i++)
		assert_string_equal(proto_violation_name(i), violation[i]);
	assert_null(proto_resource_name(PROTO_RES_NFIELDS));
	assert_null(proto_violation_name(PROTO_VIOL_NFIELDS));
	assert_string_equal(proto_row_str(r, PROTO_RES_STATE), "running");
	assert_null(proto_row_str(r, PROTO_RES_CREATED_AT));	/* null */
	/* A boolean, then past the end. */
	assert_null(proto_row_str(r, PROTO_RES_IN_SCOPE));
	assert_null(proto_row_str(r, PROTO_RES_NFIELDS));
	json_decref(r);
}

static void
test_proto_encode_header_network_order(void **state)
{
	/* type 206 = 0x000000ce; the body below is 15 bytes = 0x0f. */
	static const char body[] = "{\"resources\":7}";
	unsigned char *frame;
	struct errbuf err;
	size_t len;
	json_t *v;

	(void)state;
	v = json_pack("{s:i}", "resources", 7);
	assert_int_equal(proto_encode(MSG_ACCOUNT_DONE, v, &frame, &len, &err),
	    0);
	assert_int_equal(len, 8 + strlen(body));
	assert_memory_equal(frame, "\x00\x00\x00\xce\x00\x00\x00\x0f", 8);
	assert_memory_equal(frame + 8, body, strlen(body));
	free(frame);
	json_decref(v);
}

static void
test_proto_encode_refuses_oversize_and_unknown(void **state)
{
	unsigned char *frame;
	struct errbuf err;
	size_t len, n = PROTO_MAX_FRAME;
	char *big;
	json_t *v;

	(void)state;
	big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	v = json_pack("{s:s}", "message", big);
	/* {"message":"<n>"} is n + 14 bytes. */
	assert_int_equal(proto_encode(MSG_LOG, v, &frame, &len, &err), -1);
	assert_string_equal(err.msg, "LOG: body of 4194318 bytes exceeds "
	    "4194304");
	assert_null(frame);
	assert_int_equal(proto_encode((enum msg_type)150, v, &frame, &len,
	    &err), -1);
	assert_string_equal(err.msg, "unknown message type 150");
	json_decref(v);
	free(big);
}

static void
test_proto_header_checks_type_and_size(void **state)
{
	unsigned char h1[8] = { 0, 0, 0, 200, 0, 0x40, 0, 0 };	/* 4194304 */
	unsigned char h2[8] = { 0, 0, 0, 200, 0, 0x40, 0, 1 };	/* +1 */
	unsigned char h3[8] = { 0, 0, 0x03, 0xe7, 0, 0, 0, 2 };	/* 999 */
	unsigned char h4[8] = { 0, 0, 0, 202, 0, 0x98, 0x96, 0x7f };
	struct errbuf err;
	uint32_t type, len;

	(void)state;
	assert_int_equal(proto_header(h1, &type, &len, &err), 0);
	assert_int_equal(type, MSG_HELLO);
	assert_int_equal(len, 4194304);
	assert_int_equal(proto_header(h2, &type, &len, &err), -1);
	assert_string_equal(err.msg, "frame of 4194305 bytes exceeds 4194304");
	assert_int_equal(proto_header(h3, &type, &len, &err), -1);
	assert_string_equal(err.msg, "unknown message type 999");
	/* 0x0098967f = 9999999 */
	assert_int_equal(proto_header(h4, &type, &len, &err), -1);
	assert_string_equal(err.msg, "frame of 9999999 bytes exceeds 4194304");
}

static void
test_proto_decode_accepts_every_documented_shape(void **state)
{
	char *batch;

	(void)state;
	assert_accepted(MSG_JOB, valid_job);
	assert_accepted(MSG_JOB, "{\"proto\":1,\"job_id\":\"j\",\"account_id\":"
	    "\"000000000000\",\"home_region\":\"us-east-1\",\"regions\":"
	    "[\"us-east-1\",\"eu-west-1\"],\"resource_types\":[\"s3:bucket\"],"
	    "\"policy\":\"x\",\"max_batch\":1000,\"refresh_margin_s\":0}");
	assert_accepted(MSG_CREDENTIALS, valid_creds);
	assert_accepted(MSG_CREDENTIALS_REFRESHED, "{\"access_key_id\":\"A\","
	    "\"secret_access_key\":\"S\",\"session_token\":\"T\","
	    "\"expiration\":1700000000}");
	assert_accepted(MSG_CANCEL, "{}");
	assert_accepted(MSG_HELLO, "{\"proto\":1,\"pid\":42,\"sandbox\":\"\"}");
	assert_accepted(MSG_PROGRESS, "{\"regions_done\":1,"
	    "\"regions_total\":2,\"resources\":0}");
	batch = batch_with(PROTO_RES_TAGS, "null");
	assert_accepted(MSG_RESOURCE_BATCH, batch);
	free(batch);
	batch = batch_with(PROTO_RES_TAGS, "{}");
	assert_accepted(MSG_RESOURCE_BATCH, batch);
	free(batch);
	assert_accepted(MSG_REGION_DONE, "{\"region\":\"eu-west-1\",\"status\":"
	    "\"failed\",\"error\":\"denied\",\"aws_code\":\"AccessDenied\","
	    "\"resources\":0}");
	assert_accepted(MSG_CREDENTIALS_REQUEST, "{}");
	assert_accepted(MSG_LOG, "{\"level\":\"WARNING\",\"message\":\"x\"}");
	assert_accepted(MSG_ACCOUNT_DONE, "{\"account_alias\":null,"
	    "\"resources\":3,\"compliant\":1,\"violations\":2,\"requests\":9}");
	assert_accepted(MSG_ERROR, "{\"message\":\"boom\",\"aws_code\":null}");
}

static void
test_proto_decode_names_missing_unknown_and_mistyped(void **state)
{
	(void)state;
	assert_refused(MSG_HELLO, "{\"proto\":1,\"pid\":42}",
	    "HELLO: sandbox: required key missing");
	assert_refused(MSG_HELLO, "{\"proto\":1,\"pid\":42,\"sandbox\":\"s\","
	    "\"extra\":1}", "HELLO: extra: unknown key");
	assert_refused(MSG_HELLO, "{\"proto\":1,\"pid\":\"42\",\"sandbox\":"
	    "\"s\"}", "HELLO: pid: expected an integer, found a string");
	assert_refused(MSG_HELLO, "{\"proto\":1,\"pid\":4.5,\"sandbox\":\"s\"}",
	    "HELLO: pid: expected an integer, found a real number");
	assert_refused(MSG_HELLO, "{\"proto\":1,\"pid\":0,\"sandbox\":\"s\"}",
	    "HELLO: pid: expected an integer in 1..2147483647, found 0");
	assert_refused(MSG_ERROR, "{\"message\":null,\"aws_code\":null}",
	    "ERROR: message: expected a string, found null");
	assert_refused(MSG_ERROR, "{\"message\":\"\",\"aws_code\":null}",
	    "ERROR: message: expected a non-empty string");
	assert_refused(MSG_ERROR, "{\"message\":\"m\",\"aws_code\":7}",
	    "ERROR: aws_code: expected a string or null, found an integer");
	assert_refused(MSG_CANCEL, "{\"now\":true}",
	    "CANCEL: now: unknown key");
	assert_refused(MSG_HELLO, "[1,2]",
	    "HELLO: expected an object, found an array");
	assert_refused(MSG_ACCOUNT_DONE, "{\"account_alias\":null,"
	    "\"resources\":-1,\"compliant\":0,\"violations\":0,\"requests\":0}",
	    "ACCOUNT_DONE: resources: expected an integer in 0..2147483647, "
	    "found -1");
}

static void
test_proto_decode_checks_job_values(void **state)
{
	(void)state;
	assert_refused(MSG_JOB, "{\"proto\":1,\"job_id\":\"j\",\"account_id\":"
	    "\"12345\",\"home_region\":\"r\",\"regions\":null,"
	    "\"resource_types\":[\"t\"],\"policy\":\"p\",\"max_batch\":1,"
	    "\"refresh_margin_s\":0}", "JOB: account_id: expected 12 digits");
	assert_refused(MSG_JOB, "{\"proto\":1,\"job_id\":\"j\",\"account_id\":"
	    "\"12345678901a\",\"home_region\":\"r\",\"regions\":null,"
	    "\"resource_types\":[\"t\"],\"policy\":\"p\",\"max_batch\":1,"
	    "\"refresh_margin_s\":0}", "JOB: account_id: expected 12 digits");
	assert_refused(MSG_JOB, "{\"proto\":1,\"job_id\":\"j\",\"account_id\":"
	    "\"123456789012\",\"home_region\":\"r\",\"regions\":null,"
	    "\"resource_types\":[],\"policy\":\"p\",\"max_batch\":1,"
	    "\"refresh_margin_s\":0}",
	    "JOB: resource_types: expected 1..64 items, found 0");
	assert_refused(MSG_JOB, "{\"proto\":1,\"job_id\":\"j\",\"account_id\":"
	    "\"123456789012\",\"home_region\":\"r\",\"regions\":[\"a\",3],"
	    "\"resource_types\":[\"t\"],\"policy\":\"p\",\"max_batch\":1,"
	    "\"refresh_margin_s\":0}",
	    "JOB: regions[1]: expected a string, found an integer");
	assert_refused(MSG_JOB, "{\"proto\":1,\"job_id\":\"j\",\"account_id\":"
	    "\"123456789012\",\"home_region\":\"r\",\"regions\":null,"
	    "\"resource_types\":[\"t\"],\"policy\":\"p\",\"max_batch\":1001,"
	    "\"refresh_margin_s\":0}",
	    "JOB: max_batch: expected an integer in 1..1000, found 1001");
}

/* A worker's share of requests in flight: the default up to the ceiling. */
static void
test_proto_decode_checks_limits(void **state)
{
	char body[64], want[128];

	(void)state;
	snprintf(body, sizeof(body), "{\"max_inflight\":%d}", PROTO_INFLIGHT);
	assert_accepted(MSG_LIMITS, body);
	snprintf(body, sizeof(body), "{\"max_inflight\":%d}",
	    PROTO_MAX_INFLIGHT);
	assert_accepted(MSG_LIMITS, body);
	snprintf(body, sizeof(body), "{\"max_inflight\":%d}",
	    PROTO_MAX_INFLIGHT + 1);
	snprintf(want, sizeof(want), "LIMITS: max_inflight: expected an "
	    "integer in %d..%d, found %d", PROTO_INFLIGHT, PROTO_MAX_INFLIGHT,
	    PROTO_MAX_INFLIGHT + 1);
	assert_refused(MSG_LIMITS, body, want);
	snprintf(body, sizeof(body), "{\"max_inflight\":%d}",
	    PROTO_INFLIGHT - 1);
	snprintf(want, sizeof(want), "LIMITS: max_inflight: expected an "
	    "integer in %d..%d, found %d", PROTO_INFLIGHT, PROTO_MAX_INFLIGHT,
	    PROTO_INFLIGHT - 1);
	assert_refused(MSG_LIMITS, body, want);
	assert_refused(MSG_LIMITS, "{\"max_inflight\":\"32\"}",
	    "LIMITS: max_inflight: expected an integer, found a string");
	assert_refused(MSG_LIMITS, "{}",
	    "LIMITS: max_inflight: required key missing");
	assert_refused(MSG_LIMITS, "{\"max_inflight\":32,\"rate\":1}",
	    "LIMITS: rate: unknown key");
}

static void
test_proto_decode_nested_batch_paths(void **state)
{
	char *b;

	(void)state;
	b = batch_with(PROTO_RES_TAGS, "[\"x\"]");
	assert_refused(MSG_RESOURCE_BATCH, b, "RESOURCE_BATCH: resources[0]."
	    "tags: expected an object of strings or null, found an array");
	free(b);
	b = batch_with(PROTO_RES_TAGS, "{\"Owner\":5}");
	assert_refused(MSG_RESOURCE_BATCH, b, "RESOURCE_BATCH: resources[0]."
	    "tags.Owner: expected a string, found an integer");
	free(b);
	b = batch_with(PROTO_RES_IN_SCOPE, "\"yes\"");
	assert_refused(MSG_RESOURCE_BATCH, b, "RESOURCE_BATCH: resources[0]."
	    "in_scope: expected true or false, found a string");
	free(b);
	b = batch_with(PROTO_RES_VIOLATIONS, "[[\"T\",\"invalid_value\","
	    "\"fatal\",\"v\",null,\"m\"]]");
	assert_refused(MSG_RESOURCE_BATCH, b, "RESOURCE_BATCH: resources[0]."
	    "violations[0].severity: expected one of error, warning");
	free(b);
	b = batch_with(PROTO_RES_VIOLATIONS, "[{\"tag_name\":\"T\"}]");
	assert_refused(MSG_RESOURCE_BATCH, b, "RESOURCE_BATCH: resources[0]."
	    "violations[0]: expected a row (an array of 6 values), found an "
	    "object");
	free(b);
	b = batch_with(PROTO_RES_NFIELDS, "\"red\"");
	assert_refused(MSG_RESOURCE_BATCH, b, "RESOURCE_BATCH: resources[0]: "
	    "expected a row of 11 values (resource_arn ... violations), "
	    "found 12");
	free(b);
	b = batch_with(PROTO_RES_ARN, NULL);
	assert_refused(MSG_RESOURCE_BATCH, b, "RESOURCE_BATCH: resources[0]: "
	    "expected a row of 11 values (resource_arn ... violations), "
	    "found 10");
	free(b);
	b = batch_with(PROTO_RES_ARN, "\"\"");
	assert_refused(MSG_RESOURCE_BATCH, b, "RESOURCE_BATCH: resources[0]."
	    "resource_arn: expected a non-empty string");
	free(b);
	assert_refused(MSG_RESOURCE_BATCH, "{\"resources\":[{\"resource_arn\":"
	    "\"a\"}]}", "RESOURCE_BATCH: resources[0]: expected a row (an "
	    "array of 11 values), found an object");
	assert_refused(MSG_RESOURCE_BATCH, "{\"resources\":[]}",
	    "RESOURCE_BATCH: resources: expected 1..1000 items, found 0");
	assert_refused(MSG_REGION_DONE, "{\"region\":\"r\",\"status\":\"done\","
	    "\"error\":null,\"aws_code\":null,\"resources\":0}",
	    "REGION_DONE: status: expected one of ok, failed, skipped");
	assert_refused(MSG_LOG, "{\"level\":\"debug\",\"message\":\"m\"}",
	    "LOG: level: expected one of DEBUG, INFO, WARNING, ERROR");
}

static void
test_proto_decode_bounds_sizes(void **state)
{
	char msg[PROTO_MAX_LOG + 64], *b;
	json_t *many, *r, *v;
	json_error_t je;
	struct errbuf err;
	int i;

	(void)state;
	memset(msg, 'x', PROTO_MAX_LOG + 1);
	snprintf(msg + PROTO_MAX_LOG + 1, 64, "\"}");
	b = NULL;
	assert_true(asprintf(&b, "{\"level\":\"INFO\",\"message\":\"%s", msg)
	    > 0);
	assert_refused(MSG_LOG, b,
	    "LOG: message: expected at most 1024 bytes, found 1025");
	free(b);
	/* 1001 copies of a valid resource: one over PROTO_MAX_BATCH. */
	r = json_loads(valid_resource, 0, &je);
	many = json_array();
	for (i = 0; i < PROTO_MAX_BATCH + 1; i++)
		json_array_append(many, r);
	v = json_pack("{s:o}", "resources", many);
	b = json_dumps(v, JSON_COMPACT);
	assert_refused(MSG_RESOURCE_BATCH, b,
	    "RESOURCE_BATCH: resources: expected 1..1000 items, found 1001");
	free(b);
	json_array_remove(many, 0);
	b = json_dumps(v, JSON_COMPACT);
	assert_accepted(MSG_RESOURCE_BATCH, b);
	free(b);
	json_decref(v);
	json_decref(r);
	assert_null(proto_decode(MSG_LOG, (const unsigned char *)"{}",
	    PROTO_MAX_FRAME + 1, &err));
	assert_string_equal(err.msg, "frame of 4194305 bytes exceeds 4194304");
}

static void
test_proto_decode_rejects_bad_json(void **state)
{
	struct errbuf err;
	json_t *v;

	(void)state;
	v = decode(MSG_CANCEL, "{} trailing", &err);
	assert_null(v);
	assert_true(strncmp(err.msg, "CANCEL: invalid JSON at byte ", 29) == 0);
	assert_null(decode(MSG_HELLO, "{\"proto\":1,\"proto\":1,\"pid\":1,"
	    "\"sandbox\":\"\"}", &err));
	assert_true(strncmp(err.msg, "HELLO: invalid JSON", 19) == 0);
	/* NUL inside a string, and bytes that are not UTF-8. */
	assert_null(decode(MSG_LOG, "{\"level\":\"INFO\",\"message\":"
	    "\"a\\u0000b\"}", &err));
	assert_true(strncmp(err.msg, "LOG: invalid JSON", 17) == 0);
	assert_null(decode(MSG_LOG, "{\"level\":\"INFO\",\"message\":"
	    "\"\xff\xfe\"}", &err));
	assert_true(strncmp(err.msg, "LOG: invalid JSON", 17) == 0);
	assert_null(proto_decode(MSG_CANCEL, (const unsigned char *)"", 0,
	    &err));
	assert_true(strncmp(err.msg, "CANCEL: invalid JSON", 20) == 0);
	assert_null(decode(12345, "{}", &err));
	assert_string_equal(err.msg, "unknown message type 12345");
}

static void
test_proto_decode_never_quotes_credentials(void **state)
{
	struct errbuf err;

	(void)state;
	assert_null(decode(MSG_CREDENTIALS, "{\"access_key_id\":\"AKIDSECRET1\""
	    " wJalrSECRET2", &err));
	assert_null(strstr(err.msg, "SECRET"));
	assert_true(strncmp(err.msg, "CREDENTIALS: invalid JSON at byte ", 34)
	    == 0);
	assert_refused(MSG_CREDENTIALS, "{\"access_key_id\":\"AKIDSECRET1\","
	    "\"secret_access_key\":7,\"session_token\":null,\"expiration\":0}",
	    "CREDENTIALS: secret_access_key: expected a string, found an "
	    "integer");
}

static void
test_proto_decode_sanitises_keys_in_errors(void **state)
{
	(void)state;
	assert_refused(MSG_CANCEL, "{\"a\\nb\\u001b[31m\":1}",
	    "CANCEL: a?b?[31m: unknown key");
}

static void
test_proto_wipe_zeroes_every_string(void **state)
{
	json_t *v;
	const char *s, *t;
	size_t i;

	(void)state;
	v = json_pack("{s:s, s:[s], s:{s:s}}", "a", "secret-one", "b",
	    "secret-two", "c", "d", "secret-three");
	s = json_string_value(json_object_get(v, "a"));
	t = json_string_value(json_object_get(json_object_get(v, "c"), "d"));
	proto_wipe(v);
	for (i = 0; i < strlen("secret-one"); i++)
		assert_int_equal(s[i], 0);
	for (i = 0; i < strlen("secret-three"); i++)
		assert_int_equal(t[i], 0);
	assert_int_equal(json_string_value(json_array_get(json_object_get(v,
	    "b"), 0))[0], 0);
	json_decref(v);
}

/* ---- blocking I/O ---- */

struct dribble {
	int			 fd;
	const unsigned char	*p;
	size_t			 len;
	long			 delay_ns;	/* before the first byte */
};

/*
 * Writes one byte at a time, so every read on the other end is short.
 * SIGALRM is blocked here so that it interrupts the reading thread.
 */
static void *
dribble_main(void *arg)
{
	struct dribble *d = arg;
	struct timespec ts = { 0, 200000 }, first = { 0, d->delay_ns };
	sigset_t alrm;
	size_t i;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	nanosleep(&first, NULL);
	for (i = 0; i < d->len; i++) {
		if (write(d->fd, d->p + i, 1) != 1)
			break;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
test_proto_read_assembles_short_reads(void **state)
{
	unsigned char *frame;
	struct dribble d;
	struct errbuf err;
	pthread_t t;
	uint32_t type;
	size_t len;
	json_t *in, *out;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	in = json_pack("{s:s, s:n}", "message", "hello", "aws_code");
	assert_int_equal(proto_encode(MSG_ERROR, in, &frame, &len, &err), 0);
	d.fd = sv[1];
	d.p = frame;
	d.len = len;
	d.delay_ns = 0;
	assert_int_equal(pthread_create(&t, NULL, dribble_main, &d), 0);
	assert_int_equal(proto_read(sv[0], &type, &out, &err), 0);
	pthread_join(t, NULL);
	assert_int_equal(type, MSG_ERROR);
	assert_true(json_equal(in, out));
	json_decref(in);
	json_decref(out);
	free(frame);
	close(sv[0]);
	close(sv[1]);
}

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* A signal without SA_RESTART interrupts read(); proto_read carries on. */
static void
test_proto_read_survives_eintr(void **state)
{
	struct itimerval it = { { 0, 5000 }, { 0, 5000 } }, off;
	struct sigaction sa;
	struct errbuf err;
	struct dribble d;
	unsigned char *frame;
	pthread_t t;
	uint32_t type;
	size_t len;
	json_t *in, *out;
	int sv[2];

	(void)state;
	memset(&off, 0, sizeof(off));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	in = json_object();
	assert_int_equal(proto_encode(MSG_CANCEL, in, &frame, &len, &err), 0);
	d.fd = sv[1];
	d.p = frame;
	d.len = len;
	d.delay_ns = 100 * 1000 * 1000;	/* read blocks through ~20 alarms */
	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	assert_int_equal(pthread_create(&t, NULL, dribble_main, &d), 0);
	assert_int_equal(proto_read(sv[0], &type, &out, &err), 0);
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_join(t, NULL);
	assert_int_equal(type, MSG_CANCEL);
	assert_true(alarms >= 5);
	json_decref(in);
	json_decref(out);
	free(frame);
	close(sv[0]);
	close(sv[1]);
}

static int
read_after(const void *bytes, size_t n, struct errbuf *err)
{
	uint32_t type;
	json_t *body = NULL;
	int sv[2], rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], bytes, n), (ssize_t)n);
	close(sv[1]);
	rc = proto_read(sv[0], &type, &body, err);
	close(sv[0]);
	json_decref(body);
	return rc;
}

static void
test_proto_read_reports_eof_and_oversize(void **state)
{
	struct errbuf err;

	(void)state;
	assert_int_equal(read_after("", 0, &err), -1);
	assert_string_equal(err.msg, "channel closed by the peer");
	assert_int_equal(read_after("\0\0\0", 3, &err), -1);
	assert_string_equal(err.msg, "channel closed in the middle of a frame "
	    "header (3 of 8 bytes)");
	/* HELLO announcing 10 bytes, 3 sent. */
	assert_int_equal(read_after("\0\0\0\xc8\0\0\0\x0a{\"p", 11, &err), -1);
	assert_string_equal(err.msg, "channel closed in the middle of a HELLO "
	    "frame (3 of 10 bytes)");
	/* 5000000 bytes announced: refused before any body is read. */
	assert_int_equal(read_after("\0\0\0\xc8\0\x4c\x4b\x40", 8, &err), -1);
	assert_string_equal(err.msg, "frame of 5000000 bytes exceeds 4194304");
	assert_int_equal(read_after("\0\0\0\x67\0\0\0\x02{}", 10, &err), 0);
}

static void
test_proto_write_then_read_round_trip(void **state)
{
	struct errbuf err;
	uint32_t type;
	json_t *in, *out;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	in = json_pack("{s:i, s:i, s:i}", "regions_done", 1, "regions_total",
	    17, "resources", 4242);
	assert_int_equal(proto_write(sv[1], MSG_PROGRESS, in, &err), 0);
	assert_int_equal(proto_read(sv[0], &type, &out, &err), 0);
	assert_int_equal(type, MSG_PROGRESS);
	assert_true(json_equal(in, out));
	json_decref(in);
	json_decref(out);
	close(sv[1]);
	signal(SIGPIPE, SIG_IGN);
	in = json_object();
	assert_int_equal(proto_write(sv[0], MSG_CANCEL, in, &err), -1);
	json_decref(in);
	assert_true(strncmp(err.msg, "channel write failed: ", 22) == 0);
	close(sv[0]);
}

/*
 * Text framed by proto_write_text reads back as the same message a json_t
 * would give; an empty or oversized body and an unknown type are refused.
 */
static void
test_proto_write_text_round_trip(void **state)
{
	static const char text[] = "{\"regions_done\":2,\"regions_total\":17,"
	    "\"resources\":7}";
	struct errbuf err;
	uint32_t type;
	json_t *out;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(proto_write_text(sv[1], MSG_PROGRESS, text,
	    strlen(text), &err), 0);
	assert_int_equal(proto_read(sv[0], &type, &out, &err), 0);
	assert_int_equal(type, MSG_PROGRESS);
	assert_int_equal(json_integer_value(json_object_get(out,
	    "resources")), 7);
	json_decref(out);
	assert_int_equal(proto_write_text(sv[1], MSG_PROGRESS, text, 0, &err),
	    -1);
	assert_string_equal(err.msg, "PROGRESS: empty body");
	assert_int_equal(proto_write_text(sv[1], MSG_PROGRESS, text,
	    (size_t)PROTO_MAX_FRAME + 1, &err), -1);
	assert_non_null(strstr(err.msg, "exceeds"));
	assert_int_equal(proto_write_text(sv[1], 9999, text, strlen(text),
	    &err), -1);
	assert_string_equal(err.msg, "unknown message type 9999");
	close(sv[0]);
	close(sv[1]);
}

/* ---- random input ---- */

static const uint32_t all_types[] = {
	MSG_JOB, MSG_CREDENTIALS, MSG_CREDENTIALS_REFRESHED, MSG_CANCEL,
	MSG_LIMITS, MSG_HELLO, MSG_PROGRESS, MSG_RESOURCE_BATCH,
	MSG_REGION_DONE, MSG_CREDENTIALS_REQUEST, MSG_LOG, MSG_ACCOUNT_DONE,
	MSG_ERROR,
};

/* Random bytes, and valid bodies with random bytes changed: any outcome
 * but a crash is fine, and a refusal always says why. */
static void
test_proto_decode_random_input_never_crashes(void **state)
{
	const char *seeds[] = { valid_job, valid_creds, valid_resource,
	    "{\"resources\":[]}" };
	unsigned char buf[512];
	struct errbuf err;
	size_t len, i, t;
	json_t *v;
	int round;

	(void)state;
	srandom(20240501);
	for (round = 0; round < 20000; round++) {
		t = (size_t)random() % nitems(all_types);
		if (round % 2 == 0) {
			len = (size_t)random() % sizeof(buf);
			for (i = 0; i < len; i++)
				buf[i] = (unsigned char)random();
		} else {
			len = strlen(seeds[round % 4]);
			memcpy(buf, seeds[round % 4], len);
			for (i = 0; i < 3; i++)
				buf[(size_t)random() % len] =
				    (unsigned char)random();
		}
		err_clear(&err);
		v = proto_decode(all_types[t], buf, len, &err);
		if (v == NULL)
			assert_true(err.msg[0] != '\0');
		json_decref(v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_type_names),
		cmocka_unit_test(test_proto_row_names),
		cmocka_unit_test(test_proto_encode_header_network_order),
		cmocka_unit_test(test_proto_encode_refuses_oversize_and_unknown),
		cmocka_unit_test(test_proto_header_checks_type_and_size),
		cmocka_unit_test(test_proto_decode_accepts_every_documented_shape),
		cmocka_unit_test(test_proto_decode_names_missing_unknown_and_mistyped),
		cmocka_unit_test(test_proto_decode_checks_job_values),
		cmocka_unit_test(test_proto_decode_checks_limits),
		cmocka_unit_test(test_proto_decode_nested_batch_paths),
		cmocka_unit_test(test_proto_decode_bounds_sizes),
		cmocka_unit_test(test_proto_decode_rejects_bad_json),
		cmocka_unit_test(test_proto_decode_never_quotes_credentials),
		cmocka_unit_test(test_proto_decode_sanitises_keys_in_errors),
		cmocka_unit_test(test_proto_wipe_zeroes_every_string),
		cmocka_unit_test(test_proto_read_assembles_short_reads),
		cmocka_unit_test(test_proto_read_survives_eintr),
		cmocka_unit_test(test_proto_read_reports_eof_and_oversize),
		cmocka_unit_test(test_proto_write_then_read_round_trip),
		cmocka_unit_test(test_proto_write_text_round_trip),
		cmocka_unit_test(test_proto_decode_random_input_never_crashes),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
