/*
 * result: the score and totals worked out by hand, failed accounts left
 * out, the bounded violation list and its severity filter, data_quality,
 * and the exact field names of DESIGN.md section 6.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "errbuf.h"
#include "proto.h"
#include "result.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define ACCT_A	"111111111111"
#define ACCT_B	"222222222222"
#define ACCT_C	"333333333333"
#define ACCT_D	"444444444444"
#define ACCT_E	"555555555555"

/*
 * A RESOURCE_BATCH resource row (common/proto.h) with nerr "error" and
 * nwarn "warning" violations. readable 0 gives tags null.
 */
static json_t *
mkres(const char *arn, const char *type, int readable, int in_scope,
    int compliant, int nerr, int nwarn)
{
	json_t *r, *vs = json_array();
	int i;

	/* Rows: tag_name, violation_type, severity, current_value,
	 * allowed_values, message. */
	for (i = 0; i < nerr + nwarn; i++)
		json_array_append_new(vs, json_pack("[s, s, s, n, [s, s], s]",
		    i < nerr ? "Owner" : "CostCenter", i < nerr ?
		    "missing_required_tag" : "invalid_value",
		    i < nerr ? "error" : "warning", "a", "b", "tag missing"));
	/* resource_arn, resource_id, resource_type, region, tags,
	 * tags_error, created_at, state, in_scope, compliant, violations */
	r = json_pack("[s, s, s, s, o, o, n, n, b, b, o]", arn,
	    strrchr(arn, '/') + 1, type, "us-east-1",
	    readable ? json_pack("{s:s}", "Name", "x") : json_null(),
	    readable ? json_null() :
	    json_string("AccessDenied: GetBucketTagging"),
	    in_scope, compliant, vs);
	assert_non_null(r);
	return r;
}

static void
add(struct result_account *a, const char *arn, int in_scope, int compliant,
    int nerr, int nwarn)
{
	struct errbuf err;
	json_t *r = mkres(arn, "ec2:instance", 1, in_scope, compliant, nerr,
	    nwarn);

	assert_int_equal(result_add_resource(a, r, &err), 0);
	json_decref(r);
}

/* n resources named <prefix>/<i>, the first ncompliant compliant. */
static void
add_many(struct result_account *a, const char *prefix, int n, int ncompliant,
    int nerr_each)
{
	char arn[128];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(arn, sizeof(arn), "arn:aws:ec2:us-east-1:%s/%d",
		    prefix, i);
		add(a, arn, 1, i < ncompliant, i < ncompliant ? 0 : nerr_each,
		    0);
	}
}

static double
jreal(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_real(v));
	return json_real_value(v);
}

static long long
jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* The object has exactly these keys. */
static void
assert_keys(const json_t *o, const char *const *keys, size_t n)
{
	size_t i;

	assert_true(json_is_object(o));
	for (i = 0; i < n; i++)
		if (json_object_get(o, keys[i]) == NULL)
			fail_msg("missing key %s", keys[i]);
	assert_int_equal(json_object_size(o), n);
}

static int
has_note(const json_t *o, const char *needle)
{
	const json_t *n;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(o, "data_quality"),
	    "notes"), i, n)
		if (strstr(json_string_value(n), needle) != NULL)
			return 1;
	return 0;
}

static void
test_result_score_by_hand(void **state)
{
	struct result *res = result_new(1, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct result_account *b = result_add_account(res, ACCT_B);
	json_t *o, *ba, *bb;

	(void)state;
	/* A: 4 in scope, 3 compliant, plus 1 out of scope (not counted). */
	add(a, "arn:aws:ec2:us-east-1:a/1", 1, 1, 0, 0);
	add(a, "arn:aws:ec2:us-east-1:a/2", 1, 1, 0, 1);
	add(a, "arn:aws:ec2:us-east-1:a/3", 1, 1, 0, 0);
	add(a, "arn:aws:ec2:us-east-1:a/4", 1, 0, 2, 0);
	add(a, "arn:aws:ec2:us-east-1:a/5", 0, 0, 0, 0);
	/* B: 2 in scope, none compliant, one error each. */
	add(b, "arn:aws:ec2:us-east-1:b/1", 1, 0, 1, 0);
	add(b, "arn:aws:ec2:us-east-1:b/2", 1, 0, 1, 0);
	result_finish_account(a, RESULT_OK, NULL, "prod", 1200);
	result_finish_account(b, RESULT_OK, NULL, NULL, 900);
	o = result_json(res, RESULT_SEVERITY_ALL);
	/* 3 + 0 compliant of 4 + 2 resources: 3/6 = 0.5. */
	assert_int_equal(jint(o, "total_resources"), 6);
	assert_int_equal(jint(o, "compliant_resources"), 3);
	assert_true(jreal(o, "compliance_score") == 0.5);
	/* 1 warning + 2 errors in A, 2 errors in B. */
	assert_int_equal(jint(o, "violation_count_total"), 5);
	assert_int_equal(json_array_size(json_object_get(o, "violations")), 5);
	ba = json_object_get(json_object_get(o, "account_breakdown"), ACCT_A);
	bb = json_object_get(json_object_get(o, "account_breakdown"), ACCT_B);
	assert_true(jreal(ba, "compliance_score") == 0.75);	/* 3/4 */
	assert_true(jreal(bb, "compliance_score") == 0.0);	/* 0/2 */
	assert_int_equal(jint(ba, "violation_count"), 3);
	assert_int_equal(jint(bb, "violation_count"), 2);
	assert_string_equal(json_string_value(json_object_get(ba,
	    "account_alias")), "prod");
	assert_true(json_is_null(json_object_get(bb, "account_alias")));
	json_decref(o);
	result_free(res);
}

static void
test_result_failed_accounts_excluded(void **state)
{
	struct result *res = result_new(1, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct result_account *b = result_add_account(res, ACCT_B);
	struct result_account *c = result_add_account(res, ACCT_C);
	json_t *o, *md;
	struct result_totals t;

	(void)state;
	add_many(a, "a", 4, 2, 1);
	/* B streamed 10 resources, then timed out: none of them count. */
	add_many(b, "b", 10, 10, 0);
	result_finish_account(a, RESULT_OK, NULL, NULL, 10);
	result_finish_account(b, RESULT_TIMEOUT, "scan timed out after 30 s",
	    NULL, 30000);
	result_finish_account(c, RESULT_FAILED, "AssumeRole failed for "
	    "arn:aws:iam::333333333333:role/R: AccessDenied: no", NULL, 5);
	o = result_json(res, RESULT_SEVERITY_ALL);
	/* Only A: 2 of 4. */
	assert_int_equal(jint(o, "total_resources"), 4);
	assert_int_equal(jint(o, "compliant_resources"), 2);
	assert_true(jreal(o, "compliance_score") == 0.5);
	md = json_object_get(o, "account_metadata");
	assert_int_equal(jint(md, "total_accounts"), 3);
	assert_int_equal(json_array_size(json_object_get(md,
	    "successful_accounts")), 1);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(md, "failed_accounts"), 0)), ACCT_B);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(md, "failed_accounts"), 1)), ACCT_C);
	assert_null(json_object_get(json_object_get(o, "account_breakdown"),
	    ACCT_B));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    o, "account_errors"), ACCT_B)), "scan timed out after 30 s");
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(o, "account_errors"), ACCT_C)), "AssumeRole"));
	result_totals(res, &t);
	assert_int_equal(t.ok, 1);
	assert_false(t.complete);
	assert_int_equal(b->seen, 0);
	json_decref(o);
	result_free(res);
}

static void
test_result_empty_scores_one(void **state)
{
	struct result *res = result_new(0, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	json_t *o;

	(void)state;
	result_finish_account(a, RESULT_OK, NULL, NULL, 1);
	o = result_json(res, RESULT_SEVERITY_ALL);
	assert_int_equal(jint(o, "total_resources"), 0);
	assert_true(jreal(o, "compliance_score") == 1.0);
	assert_true(json_is_true(json_object_get(json_object_get(o,
	    "data_quality"), "complete")));
	json_decref(o);
	result_free(res);
	/* No account at all: also 1.0. */
	res = result_new(1, 0);
	o = result_json(res, RESULT_SEVERITY_ALL);
	assert_true(jreal(o, "compliance_score") == 1.0);
	json_decref(o);
	result_free(res);
	assert_true(result_score(0, 0) == 1.0);
	assert_true(result_score(1, 3) == 1.0 / 3.0);
}

/* 1500 errors and 300 warnings in one account. */
static struct result *
big_result(void)
{
	struct result *res = result_new(0, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct errbuf err;
	char arn[64];
	json_t *r;
	int i;

	for (i = 0; i < 1800; i++) {
		snprintf(arn, sizeof(arn), "arn:aws:ec2:us-east-1:x/%d", i);
		r = mkres(arn, "ec2:instance", 1, 1, i >= 1500, i < 1500,
		    i >= 1500);
		assert_int_equal(result_add_resource(a, r, &err), 0);
		json_decref(r);
	}
	result_finish_account(a, RESULT_OK, NULL, NULL, 1);
	return res;
}

static void
test_result_truncation(void **state)
{
	struct result *res = big_result();
	json_t *o, *list;

	(void)state;
	o = result_json(res, RESULT_SEVERITY_ALL);
	list = json_object_get(o, "violations");
	assert_int_equal(json_array_size(list), RESULT_MAX_VIOLATIONS);
	assert_true(json_is_true(json_object_get(o, "violations_truncated")));
	assert_int_equal(jint(o, "violation_count_total"), 1800);
	assert_int_equal(jint(o, "violation_count_filtered"), 1800);
	/* The first 1000 in arrival order: x/0 .. x/999. */
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(list, 999), "resource_id")), "999");
	json_decref(o);
	o = result_json(res, RESULT_SEVERITY_WARNINGS_ONLY);
	/* 300 warnings fit: all of them, not truncated. */
	assert_int_equal(json_array_size(json_object_get(o, "violations")),
	    300);
	assert_false(json_is_true(json_object_get(o, "violations_truncated")));
	assert_int_equal(jint(o, "violation_count_filtered"), 300);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "violations"), 0), "resource_id")), "1500");
	json_decref(o);
	o = result_json(res, RESULT_SEVERITY_ERRORS_ONLY);
	assert_int_equal(json_array_size(json_object_get(o, "violations")),
	    RESULT_MAX_VIOLATIONS);
	assert_true(json_is_true(json_object_get(o, "violations_truncated")));
	assert_int_equal(jint(o, "violation_count_filtered"), 1500);
	json_decref(o);
	result_free(res);
}

static void
test_result_severity_filter_keeps_counts(void **state)
{
	static const enum result_severity filters[] = {
		RESULT_SEVERITY_ALL, RESULT_SEVERITY_ERRORS_ONLY,
		RESULT_SEVERITY_WARNINGS_ONLY
	};
	static const size_t listed[] = { 5, 3, 2 };	/* 3 errors, 2 warnings */
	struct result *res = result_new(1, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	const json_t *v;
	json_t *o;
	size_t i, j;

	(void)state;
	add(a, "arn:aws:ec2:us-east-1:a/1", 1, 0, 2, 1);
	add(a, "arn:aws:ec2:us-east-1:a/2", 1, 1, 0, 1);
	add(a, "arn:aws:ec2:us-east-1:a/3", 1, 0, 1, 0);
	result_finish_account(a, RESULT_OK, NULL, NULL, 1);
	for (i = 0; i < nitems(filters); i++) {
		o = result_json(res, filters[i]);
		assert_int_equal(jint(o, "total_resources"), 3);
		assert_int_equal(jint(o, "compliant_resources"), 1);
		assert_int_equal(jint(o, "violation_count_total"), 5);
		assert_int_equal(jint(json_object_get(json_object_get(o,
		    "account_breakdown"), ACCT_A), "violation_count"), 5);
		assert_int_equal(json_array_size(json_object_get(o,
		    "violations")), listed[i]);
		assert_string_equal(json_string_value(json_object_get(o,
		    "severity_filter")), result_severity_name(filters[i]));
		json_array_foreach(json_object_get(o, "violations"), j, v) {
			if (filters[i] == RESULT_SEVERITY_ERRORS_ONLY)
				assert_string_equal(json_string_value(
				    json_object_get(v, "severity")), "error");
			if (filters[i] == RESULT_SEVERITY_WARNINGS_ONLY)
				assert_string_equal(json_string_value(
				    json_object_get(v, "severity")), "warning");
		}
		json_decref(o);
	}
	result_free(res);
}

static void
test_result_severity_names(void **state)
{
	enum result_severity s;

	(void)state;
	assert_int_equal(result_severity_parse("errors_only", &s), 0);
	assert_int_equal(s, RESULT_SEVERITY_ERRORS_ONLY);
	assert_int_equal(result_severity_parse("warnings_only", &s), 0);
	assert_int_equal(s, RESULT_SEVERITY_WARNINGS_ONLY);
	assert_int_equal(result_severity_parse("all", &s), 0);
	assert_int_equal(s, RESULT_SEVERITY_ALL);
	assert_int_equal(result_severity_parse("errors", &s), -1);
	assert_string_equal(result_status_name(RESULT_TIMEOUT), "timeout");
}

static json_t *
region(const char *name, const char *status, const char *error,
    const char *code)
{
	return json_pack("{s:s, s:s, s:s?, s:s?, s:i}", "region", name,
	    "status", status, "error", error, "aws_code", code, "resources", 0);
}

static struct result *
quality_result(void)
{
	struct result *res = result_new(1, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct result_account *b = result_add_account(res, ACCT_B);
	struct result_account *c = result_add_account(res, ACCT_C);
	struct result_account *d = result_add_account(res, ACCT_D);
	struct result_account *e = result_add_account(res, ACCT_E);
	struct errbuf err;
	json_t *r;

	add_many(a, "a", 3, 3, 0);
	r = mkres("arn:aws:s3:::locked/b", "s3:bucket", 0, 1, 0, 0, 0);
	assert_int_equal(result_add_resource(a, r, &err), 0);
	json_decref(r);
	/* Unreadable but out of scope: its tags would not have mattered. */
	r = mkres("arn:aws:sns:us-east-1:1:topic/t", "sns:topic", 0, 0, 0, 0,
	    0);
	assert_int_equal(result_add_resource(a, r, &err), 0);
	json_decref(r);
	r = region("eu-west-1", "failed", "DescribeInstances refused",
	    "UnauthorizedOperation");
	result_add_region(a, r);
	json_decref(r);
	r = region("ap-east-1", "skipped", "region not enabled", NULL);
	result_add_region(a, r);
	json_decref(r);
	r = region("us-east-1", "ok", NULL, NULL);
	result_add_region(a, r);
	json_decref(r);
	result_finish_account(a, RESULT_OK, NULL, NULL, 1);
	result_finish_account(b, RESULT_FAILED, "worker crashed (signal 31)",
	    NULL, 1);
	result_finish_account(c, RESULT_TIMEOUT, "scan timed out after 30 s",
	    NULL, 1);
	result_finish_account(d, RESULT_CANCELLED, "scan cancelled", NULL, 1);
	result_finish_account(e, RESULT_SKIPPED, "not requested again", NULL,
	    0);
	return res;
}

static void
test_result_data_quality(void **state)
{
	struct result *res = quality_result();
	json_t *o, *dq, *ns, *rs, *md;

	(void)state;
	result_note(res, "history not stored: disk full");
	o = result_json(res, RESULT_SEVERITY_ALL);
	dq = json_object_get(o, "data_quality");
	assert_false(json_is_true(json_object_get(dq, "complete")));
	assert_false(json_is_true(json_object_get(dq, "cost_data_collected")));
	ns = json_object_get(dq, "accounts_not_scanned");
	assert_int_equal(json_array_size(ns), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ns, 0), "status")), "failed");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ns, 1), "status")), "timeout");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ns, 2), "status")), "cancelled");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ns, 3), "status")), "skipped");
	rs = json_object_get(dq, "regions_not_scanned");
	assert_int_equal(json_array_size(rs), 2);	/* the ok one is not */
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    rs, 0), "aws_code")), "UnauthorizedOperation");
	assert_int_equal(jint(dq, "unreadable_tags_count"), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(dq, "unreadable_tags"), 0), "resource_arn")),
	    "arn:aws:s3:::locked/b");
	/* The unreadable bucket is neither counted nor a violation. */
	assert_int_equal(jint(o, "total_resources"), 3);
	assert_int_equal(jint(o, "violation_count_total"), 0);
	assert_true(has_note(o, "cost data not collected"));
	assert_true(has_note(o, "worker crashed (signal 31)"));
	assert_true(has_note(o, "region eu-west-1 failed "
	    "(UnauthorizedOperation)"));
	assert_true(has_note(o, "region ap-east-1 skipped"));
	assert_true(has_note(o, "history not stored: disk full"));
	md = json_object_get(o, "account_metadata");
	assert_int_equal(json_array_size(json_object_get(md,
	    "failed_accounts")), 2);	/* failed and timed out */
	assert_int_equal(json_array_size(json_object_get(md,
	    "skipped_accounts")), 2);	/* cancelled and skipped */
	json_decref(o);
	result_free(res);
}

static void
test_result_data_quality_clean_and_cached(void **state)
{
	struct result *res = result_new(0, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	json_t *o, *dq, *c;

	(void)state;
	add_many(a, "a", 2, 1, 1);
	result_set_cached(a, 1700000000);
	result_finish_account(a, RESULT_OK, NULL, NULL, 0);
	o = result_json(res, RESULT_SEVERITY_ALL);
	dq = json_object_get(o, "data_quality");
	assert_true(json_is_true(json_object_get(dq, "complete")));
	assert_int_equal(json_array_size(json_object_get(dq,
	    "accounts_not_scanned")), 0);
	c = json_array_get(json_object_get(dq, "cached_accounts"), 0);
	/* 1700000000 is 2023-11-14 22:13:20 UTC. */
	assert_string_equal(json_string_value(json_object_get(c,
	    "scanned_at")), "2023-11-14T22:13:20Z");
	assert_true(has_note(o, "cost data not collected"));
	json_decref(o);
	result_free(res);
}

static void
test_result_fields_single(void **state)
{
	/* DESIGN.md section 6 plus the documented extras, nothing else. */
	static const char *const keys[] = {
		"compliance_score", "total_resources", "compliant_resources",
		"violations", "cost_attribution_gap", "scan_timestamp",
		"severity_filter", "violation_count_total",
		"violation_count_filtered", "violations_truncated",
		"data_quality"
	};
	static const char *const vkeys[] = {
		"resource_id", "resource_type", "resource_arn", "region",
		"account_id", "tag_name", "violation_type", "severity",
		"current_value", "allowed_values", "message"
	};
	static const char *const dqkeys[] = {
		"complete", "accounts_not_scanned", "regions_not_scanned",
		"unreadable_tags", "unreadable_tags_count", "cached_accounts",
		"cost_data_collected", "notes"
	};
	struct result *res = result_new(0, 1700000000);
	struct result_account *a = result_add_account(res, ACCT_A);
	json_t *o, *v;

	(void)state;
	add(a, "arn:aws:ec2:us-east-1:a/i-1", 1, 0, 1, 0);
	result_finish_account(a, RESULT_OK, NULL, NULL, 1);
	o = result_json(res, RESULT_SEVERITY_ALL);
	assert_keys(o, keys, nitems(keys));
	assert_true(json_is_null(json_object_get(o, "cost_attribution_gap")));
	assert_string_equal(json_string_value(json_object_get(o,
	    "scan_timestamp")), "2023-11-14T22:13:20Z");
	v = json_array_get(json_object_get(o, "violations"), 0);
	assert_keys(v, vkeys, nitems(vkeys));
	assert_string_equal(json_string_value(json_object_get(v,
	    "account_id")), ACCT_A);
	assert_string_equal(json_string_value(json_object_get(v, "region")),
	    "us-east-1");
	assert_string_equal(json_string_value(json_object_get(v,
	    "resource_id")), "i-1");
	assert_string_equal(json_string_value(json_object_get(v,
	    "violation_type")), "missing_required_tag");
	assert_true(json_is_null(json_object_get(v, "current_value")));
	assert_int_equal(json_array_size(json_object_get(v, "allowed_values")),
	    2);
	assert_keys(json_object_get(o, "data_quality"), dqkeys,
	    nitems(dqkeys));
	json_decref(o);
	result_free(res);
}

static void
test_result_fields_multi(void **state)
{
	static const char *const mdkeys[] = {
		"total_accounts", "successful_accounts", "failed_accounts",
		"skipped_accounts"
	};
	static const char *const bkeys[] = {
		"account_id", "account_alias", "total_resources",
		"compliant_resources", "compliance_score", "violation_count",
		"cost_attribution_gap"
	};
	struct result *res = result_new(1, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	json_t *o, *b;

	(void)state;
	add(a, "arn:aws:ec2:us-east-1:a/i-1", 1, 1, 0, 0);
	result_finish_account(a, RESULT_OK, NULL, "alias-a", 1);
	o = result_json(res, RESULT_SEVERITY_ALL);
	assert_int_equal(json_object_size(o), 11 + 3);
	assert_keys(json_object_get(o, "account_metadata"), mdkeys,
	    nitems(mdkeys));
	b = json_object_get(json_object_get(o, "account_breakdown"), ACCT_A);
	assert_keys(b, bkeys, nitems(bkeys));
	assert_true(json_is_null(json_object_get(b, "cost_attribution_gap")));
	assert_true(json_is_object(json_object_get(o, "account_errors")));
	assert_int_equal(json_object_size(json_object_get(o,
	    "account_errors")), 0);
	json_decref(o);
	result_free(res);
}

/*
 * The cost phase's answer: the scan's gap is the sum of the accounts' cents
 * (12.34 + 0.66 = 13.00), an account without one is null and makes
 * cost_data_collected false; no block at all says why.
 */
static void
test_result_cost_gap(void **state)
{
	struct result *res = result_new(1, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct result_account *b = result_add_account(res, ACCT_B);
	struct result_account *c = result_add_account(res, "333333333333");
	json_t *o, *bd, *dq;

	(void)state;
	add(a, "arn:aws:ec2:us-east-1:a/i-1", 1, 0, 1, 0);
	add(b, "arn:aws:ec2:us-east-1:b/i-1", 1, 1, 0, 0);
	result_finish_account(a, RESULT_OK, NULL, NULL, 1);
	result_finish_account(b, RESULT_OK, NULL, NULL, 1);
	result_finish_account(c, RESULT_OK, NULL, NULL, 1);
	o = result_json(res, RESULT_SEVERITY_ALL);
	assert_true(json_is_null(json_object_get(o, "cost_attribution_gap")));
	assert_true(has_note(o, "cost data not collected (not asked for)"));
	json_decref(o);
	result_set_account_cost(a, 1234);
	result_set_account_cost(b, 66);
	result_set_cost(res, json_pack("{s:i}", "ce_requests", 3), NULL);
	o = result_json(res, RESULT_SEVERITY_ALL);
	assert_true(jreal(o, "cost_attribution_gap") == 13.0);
	bd = json_object_get(o, "account_breakdown");
	assert_true(jreal(json_object_get(bd, ACCT_A),
	    "cost_attribution_gap") == 12.34);
	assert_true(json_is_null(json_object_get(json_object_get(bd,
	    "333333333333"), "cost_attribution_gap")));
	assert_int_equal(jint(json_object_get(o, "cost_attribution"),
	    "ce_requests"), 3);
	dq = json_object_get(o, "data_quality");
	assert_true(json_is_false(json_object_get(dq, "cost_data_collected")));
	assert_false(has_note(o, "cost data not collected"));
	json_decref(o);
	result_set_account_cost(c, 0);
	o = result_json(res, RESULT_SEVERITY_ALL);
	dq = json_object_get(o, "data_quality");
	assert_true(json_is_true(json_object_get(dq, "cost_data_collected")));
	json_decref(o);
	result_set_cost(res, NULL, "COST_EXPLORER_ENABLED=false");
	o = result_json(res, RESULT_SEVERITY_ALL);
	assert_true(has_note(o, "(COST_EXPLORER_ENABLED=false)"));
	assert_null(json_object_get(o, "cost_attribution"));
	json_decref(o);
	result_free(res);
}

static void
test_result_duplicate_arn_ignored(void **state)
{
	struct result *res = result_new(0, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct errbuf err;
	json_t *r = mkres("arn:aws:ec2:us-east-1:a/i-1", "ec2:instance", 1, 1,
	    0, 1, 0);

	(void)state;
	assert_int_equal(result_add_resource(a, r, &err), 0);
	assert_int_equal(result_add_resource(a, r, &err), 1);
	assert_int_equal(a->total, 1);
	assert_int_equal(a->violations, 1);
	json_decref(r);
	result_free(res);
}

static void
test_result_invalid_resource_rejected(void **state)
{
	struct result *res = result_new(0, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct errbuf err;
	json_t *r = mkres("arn:aws:ec2:us-east-1:a/i-1", "ec2:instance", 1, 1,
	    0, 2, 0);

	(void)state;
	json_array_set_new(json_array_get(json_array_get(r,
	    PROTO_RES_VIOLATIONS), 1), PROTO_VIOL_SEVERITY,
	    json_string("fatal"));
	assert_int_equal(result_add_resource(a, r, &err), -1);
	assert_string_equal(err.msg, "violations[1].severity: expected error "
	    "or warning");
	json_array_remove(json_array_get(json_array_get(r,
	    PROTO_RES_VIOLATIONS), 1), PROTO_VIOL_MESSAGE);
	assert_int_equal(result_add_resource(a, r, &err), -1);
	assert_string_equal(err.msg, "violations[1]: expected a row of 6 "
	    "values");
	json_array_set_new(r, PROTO_RES_REGION, json_string(""));
	assert_int_equal(result_add_resource(a, r, &err), -1);
	assert_string_equal(err.msg, "region: expected a non-empty string");
	json_array_remove(r, PROTO_RES_VIOLATIONS);
	assert_int_equal(result_add_resource(a, r, &err), -1);
	assert_string_equal(err.msg, "expected a row of 11 values");
	assert_int_equal(a->seen, 0);
	json_decref(r);
	result_free(res);
}

/* Violations follow the accounts' order, not the order they finished. */
static void
test_result_account_order(void **state)
{
	struct result *res = result_new(1, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct result_account *b = result_add_account(res, ACCT_B);
	json_t *o, *list;

	(void)state;
	add(b, "arn:aws:ec2:us-east-1:b/i-b", 1, 0, 1, 0);
	result_finish_account(b, RESULT_OK, NULL, NULL, 1);
	add(a, "arn:aws:ec2:us-east-1:a/i-a", 1, 0, 1, 0);
	result_finish_account(a, RESULT_OK, NULL, NULL, 1);
	o = result_json(res, RESULT_SEVERITY_ALL);
	list = json_object_get(o, "violations");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "account_id")), ACCT_A);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 1), "account_id")), ACCT_B);
	assert_int_equal(result_naccounts(res), 2);
	assert_string_equal(result_account_at(res, 1)->account_id, ACCT_B);
	assert_null(result_account_at(res, 2));
	json_decref(o);
	result_free(res);
}

/* The severities of a list, in order, as one letter each (e / w). */
static void
list_severities(const json_t *o, char *out, size_t size)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(o, "violations"), i, v) {
		assert_true(i + 1 < size);
		out[i] = json_string_value(json_object_get(v, "severity"))[0];
		out[i + 1] = '\0';
	}
}

/*
 * Once the ok accounts before one keep a list's worth of a severity, it
 * keeps none of that severity, and every list is still what it would
 * have been: account order, arrival order, the first 1000.
 */
static void
test_result_kept_bounded(void **state)
{
	struct result *res = result_new(1, 0);
	struct result_account *a = result_add_account(res, ACCT_A);
	struct result_account *b = result_add_account(res, ACCT_B);
	struct result_account *c = result_add_account(res, ACCT_C);
	struct result_account *d = result_add_account(res, ACCT_D);
	char arn[64], sev[RESULT_MAX_VIOLATIONS + 1];
	json_t *o;
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		snprintf(arn, sizeof(arn), "arn:aws:ec2:us-east-1:a/w%d", i);
		add(a, arn, 1, 0, 0, 1);
	}
	add_many(a, "a", RESULT_MAX_VIOLATIONS, 0, 1);
	/* B, before C, is still scanning when A ends; then it fails. */
	add(b, "arn:aws:ec2:us-east-1:b/1", 1, 0, 3, 3);
	result_finish_account(a, RESULT_OK, NULL, NULL, 1);
	add(c, "arn:aws:ec2:us-east-1:c/1", 1, 0, 5, 5);
	/* A's end dropped B's errors; C, added after, kept none. */
	assert_int_equal(b->kept_errors, 0);
	assert_int_equal(b->kept_warnings, 3);
	assert_int_equal(c->kept_errors, 0);
	assert_int_equal(c->kept_warnings, 5);
	result_finish_account(b, RESULT_FAILED, "boom", NULL, 1);
	result_finish_account(c, RESULT_OK, NULL, NULL, 1);
	add(d, "arn:aws:ec2:us-east-1:d/1", 1, 0, 2, 3);
	result_finish_account(d, RESULT_OK, NULL, NULL, 1);
	/* D's errors were dropped when C ended; its warnings are kept. */
	assert_int_equal(d->kept_errors, 0);
	assert_int_equal(d->kept_warnings, 3);
	o = result_json(res, RESULT_SEVERITY_ALL);
	list_severities(o, sev, sizeof(sev));
	assert_int_equal(strlen(sev), RESULT_MAX_VIOLATIONS);
	assert_int_equal(strspn(sev, "w"), 10);
	assert_int_equal(strspn(sev + 10, "e"), RESULT_MAX_VIOLATIONS - 10);
	assert_int_equal(jint(o, "violation_count_total"),
	    10 + RESULT_MAX_VIOLATIONS + 10 + 5);
	json_decref(o);
	o = result_json(res, RESULT_SEVERITY_WARNINGS_ONLY);
	assert_int_equal(json_array_size(json_object_get(o, "violations")),
	    10 + 5 + 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "violations"), 10), "account_id")), ACCT_C);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "violations"), 15), "account_id")), ACCT_D);
	json_decref(o);
	o = result_json(res, RESULT_SEVERITY_ERRORS_ONLY);
	assert_int_equal(json_array_size(json_object_get(o, "violations")),
	    RESULT_MAX_VIOLATIONS);
	assert_int_equal(jint(o, "violation_count_filtered"),
	    RESULT_MAX_VIOLATIONS + 5 + 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "violations"), RESULT_MAX_VIOLATIONS - 1),
	    "account_id")), ACCT_A);
	json_decref(o);
	result_free(res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_score_by_hand),
		cmocka_unit_test(test_result_failed_accounts_excluded),
		cmocka_unit_test(test_result_empty_scores_one),
		cmocka_unit_test(test_result_truncation),
		cmocka_unit_test(test_result_severity_filter_keeps_counts),
		cmocka_unit_test(test_result_severity_names),
		cmocka_unit_test(test_result_data_quality),
		cmocka_unit_test(test_result_data_quality_clean_and_cached),
		cmocka_unit_test(test_result_fields_single),
		cmocka_unit_test(test_result_fields_multi),
		cmocka_unit_test(test_result_cost_gap),
		cmocka_unit_test(test_result_duplicate_arn_ignored),
		cmocka_unit_test(test_result_invalid_resource_rejected),
		cmocka_unit_test(test_result_account_order),
		cmocka_unit_test(test_result_kept_bounded),
	};

	return cmocka_run_group_tests_name("result", tests, NULL, NULL);
}
