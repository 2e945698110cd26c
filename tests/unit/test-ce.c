/*
 * ce: the request body of each page, the summing of reply pages into lines
 * and the decimal amounts. Requests are compared with bodies written by
 * hand from the Cost Explorer API reference (botocore's ce model: TimePeriod,
 * Granularity, Metrics, GroupBy, Filter, NextPageToken); replies are written
 * by hand in that model's ResultsByTime/Groups/Keys/Metrics shape, and every
 * expected sum is worked out by hand in a comment. Whole fetches run against
 * the emulator in tests/integration/ce-emulator.py.
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

#include "ce.h"
#include "errbuf.h"

#define T_A		"111122223333"
#define T_B		"444455556666"

static const char *const t_accounts[] = { T_A, T_B };

static void
t_query(struct ce_query *q, const char *tag_key)
{
	memset(q, 0, sizeof(*q));
	q->tag_key = tag_key;
	snprintf(q->start, sizeof(q->start), "2024-05-01");
	snprintf(q->end, sizeof(q->end), "2024-07-01");
	q->metric = CE_METRIC_UNBLENDED;
	q->accounts = t_accounts;
	q->naccounts = 2;
}

/* JSON written with ' for " so the texts below stay readable. */
static json_t *
t_json(const char *text)
{
	json_error_t jerr;
	char *s, *p;
	json_t *v;

	s = strdup(text);
	assert_non_null(s);
	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		fail_msg("test JSON: %s: %s", jerr.text, s);
	free(s);
	return v;
}

static int
t_parse(const char *text, const struct ce_query *q, struct ce_lines *lines,
    char **next, struct errbuf *err)
{
	json_t *reply = t_json(text);
	int rc;

	rc = ce_parse_page(reply, q, lines, next, err);
	json_decref(reply);
	return rc;
}

static int64_t
t_line(const struct ce_lines *lines, const char *account, const char *key)
{
	size_t i, found = 0;
	int64_t nanos = 0;

	for (i = 0; i < lines->count; i++)
		if (strcmp(lines->v[i].account_id, account) == 0 &&
		    strcmp(lines->v[i].key, key) == 0) {
			nanos = lines->v[i].nanos;
			found++;
		}
	if (found != 1)
		fail_msg("%zu lines for (%s, \"%s\"), want 1", found, account,
		    key);
	return nanos;
}

/* Requests. */

static void
t_request_equal(const struct ce_query *q, const char *token,
    const char *want)
{
	json_t *got = ce_request_json(q, token), *w = t_json(want);
	char *g;

	if (!json_equal(got, w)) {
		g = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("request body %s", g);
	}
	json_decref(got);
	json_decref(w);
}

static void
test_ce_request_resources(void **state)
{
	struct ce_query q;

	(void)state;
	t_query(&q, NULL);
	t_request_equal(&q, NULL, "{'TimePeriod': {'Start': '2024-05-01', "
	    "'End': '2024-07-01'}, 'Granularity': 'MONTHLY', "
	    "'Metrics': ['UnblendedCost'], 'GroupBy': ["
	    "{'Type': 'DIMENSION', 'Key': 'LINKED_ACCOUNT'}, "
	    "{'Type': 'DIMENSION', 'Key': 'RESOURCE_ID'}], "
	    "'Filter': {'Dimensions': {'Key': 'LINKED_ACCOUNT', "
	    "'Values': ['111122223333', '444455556666']}}}");
}

static void
test_ce_request_tag_with_token(void **state)
{
	struct ce_query q;

	(void)state;
	t_query(&q, "Owner");
	q.metric = CE_METRIC_AMORTIZED;
	q.naccounts = 1;
	t_request_equal(&q, "tok/2", "{'TimePeriod': {'Start': "
	    "'2024-05-01', 'End': '2024-07-01'}, 'Granularity': 'MONTHLY', "
	    "'Metrics': ['AmortizedCost'], 'GroupBy': ["
	    "{'Type': 'DIMENSION', 'Key': 'LINKED_ACCOUNT'}, "
	    "{'Type': 'TAG', 'Key': 'Owner'}], "
	    "'Filter': {'Dimensions': {'Key': 'LINKED_ACCOUNT', "
	    "'Values': ['111122223333']}}, 'NextPageToken': 'tok/2'}");
}

static void
test_ce_request_tag_first_page_has_no_token(void **state)
{
	struct ce_query q;
	json_t *body;

	(void)state;
	t_query(&q, "cost-center");
	body = ce_request_json(&q, NULL);
	assert_null(json_object_get(body, "NextPageToken"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(body, "GroupBy"), 1), "Key")), "cost-center");
	json_decref(body);
}

/* Amounts. */

struct t_amount {
	const char	*text;
	int64_t		 nanos;
};

static void
test_ce_parse_amount_vectors(void **state)
{
	/* Worked by hand: dollars x 10^9, the tenth decimal rounding. */
	static const struct t_amount ok[] = {
		{ "12.34", 12340000000LL },
		{ "-0.5", -500000000LL },
		{ "3", 3000000000LL },
		{ "0", 0 },
		{ "-0", 0 },
		{ "00012.5", 12500000000LL },
		{ "0.123456", 123456000LL },
		{ "-5.25", -5250000000LL },
		/* 1.234567890|1: tenth digit 1, dropped. */
		{ "1.2345678901", 1234567890LL },
		/* 1.234567890|5: exactly half, away from zero. */
		{ "1.2345678905", 1234567891LL },
		{ "-1.2345678905", -1234567891LL },
		/* 0.000000000|4999: below half. */
		{ "0.0000000004999", 0 },
		{ "0.00000000050", 1 },
		{ "-0.0000000005", -1 },
		/* 0.999999999|5 carries into the units. */
		{ "0.9999999995", 1000000000LL },
		/* 2^63 - 1 = 9223372036854775807 nanos. */
		{ "9223372036.854775807", INT64_MAX },
		/* ...806|5 rounds up to ...807, still in range. */
		{ "9223372036.8547758065", INT64_MAX },
		/* -2^63 fits on the negative side only. */
		{ "-9223372036.854775808", INT64_MIN },
	};
	static const char *const bad[] = {
		"", "-", "+1", "--1", "1e5", "1.5E2", "1E-3", " 1", "1 ", "1.",
		".5", "-.5", "1.2.3", "0x10", "NaN", "inf", "1,5", "$1",
		/* 2^63 nanos, and the rounding that would reach it. */
		"9223372036.854775808", "9223372036.8547758075",
		/* 99999999999 dollars is 9.9e19 nanos. */
		"99999999999", "-9223372036.854775809",
		"18446744073709551616",
	};
	int64_t n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = 42;
		if (ce_parse_amount(ok[i].text, &n) != 0 || n != ok[i].nanos)
			fail_msg("\"%s\": got %lld, want %lld", ok[i].text,
			    (long long)n, (long long)ok[i].nanos);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 42;
		if (ce_parse_amount(bad[i], &n) != -1 || n != 42)
			fail_msg("\"%s\" accepted as %lld", bad[i],
			    (long long)n);
	}
}

/* Pages. */

/* Two months of resource groups; a key shows in both and sums. */
static const char t_resource_page[] =
    "{'GroupDefinitions': [{'Type': 'DIMENSION', 'Key': 'LINKED_ACCOUNT'},"
    " {'Type': 'DIMENSION', 'Key': 'RESOURCE_ID'}],"
    " 'ResultsByTime': ["
    "  {'TimePeriod': {'Start': '2024-05-01', 'End': '2024-06-01'},"
    "   'Total': {}, 'Estimated': false, 'Groups': ["
    "   {'Keys': ['111122223333', 'i-0abc'], 'Metrics': {'UnblendedCost':"
    "    {'Amount': '10.5', 'Unit': 'USD'}}},"
    "   {'Keys': ['111122223333', 'NoResourceId'], 'Metrics':"
    "    {'UnblendedCost': {'Amount': '-2.25', 'Unit': 'USD'}}},"
    "   {'Keys': ['444455556666', 'i-0abc'], 'Metrics': {'UnblendedCost':"
    "    {'Amount': '1', 'Unit': 'USD'}}}]},"
    "  {'TimePeriod': {'Start': '2024-06-01', 'End': '2024-07-01'},"
    "   'Total': {}, 'Estimated': true, 'Groups': ["
    "   {'Keys': ['111122223333', 'i-0abc'], 'Metrics': {'UnblendedCost':"
    "    {'Amount': '0.000000001', 'Unit': 'USD'}}},"
    "   {'Keys': ['444455556666', 'arn:aws:rds:us-east-1:444455556666:"
    "db:orders'], 'Metrics': {'UnblendedCost':"
    "    {'Amount': '7.123456', 'Unit': 'USD'}}}]}],"
    " 'DimensionValueAttributes': []}";

static void
test_ce_parse_page_resources_sum_periods(void **state)
{
	struct ce_lines lines = { 0 };
	struct ce_query q;
	struct errbuf err;
	char *next = (char *)"unset";

	(void)state;
	t_query(&q, NULL);
	if (t_parse(t_resource_page, &q, &lines, &next, &err) != 0)
		fail_msg("%s", err.msg);
	assert_null(next);
	assert_int_equal(lines.count, 4);
	/* 10.5 + 0.000000001 dollars = 10500000000 + 1 nanos. */
	assert_int_equal(t_line(&lines, T_A, "i-0abc"), 10500000001LL);
	assert_int_equal(t_line(&lines, T_A, "NoResourceId"), -2250000000LL);
	/* The same resource id under another account is its own line. */
	assert_int_equal(t_line(&lines, T_B, "i-0abc"), 1000000000LL);
	assert_int_equal(t_line(&lines, T_B,
	    "arn:aws:rds:us-east-1:444455556666:db:orders"), 7123456000LL);
	ce_lines_free(&lines);
	assert_null(lines.v);
	assert_int_equal(lines.count, 0);
}

static void
test_ce_parse_page_period_across_pages(void **state)
{
	struct ce_lines lines = { 0 };
	struct ce_query q;
	struct errbuf err;
	char *next;

	(void)state;
	t_query(&q, NULL);
	/* May's groups split over two pages, then June. */
	if (t_parse("{'ResultsByTime': [{'TimePeriod': {'Start': "
	    "'2024-05-01', 'End': '2024-06-01'}, 'Groups': ["
	    "{'Keys': ['111122223333', 'vol-1'], 'Metrics': {'UnblendedCost': "
	    "{'Amount': '0.1', 'Unit': 'USD'}}}]}], 'NextPageToken': 'p2'}",
	    &q, &lines, &next, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(next, "p2");
	free(next);
	if (t_parse("{'ResultsByTime': [{'TimePeriod': {'Start': "
	    "'2024-05-01', 'End': '2024-06-01'}, 'Groups': ["
	    "{'Keys': ['111122223333', 'vol-2'], 'Metrics': {'UnblendedCost': "
	    "{'Amount': '0.2', 'Unit': 'USD'}}}]}, {'TimePeriod': {'Start': "
	    "'2024-06-01', 'End': '2024-07-01'}, 'Groups': ["
	    "{'Keys': ['111122223333', 'vol-1'], 'Metrics': {'UnblendedCost': "
	    "{'Amount': '0.2', 'Unit': 'USD'}}}]}], 'NextPageToken': ''}",
	    &q, &lines, &next, &err) != 0)
		fail_msg("%s", err.msg);
	/* An empty token ends the query like an absent one. */
	assert_null(next);
	assert_int_equal(lines.count, 2);
	/* vol-1: 0.1 + 0.2 = 0.3 dollars, exactly 300000000 nanos. */
	assert_int_equal(t_line(&lines, T_A, "vol-1"), 300000000LL);
	assert_int_equal(t_line(&lines, T_A, "vol-2"), 200000000LL);
	ce_lines_free(&lines);
}

static void
test_ce_parse_page_tag_values(void **state)
{
	struct ce_lines lines = { 0 };
	struct ce_query q;
	struct errbuf err;
	char *next;

	(void)state;
	t_query(&q, "Owner");
	if (t_parse("{'ResultsByTime': [{'Groups': ["
	    "{'Keys': ['111122223333', 'Owner$alice'], 'Metrics': "
	    "{'UnblendedCost': {'Amount': '4', 'Unit': 'USD'}}},"
	    "{'Keys': ['111122223333', 'Owner$'], 'Metrics': "
	    "{'UnblendedCost': {'Amount': '1.5', 'Unit': 'USD'}}},"
	    "{'Keys': ['111122223333', 'Owner$a$b'], 'Metrics': "
	    "{'UnblendedCost': {'Amount': '2', 'Unit': 'USD'}}}]},"
	    "{'Groups': ["
	    "{'Keys': ['111122223333', 'Owner$alice'], 'Metrics': "
	    "{'UnblendedCost': {'Amount': '-0.5', 'Unit': 'USD'}}}]},"
	    "{'Groups': []}], 'NextPageToken': null}",
	    &q, &lines, &next, &err) != 0)
		fail_msg("%s", err.msg);
	assert_null(next);
	assert_int_equal(lines.count, 3);
	/* 4 - 0.5 = 3.5 dollars. */
	assert_int_equal(t_line(&lines, T_A, "alice"), 3500000000LL);
	/* "Owner$": spend without the tag, key "". */
	assert_int_equal(t_line(&lines, T_A, ""), 1500000000LL);
	/* Only the first '$' separates key from value. */
	assert_int_equal(t_line(&lines, T_A, "a$b"), 2000000000LL);
	ce_lines_free(&lines);
}

/* Errors: each names the JSON path and the value. */

struct t_bad {
	const char	*tag_key;
	const char	*reply;
	const char	*error;
};

#define T_GROUP(keys, metrics) \
	"{'ResultsByTime': [{'Groups': [{'Keys': ['111122223333', 'x'], " \
	"'Metrics': {'UnblendedCost': {'Amount': '1', 'Unit': 'USD'}}}, " \
	"{'Keys': " keys ", 'Metrics': " metrics "}]}]}"
#define T_USD(a)	"{'UnblendedCost': {'Amount': " a ", 'Unit': 'USD'}}"
#define T_AMOUNT	"a decimal string such as \"12.34\" within the 64-bit " \
	"nano-dollar range"

static const struct t_bad t_bad_pages[] = {
	{ NULL, "[]", "reply: []: expected a JSON object" },
	{ NULL, "{'NextPageToken': 'x'}",
	  "ResultsByTime: missing: expected an array" },
	{ NULL, "{'ResultsByTime': {}}", "ResultsByTime: {}: expected an array" },
	{ NULL, "{'ResultsByTime': [{'Groups': []}, 3]}",
	  "ResultsByTime[1]: 3: expected a period object" },
	{ NULL, "{'ResultsByTime': [{'Groups': {'a': 1}}]}",
	  "ResultsByTime[0].Groups: {\"a\":1}: expected an array" },
	{ NULL, "{'ResultsByTime': [{'Groups': ['g']}]}",
	  "ResultsByTime[0].Groups[0]: \"g\": expected a group object" },
	{ NULL, T_GROUP("['111122223333']", T_USD("'1'")),
	  "ResultsByTime[0].Groups[1].Keys: [\"111122223333\"]: expected two "
	  "keys, LINKED_ACCOUNT and the second GroupBy" },
	{ NULL, "{'ResultsByTime': [{'Groups': [{'Metrics': {}}]}]}",
	  "ResultsByTime[0].Groups[0].Keys: missing: expected two keys, "
	  "LINKED_ACCOUNT and the second GroupBy" },
	{ NULL, T_GROUP("['12345', 'i-1']", T_USD("'1'")),
	  "ResultsByTime[0].Groups[1].Keys[0]: \"12345\": expected a 12-digit "
	  "account ID" },
	{ NULL, T_GROUP("['1111222233334', 'i-1']", T_USD("'1'")),
	  "ResultsByTime[0].Groups[1].Keys[0]: \"1111222233334\": expected a "
	  "12-digit account ID" },
	{ NULL, T_GROUP("[111122223333, 'i-1']", T_USD("'1'")),
	  "ResultsByTime[0].Groups[1].Keys[0]: 111122223333: expected a "
	  "12-digit account ID" },
	{ NULL, T_GROUP("['111122223333', '']", T_USD("'1'")),
	  "ResultsByTime[0].Groups[1].Keys[1]: \"\": expected a RESOURCE_ID "
	  "string" },
	{ "Owner", T_GROUP("['111122223333', 'owner$alice']", T_USD("'1'")),
	  "ResultsByTime[0].Groups[0].Keys[1]: \"x\": expected the tag key "
	  "asked for and '$'" },
	{ NULL, T_GROUP("['111122223333', 'i-1']",
	  "{'AmortizedCost': {'Amount': '1', 'Unit': 'USD'}}"),
	  "ResultsByTime[0].Groups[1].Metrics.UnblendedCost: missing: expected "
	  "an object with Amount and Unit" },
	{ NULL, T_GROUP("['111122223333', 'i-1']", T_USD("'1e3'")),
	  "ResultsByTime[0].Groups[1].Metrics.UnblendedCost.Amount: \"1e3\": "
	  "expected " T_AMOUNT },
	{ NULL, T_GROUP("['111122223333', 'i-1']", T_USD("1.5")),
	  "ResultsByTime[0].Groups[1].Metrics.UnblendedCost.Amount: 1.5: "
	  "expected " T_AMOUNT },
	{ NULL, T_GROUP("['111122223333', 'i-1']", T_USD("' 2'")),
	  "ResultsByTime[0].Groups[1].Metrics.UnblendedCost.Amount: \" 2\": "
	  "expected " T_AMOUNT },
	{ NULL, T_GROUP("['111122223333', 'i-1']",
	  "{'UnblendedCost': {'Unit': 'USD'}}"),
	  "ResultsByTime[0].Groups[1].Metrics.UnblendedCost.Amount: missing: "
	  "expected " T_AMOUNT },
	{ NULL, T_GROUP("['111122223333', 'i-1']",
	  "{'UnblendedCost': {'Amount': '1', 'Unit': 'EUR'}}"),
	  "ResultsByTime[0].Groups[1].Metrics.UnblendedCost.Unit: \"EUR\": "
	  "expected \"USD\"" },
	{ NULL, "{'ResultsByTime': [], 'NextPageToken': 5}",
	  "NextPageToken: 5: expected a string" },
	/*
	 * After a first page of 1 + 9e9 dollars on "x", this one's 1 then
	 * 9e9 more: 18000000002 dollars is 1.8e19 nanos, past 2^63 - 1.
	 */
	{ NULL, T_GROUP("['111122223333', 'x']", T_USD("'9000000000'")),
	  "ResultsByTime[0].Groups[1]: the sum for account 111122223333, key "
	  "\"x\" leaves the 64-bit nano-dollar range: query a shorter period" },
};

static void
test_ce_parse_page_bad_shapes_named(void **state)
{
	struct ce_lines lines;
	struct ce_query q;
	struct errbuf err;
	char *next;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t_bad_pages) / sizeof(t_bad_pages[0]); i++) {
		memset(&lines, 0, sizeof(lines));
		t_query(&q, t_bad_pages[i].tag_key);
		err.msg[0] = '\0';
		/* The sum case: a first page of 1 + 9e9 dollars on "x". */
		if (strstr(t_bad_pages[i].error, "leaves") != NULL)
			assert_int_equal(t_parse(T_GROUP("['111122223333', 'x']",
			    T_USD("'9000000000'")), &q, &lines, &next, &err), 0);
		if (t_parse(t_bad_pages[i].reply, &q, &lines, &next, &err) != -1)
			fail_msg("case %zu accepted", i);
		assert_null(next);
		if (strcmp(err.msg, t_bad_pages[i].error) != 0)
			fail_msg("case %zu:\n got %s\nwant %s", i, err.msg,
			    t_bad_pages[i].error);
		ce_lines_free(&lines);
	}
}

static void
test_ce_parse_page_tag_prefix_exact(void **state)
{
	/* Each second key fails the "Owner$" prefix check. */
	static const char *const keys[] = {
		"owner$alice", "Owner", "OwnerX$y", "Owne$r", "$alice",
	};
	struct ce_lines lines = { 0 };
	struct ce_query q;
	struct errbuf err;
	char text[512], want[256], *next;
	size_t i;

	(void)state;
	t_query(&q, "Owner");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(text, sizeof(text), "{'ResultsByTime': [{'Groups': ["
		    "{'Keys': ['111122223333', '%s'], 'Metrics': "
		    "{'UnblendedCost': {'Amount': '1', 'Unit': 'USD'}}}]}]}",
		    keys[i]);
		snprintf(want, sizeof(want), "ResultsByTime[0].Groups[0]."
		    "Keys[1]: \"%s\": expected the tag key asked for and '$'",
		    keys[i]);
		assert_int_equal(t_parse(text, &q, &lines, &next, &err), -1);
		assert_string_equal(err.msg, want);
	}
	assert_int_equal(lines.count, 0);
	ce_lines_free(&lines);
}

static void
test_ce_parse_page_long_value_cut(void **state)
{
	struct ce_lines lines = { 0 };
	struct ce_query q;
	struct errbuf err;
	char text[1024], want[512], *next;
	char big[301];

	(void)state;
	memset(big, '7', 300);
	big[300] = '\0';
	t_query(&q, NULL);
	snprintf(text, sizeof(text), "{'ResultsByTime': [{'Groups': ["
	    "{'Keys': ['111122223333', 'i-1'], 'Metrics': {'UnblendedCost': "
	    "{'Amount': '%s', 'Unit': 'USD'}}}]}]}", big);
	/* The quote and the first 79 digits: 80 characters, then "...". */
	snprintf(want, sizeof(want), "ResultsByTime[0].Groups[0].Metrics."
	    "UnblendedCost.Amount: \"%.79s...: expected " T_AMOUNT, big);
	assert_int_equal(t_parse(text, &q, &lines, &next, &err), -1);
	assert_string_equal(err.msg, want);
	ce_lines_free(&lines);
}

/*
 * 40,000 resources, alternately of two accounts, each on both of two
 * pages: 40,000 lines of 2 x (i + 1) nanos. Sizes like this are routine
 * (a payer with many accounts), so the index must keep adding cheap.
 */
static void
test_ce_parse_page_many_groups(void **state)
{
	struct ce_lines lines = { 0 };
	struct ce_query q;
	struct errbuf err;
	json_t *page, *groups, *results;
	char id[32], amount[32], *next;
	size_t i, n = 40000, p;
	int64_t total = 0;

	(void)state;
	t_query(&q, NULL);
	for (p = 0; p < 2; p++) {
		groups = json_array();
		for (i = 0; i < n; i++) {
			snprintf(id, sizeof(id), "i-%08zx", i);
			snprintf(amount, sizeof(amount), "0.%09zu", i + 1);
			json_array_append_new(groups, json_pack("{s:[s,s], "
			    "s:{s:{s:s, s:s}}}", "Keys", i % 2 ? T_B : T_A, id,
			    "Metrics", "UnblendedCost", "Amount", amount, "Unit",
			    "USD"));
		}
		results = json_pack("[{s:o}]", "Groups", groups);
		page = json_pack("{s:o}", "ResultsByTime", results);
		assert_int_equal(ce_parse_page(page, &q, &lines, &next, &err),
		    0);
		json_decref(page);
	}
	assert_int_equal(lines.count, n);
	for (i = 0; i < lines.count; i++)
		total += lines.v[i].nanos;
	/* 2 x (1 + ... + n) = n(n + 1) = 40000 x 40001 = 1600040000. */
	assert_int_equal(total, 1600040000LL);
	/* i = 9 is odd: account B, 2 x 10 nanos. */
	assert_int_equal(t_line(&lines, T_B, "i-00000009"), 20);
	ce_lines_free(&lines);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ce_request_resources),
		cmocka_unit_test(test_ce_request_tag_with_token),
		cmocka_unit_test(test_ce_request_tag_first_page_has_no_token),
		cmocka_unit_test(test_ce_parse_amount_vectors),
		cmocka_unit_test(test_ce_parse_page_resources_sum_periods),
		cmocka_unit_test(test_ce_parse_page_period_across_pages),
		cmocka_unit_test(test_ce_parse_page_tag_values),
		cmocka_unit_test(test_ce_parse_page_bad_shapes_named),
		cmocka_unit_test(test_ce_parse_page_tag_prefix_exact),
		cmocka_unit_test(test_ce_parse_page_long_value_cut),
		cmocka_unit_test(test_ce_parse_page_many_groups),
	};

	return cmocka_run_group_tests_name("ce", tests, NULL, NULL);
}
