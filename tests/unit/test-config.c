/*
 * config: every row's default, edges and error text, the list and template
 * rules, cross-field rules, the dump and the help. Expected values are the
 * contract of DESIGN.md section 4 and the issue, written out by hand here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define MAX_LINES	32

struct var {
	const char	*name;
	const char	*value;		/* NULL: unset */
};

struct lines {
	size_t		 n;
	char		*text[MAX_LINES];
	enum config_severity sev[MAX_LINES];
};

static const struct var *env_now;

/* The test environment; HOME is set unless a test says otherwise. */
static const char *
env_get(const char *name)
{
	const struct var *v;

	for (v = env_now; v != NULL && v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return v->value;
	if (strcmp(name, "HOME") == 0)
		return "/home/tester";
	return NULL;
}

static void
collect(void *arg, enum config_severity sev, const char *line)
{
	struct lines *l = arg;

	assert_true(l->n < MAX_LINES);
	l->sev[l->n] = sev;
	l->text[l->n] = strdup(line);
	assert_non_null(l->text[l->n]);
	l->n++;
}

static void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->text[i]);
	l->n = 0;
}

static int
load(struct config *cfg, struct lines *l, const struct var *env)
{
	memset(l, 0, sizeof(*l));
	env_now = env;
	return config_load(cfg, env_get, collect, l);
}

/* Loading env gives exactly one line, this error. */
static void
expect_error(const struct var *env, const char *expected)
{
	struct config cfg;
	struct lines l;
	int rv;

	rv = load(&cfg, &l, env);
	if (l.n != 1 || strcmp(l.text[0], expected) != 0)
		print_error("expected [%s], got %zu line(s), first [%s]\n",
		    expected, l.n, l.n > 0 ? l.text[0] : "");
	assert_int_equal(rv, -1);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.sev[0], CONFIG_ERROR);
	assert_string_equal(l.text[0], expected);
	lines_free(&l);
	config_free(&cfg);
}

static void
expect_var_error(const char *name, const char *value, const char *expected)
{
	const struct var env[] = { { name, value }, { NULL, NULL } };

	expect_error(env, expected);
}

/* Loading name=value succeeds silently; the caller inspects and frees cfg. */
static void
load_var_ok(struct config *cfg, const char *name, const char *value)
{
	const struct var env[] = { { name, value }, { NULL, NULL } };
	struct lines l;
	int rv;

	rv = load(cfg, &l, env);
	if (l.n != 0)
		print_error("%s=%s: unexpected [%s]\n", name, value, l.text[0]);
	assert_int_equal(l.n, 0);
	assert_int_equal(rv, 0);
}

static void
expect_var_ok(const char *name, const char *value)
{
	struct config cfg;

	load_var_ok(&cfg, name, value);
	config_free(&cfg);
}

/* Run a test in an empty scratch directory, so POLICY_PATH's default is known. */
static int
in_scratch_dir(void **state)
{
	char tmpl[] = "/tmp/test-config.XXXXXX";
	char *dir;

	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	*state = strdup(dir);
	assert_int_equal(chdir(dir), 0);
	return 0;
}

static int
leave_scratch_dir(void **state)
{
	char *dir = *state;

	unlink("policies/tagging_policy.json");
	rmdir("policies");
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
	return 0;
}

static void
test_config_defaults(void **state)
{
	struct config cfg;
	struct lines l;

	(void)state;
	assert_int_equal(load(&cfg, &l, NULL), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(cfg.multi_account_enabled, 0);
	assert_int_equal(cfg.naccount_ids, 0);
	assert_string_equal(cfg.assume_role_name, "FinOpsTagComplianceReadOnly");
	assert_string_equal(cfg.assume_role_arn_template,
	    "arn:aws:iam::{account_id}:role/{role_name}");
	assert_int_equal(cfg.assume_role_session_duration, 3600);
	assert_null(cfg.assume_role_external_id);
	assert_int_equal(cfg.max_concurrent_accounts, 5);
	assert_int_equal(cfg.account_scan_timeout_seconds, 120);
	assert_string_equal(cfg.aws_region, "us-east-1");
	assert_string_equal(cfg.policy_path, SYSCONFDIR "/tagging_policy.json");
	assert_string_equal(cfg.history_db_path,
	    "/home/tester/.local/state/tagwarden/history.db");
	assert_int_equal(cfg.nallowed_regions, 0);
	assert_int_equal(cfg.cache_ttl_seconds, 3600);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	config_free(&cfg);
	/* config_free leaves a zeroed struct, so a second call is harmless. */
	config_free(&cfg);
	config_free(NULL);
}

/* The integer rows of the contract: name, min, max, default, field. */
static const struct int_row {
	const char	*name;
	long long	 min, max;
	int		 def;
	size_t		 off;
} int_rows[] = {
	{ "AWS_ASSUME_ROLE_SESSION_DURATION", 900, 43200, 3600,
	  offsetof(struct config, assume_role_session_duration) },
	{ "MAX_CONCURRENT_ACCOUNTS", 1, 20, 5,
	  offsetof(struct config, max_concurrent_accounts) },
	{ "ACCOUNT_SCAN_TIMEOUT_SECONDS", 30, 600, 120,
	  offsetof(struct config, account_scan_timeout_seconds) },
	{ "CACHE_TTL_SECONDS", 0, 604800, 3600,
	  offsetof(struct config, cache_ttl_seconds) },
};

static int
int_field(const struct config *cfg, const struct int_row *r)
{
	return *(const int *)(const void *)((const char *)cfg + r->off);
}

static void
int_row_accepts(const struct int_row *r, long long v)
{
	struct config cfg;
	char text[32];

	snprintf(text, sizeof(text), "%lld", v);
	load_var_ok(&cfg, r->name, text);
	assert_int_equal(int_field(&cfg, r), v);
	config_free(&cfg);
}

static void
test_config_int_rows_edges(void **state)
{
	static const char *const bad[] = {
		"", " 5", "5 ", "+5", "0x10", "abc", "1e3", "5.0", "10s",
		"99999999999999999999",
	};
	char low[32], high[32], expected[160];
	const struct int_row *r;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(int_rows) / sizeof(int_rows[0]); i++) {
		r = &int_rows[i];
		int_row_accepts(r, r->min);
		int_row_accepts(r, r->max);
		snprintf(low, sizeof(low), "%lld", r->min - 1);
		snprintf(high, sizeof(high), "%lld", r->max + 1);
		snprintf(expected, sizeof(expected),
		    "%s=%s: must be an integer %lld..%lld", r->name, low,
		    r->min, r->max);
		expect_var_error(r->name, low, expected);
		snprintf(expected, sizeof(expected),
		    "%s=%s: must be an integer %lld..%lld", r->name, high,
		    r->min, r->max);
		expect_var_error(r->name, high, expected);
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			snprintf(expected, sizeof(expected),
			    "%s=%s: must be an integer %lld..%lld", r->name,
			    bad[j], r->min, r->max);
			expect_var_error(r->name, bad[j], expected);
		}
	}
}

static void
test_config_int_rows_literal(void **state)
{
	struct config cfg;

	(void)state;
	expect_var_error("MAX_CONCURRENT_ACCOUNTS", "0",
	    "MAX_CONCURRENT_ACCOUNTS=0: must be an integer 1..20");
	expect_var_error("MAX_CONCURRENT_ACCOUNTS", "21",
	    "MAX_CONCURRENT_ACCOUNTS=21: must be an integer 1..20");
	expect_var_error("AWS_ASSUME_ROLE_SESSION_DURATION", "899",
	    "AWS_ASSUME_ROLE_SESSION_DURATION=899: must be an integer 900..43200");
	expect_var_error("ACCOUNT_SCAN_TIMEOUT_SECONDS", "+5",
	    "ACCOUNT_SCAN_TIMEOUT_SECONDS=+5: must be an integer 30..600");
	expect_var_error("CACHE_TTL_SECONDS", "604801",
	    "CACHE_TTL_SECONDS=604801: must be an integer 0..604800");
	/* 0 is in range for the cache and means "disabled". */
	load_var_ok(&cfg, "CACHE_TTL_SECONDS", "0");
	assert_int_equal(cfg.cache_ttl_seconds, 0);
	config_free(&cfg);
}

static void
test_config_bool(void **state)
{
	static const struct {
		const char	*text;
		int		 value;
	} good[] = {
		{ "true", 1 }, { "TRUE", 1 }, { "True", 1 }, { "false", 0 },
		{ "FALSE", 0 }, { "1", 1 }, { "0", 0 }, { "yes", 1 },
		{ "No", 0 }, { "on", 1 }, { "OFF", 0 },
	};
	static const char *const bad[] = {
		"", "maybe", " true", "true ", "2", "truee", "y", "-1",
	};
	char expected[160];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		load_var_ok(&cfg, "MULTI_ACCOUNT_ENABLED", good[i].text);
		assert_int_equal(cfg.multi_account_enabled, good[i].value);
		config_free(&cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(expected, sizeof(expected), "MULTI_ACCOUNT_ENABLED=%s: "
		    "must be true or false (1/0, yes/no, on/off also accepted, "
		    "any case)", bad[i]);
		expect_var_error("MULTI_ACCOUNT_ENABLED", bad[i], expected);
	}
}

static void
test_config_account_ids_parse(void **state)
{
	const struct var env[] = {
		{ "MULTI_ACCOUNT_ENABLED", "true" },
		{ "AWS_ACCOUNT_IDS", " 123456789012 ,,\t210987654321,  , " },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;

	(void)state;
	assert_int_equal(load(&cfg, &l, env), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(cfg.naccount_ids, 2);
	assert_string_equal(cfg.account_ids[0], "123456789012");
	assert_string_equal(cfg.account_ids[1], "210987654321");
	config_free(&cfg);

	/* Only separators and blanks: no accounts, no error. */
	load_var_ok(&cfg, "AWS_ACCOUNT_IDS", " , ,");
	assert_int_equal(cfg.naccount_ids, 0);
	config_free(&cfg);
	load_var_ok(&cfg, "AWS_ACCOUNT_IDS", "");
	assert_int_equal(cfg.naccount_ids, 0);
	config_free(&cfg);
}

static void
test_config_account_ids_invalid(void **state)
{
	const struct var many[] = {
		{ "AWS_ACCOUNT_IDS",
		  "111111111111,22222222222a,,111111111111,3333333333333" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;

	(void)state;
	expect_var_error("AWS_ACCOUNT_IDS", "12345",
	    "AWS_ACCOUNT_IDS=12345: entry 1 \"12345\" must be exactly 12 digits");
	expect_var_error("AWS_ACCOUNT_IDS", "12345678901",
	    "AWS_ACCOUNT_IDS=12345678901: entry 1 \"12345678901\" must be "
	    "exactly 12 digits");
	expect_var_error("AWS_ACCOUNT_IDS", "123456789012,1234567890123",
	    "AWS_ACCOUNT_IDS=123456789012,1234567890123: entry 2 "
	    "\"1234567890123\" must be exactly 12 digits");
	expect_var_error("AWS_ACCOUNT_IDS", "1234 5678 9012",
	    "AWS_ACCOUNT_IDS=1234 5678 9012: entry 1 \"1234 5678 9012\" must "
	    "be exactly 12 digits");
	expect_var_error("AWS_ACCOUNT_IDS", "123456789012, 123456789012",
	    "AWS_ACCOUNT_IDS=123456789012, 123456789012: entry 2 "
	    "\"123456789012\" must not repeat entry 1");

	/* Every bad entry is its own line; positions count empty fields. */
	assert_int_equal(load(&cfg, &l, many), -1);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.text[0], "AWS_ACCOUNT_IDS=111111111111,"
	    "22222222222a,,111111111111,3333333333333: entry 2 "
	    "\"22222222222a\" must be exactly 12 digits");
	assert_string_equal(l.text[1], "AWS_ACCOUNT_IDS=111111111111,"
	    "22222222222a,,111111111111,3333333333333: entry 4 "
	    "\"111111111111\" must not repeat entry 1");
	assert_string_equal(l.text[2], "AWS_ACCOUNT_IDS=111111111111,"
	    "22222222222a,,111111111111,3333333333333: entry 5 "
	    "\"3333333333333\" must be exactly 12 digits");
	/* A failed list leaves the default: no accounts. */
	assert_int_equal(cfg.naccount_ids, 0);
	lines_free(&l);
	config_free(&cfg);
}

static void
test_config_role_name(void **state)
{
	char name64[65], name65[66], expected[200];
	struct config cfg;

	(void)state;
	memset(name64, 'R', 64);
	name64[64] = '\0';
	memset(name65, 'R', 65);
	name65[65] = '\0';
	load_var_ok(&cfg, "AWS_ASSUME_ROLE_NAME", name64);
	assert_string_equal(cfg.assume_role_name, name64);
	config_free(&cfg);
	expect_var_ok("AWS_ASSUME_ROLE_NAME", "a");
	expect_var_ok("AWS_ASSUME_ROLE_NAME", "Ops+Read=Only,v1.2@team_x-y");
	snprintf(expected, sizeof(expected), "AWS_ASSUME_ROLE_NAME=%s: must be "
	    "an IAM role name: 1..64 characters of A-Z a-z 0-9 + = , . @ _ -",
	    name65);
	expect_var_error("AWS_ASSUME_ROLE_NAME", name65, expected);
	expect_var_error("AWS_ASSUME_ROLE_NAME", "",
	    "AWS_ASSUME_ROLE_NAME=: must be an IAM role name: 1..64 characters "
	    "of A-Z a-z 0-9 + = , . @ _ -");
	expect_var_error("AWS_ASSUME_ROLE_NAME", "Read Only",
	    "AWS_ASSUME_ROLE_NAME=Read Only: must be an IAM role name: 1..64 "
	    "characters of A-Z a-z 0-9 + = , . @ _ -");
	expect_var_error("AWS_ASSUME_ROLE_NAME", "path/Role",
	    "AWS_ASSUME_ROLE_NAME=path/Role: must be an IAM role name: 1..64 "
	    "characters of A-Z a-z 0-9 + = , . @ _ -");
}

static void
test_config_template_valid(void **state)
{
	const struct var env[] = {
		{ "AWS_ASSUME_ROLE_NAME", "Auditor" },
		{ "AWS_ASSUME_ROLE_ARN_TEMPLATE",
		  "arn:aws-us-gov:iam::{account_id}:role/team/ops/{role_name}" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;
	char *arn;

	(void)state;
	assert_int_equal(load(&cfg, &l, NULL), 0);
	arn = config_role_arn(&cfg, "210987654321");
	assert_string_equal(arn,
	    "arn:aws:iam::210987654321:role/FinOpsTagComplianceReadOnly");
	free(arn);
	config_free(&cfg);

	assert_int_equal(load(&cfg, &l, env), 0);
	assert_int_equal(l.n, 0);
	arn = config_role_arn(&cfg, "111122223333");
	assert_string_equal(arn,
	    "arn:aws-us-gov:iam::111122223333:role/team/ops/Auditor");
	free(arn);
	config_free(&cfg);

	expect_var_ok("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws-cn:iam::{account_id}:role/{role_name}");
	/* {role_name} is optional: a fixed role name in every account. */
	load_var_ok(&cfg, "AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:iam::{account_id}:role/service-role/Scanner");
	arn = config_role_arn(&cfg, "123456789012");
	assert_string_equal(arn,
	    "arn:aws:iam::123456789012:role/service-role/Scanner");
	free(arn);
	config_free(&cfg);
}

static void
test_config_template_invalid(void **state)
{
	(void)state;
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:iam::{account}:role/{role_name}",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{account}:role/"
	    "{role_name}: must use only the placeholders {account_id} and "
	    "{role_name}, not {account}");
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:iam::{account_id:role/x",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{account_id:role/x: "
	    "must close the \"{\" at character 14 with \"}\"");
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:iam::{{account_id}}:role/x",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{{account_id}}:role/x: "
	    "must close the \"{\" at character 14 with \"}\"");
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:iam::account_id}:role/x",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::account_id}:role/x: "
	    "must not have \"}\" without \"{\" (character 24)");
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:iam::123456789012:role/{role_name}",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::123456789012:role/"
	    "{role_name}: must contain {account_id}, or every account would "
	    "assume the same role");
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:s3:::{account_id}",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:s3:::{account_id}: must "
	    "expand to an IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/"
	    "[PATH/]NAME with PARTITION aws, aws-cn or aws-us-gov; for account "
	    "123456789012 it gives \"arn:aws:s3:::123456789012\"");
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws-eu:iam::{account_id}:role/{role_name}",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws-eu:iam::{account_id}:role/"
	    "{role_name}: must expand to an IAM role ARN, arn:PARTITION:iam::"
	    "ACCOUNT:role/[PATH/]NAME with PARTITION aws, aws-cn or aws-us-gov; "
	    "for account 123456789012 it gives \"arn:aws-eu:iam::123456789012:"
	    "role/FinOpsTagComplianceReadOnly\"");
	/* 13 digits where the account goes. */
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:iam::{account_id}1:role/x",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{account_id}1:role/x: "
	    "must expand to an IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/"
	    "[PATH/]NAME with PARTITION aws, aws-cn or aws-us-gov; for account "
	    "123456789012 it gives \"arn:aws:iam::1234567890121:role/x\"");
	/* A trailing slash leaves the role without a name. */
	expect_var_error("AWS_ASSUME_ROLE_ARN_TEMPLATE",
	    "arn:aws:iam::{account_id}:role/{role_name}/",
	    "AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{account_id}:role/"
	    "{role_name}/: must expand to an IAM role ARN, arn:PARTITION:iam::"
	    "ACCOUNT:role/[PATH/]NAME with PARTITION aws, aws-cn or aws-us-gov; "
	    "for account 123456789012 it gives \"arn:aws:iam::123456789012:"
	    "role/FinOpsTagComplianceReadOnly/\"");
}

static void
test_config_external_id(void **state)
{
	const struct var env[] = {
		{ "AWS_ASSUME_ROLE_EXTERNAL_ID", "x" },
		{ NULL, NULL }
	};
	char id1224[1225], id1225[1226];
	struct config cfg;

	(void)state;
	load_var_ok(&cfg, "AWS_ASSUME_ROLE_EXTERNAL_ID", "ab");
	assert_string_equal(cfg.assume_role_external_id, "ab");
	config_free(&cfg);
	expect_var_ok("AWS_ASSUME_ROLE_EXTERNAL_ID", "Ext_1+=,.@:/-id");
	memset(id1224, 'e', 1224);
	id1224[1224] = '\0';
	memset(id1225, 'e', 1225);
	id1225[1225] = '\0';
	expect_var_ok("AWS_ASSUME_ROLE_EXTERNAL_ID", id1224);
	/* Secret-ish: the error never repeats the value. */
	expect_error(env, "AWS_ASSUME_ROLE_EXTERNAL_ID: must be 2..1224 "
	    "characters of A-Z a-z 0-9 _ + = , . @ : / -");
	expect_var_error("AWS_ASSUME_ROLE_EXTERNAL_ID", id1225,
	    "AWS_ASSUME_ROLE_EXTERNAL_ID: must be 2..1224 characters of A-Z "
	    "a-z 0-9 _ + = , . @ : / -");
	expect_var_error("AWS_ASSUME_ROLE_EXTERNAL_ID", "has space",
	    "AWS_ASSUME_ROLE_EXTERNAL_ID: must be 2..1224 characters of A-Z "
	    "a-z 0-9 _ + = , . @ : / -");
	expect_var_error("AWS_ASSUME_ROLE_EXTERNAL_ID", "",
	    "AWS_ASSUME_ROLE_EXTERNAL_ID: must be 2..1224 characters of A-Z "
	    "a-z 0-9 _ + = , . @ : / -");
}

static void
test_config_region_forms(void **state)
{
	static const char *const good[] = {
		"us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1",
		"ap-southeast-4", "il-central-1", "us-isob-east-1",
	};
	static const char *const bad[] = {
		"", "US-EAST-1", "us-east", "useast1", "us-east-1a", "us_east_1",
		"u-east-1", "us--east-1", "us-east-01", "us-east-100",
		"us-east-1 ", "1s-east-1", "us-",
		"aa-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-1",
	};
	char expected[160];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		load_var_ok(&cfg, "AWS_REGION", good[i]);
		assert_string_equal(cfg.aws_region, good[i]);
		config_free(&cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(expected, sizeof(expected), "AWS_REGION=%s: must be a "
		    "region name such as us-east-1", bad[i]);
		expect_var_error("AWS_REGION", bad[i], expected);
	}
}

static void
test_config_region_fallback(void **state)
{
	const struct var fallback[] = {
		{ "AWS_DEFAULT_REGION", "eu-west-3" }, { NULL, NULL }
	};
	const struct var both[] = {
		{ "AWS_REGION", "ap-south-1" },
		{ "AWS_DEFAULT_REGION", "eu-west-3" }, { NULL, NULL }
	};
	const struct var bad_fallback[] = {
		{ "AWS_DEFAULT_REGION", "moon-1" }, { NULL, NULL }
	};
	struct config cfg;
	struct lines l;

	(void)state;
	assert_int_equal(load(&cfg, &l, fallback), 0);
	assert_string_equal(cfg.aws_region, "eu-west-3");
	config_free(&cfg);
	assert_int_equal(load(&cfg, &l, both), 0);
	assert_string_equal(cfg.aws_region, "ap-south-1");
	config_free(&cfg);
	/* Reported once, by the fallback's own row. */
	expect_error(bad_fallback,
	    "AWS_DEFAULT_REGION=moon-1: must be a region name such as us-east-1");
	/* Empty AWS_DEFAULT_REGION is unset, as for the other AWS variables. */
	load_var_ok(&cfg, "AWS_DEFAULT_REGION", "");
	assert_string_equal(cfg.aws_region, "us-east-1");
	config_free(&cfg);
}

static void
test_config_allowed_regions(void **state)
{
	struct config cfg;

	(void)state;
	load_var_ok(&cfg, "ALLOWED_REGIONS", "");
	assert_int_equal(cfg.nallowed_regions, 0);
	config_free(&cfg);
	load_var_ok(&cfg, "ALLOWED_REGIONS", " us-east-1, eu-central-2 ,,");
	assert_int_equal(cfg.nallowed_regions, 2);
	assert_string_equal(cfg.allowed_regions[0], "us-east-1");
	assert_string_equal(cfg.allowed_regions[1], "eu-central-2");
	config_free(&cfg);
	expect_var_error("ALLOWED_REGIONS", "us-east-1,us-east-1",
	    "ALLOWED_REGIONS=us-east-1,us-east-1: entry 2 \"us-east-1\" must "
	    "not repeat entry 1");
	expect_var_error("ALLOWED_REGIONS", "us-east-1,Mars",
	    "ALLOWED_REGIONS=us-east-1,Mars: entry 2 \"Mars\" must be a region "
	    "name such as us-east-1");
}

static void
test_config_policy_path(void **state)
{
	struct config cfg;
	struct lines l;
	FILE *fp;

	(void)state;
	/* The scratch directory has no policies/: the installed copy. */
	assert_int_equal(load(&cfg, &l, NULL), 0);
	assert_string_equal(cfg.policy_path, SYSCONFDIR "/tagging_policy.json");
	config_free(&cfg);
	assert_int_equal(mkdir("policies", 0700), 0);
	fp = fopen("policies/tagging_policy.json", "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(load(&cfg, &l, NULL), 0);
	assert_string_equal(cfg.policy_path, "policies/tagging_policy.json");
	config_free(&cfg);
	load_var_ok(&cfg, "POLICY_PATH", "/srv/policy one.json");
	assert_string_equal(cfg.policy_path, "/srv/policy one.json");
	config_free(&cfg);
	expect_var_error("POLICY_PATH", "",
	    "POLICY_PATH=: must be a file path without control characters");
	expect_var_error("POLICY_PATH", "/tmp/p\n.json",
	    "POLICY_PATH=/tmp/p\\x0a.json: must be a file path without control "
	    "characters");
}

static void
test_config_history_db_path(void **state)
{
	const struct var systemd[] = {
		{ "STATE_DIRECTORY", "/var/lib/tagwarden:/var/lib/other" },
		{ "XDG_STATE_HOME", "/home/tester/.state" }, { NULL, NULL }
	};
	const struct var xdg[] = {
		{ "XDG_STATE_HOME", "/home/tester/.state" }, { NULL, NULL }
	};
	const struct var xdg_relative[] = {
		{ "XDG_STATE_HOME", "state" }, { NULL, NULL }
	};
	const struct var nothing[] = { { "HOME", NULL }, { NULL, NULL } };
	const struct var explicit[] = {
		{ "HOME", NULL }, { "HISTORY_DB_PATH", "/data/h.db" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;

	(void)state;
	assert_int_equal(load(&cfg, &l, systemd), 0);
	assert_string_equal(cfg.history_db_path, "/var/lib/tagwarden/history.db");
	config_free(&cfg);
	assert_int_equal(load(&cfg, &l, xdg), 0);
	assert_string_equal(cfg.history_db_path,
	    "/home/tester/.state/tagwarden/history.db");
	config_free(&cfg);
	assert_int_equal(load(&cfg, &l, xdg_relative), 0);
	assert_string_equal(cfg.history_db_path,
	    "/home/tester/.local/state/tagwarden/history.db");
	config_free(&cfg);
	expect_error(nothing, "HISTORY_DB_PATH: must be set, since its default "
	    "($STATE_DIRECTORY/history.db (systemd), else $XDG_STATE_HOME/"
	    "tagwarden/history.db, else $HOME/.local/state/tagwarden/history.db) "
	    "cannot be worked out here");
	assert_int_equal(load(&cfg, &l, explicit), 0);
	assert_int_equal(l.n, 0);
	assert_string_equal(cfg.history_db_path, "/data/h.db");
	config_free(&cfg);
}

static void
test_config_log_level(void **state)
{
	struct config cfg;

	(void)state;
	load_var_ok(&cfg, "LOG_LEVEL", "debug");
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	config_free(&cfg);
	load_var_ok(&cfg, "LOG_LEVEL", "WARNING");
	assert_int_equal(cfg.log_level, LOG_LEVEL_WARNING);
	config_free(&cfg);
	load_var_ok(&cfg, "LOG_LEVEL", "Error");
	assert_int_equal(cfg.log_level, LOG_LEVEL_ERROR);
	config_free(&cfg);
	expect_var_error("LOG_LEVEL", "TRACE",
	    "LOG_LEVEL=TRACE: must be DEBUG, INFO, WARNING or ERROR (any case)");
	expect_var_error("LOG_LEVEL", "",
	    "LOG_LEVEL=: must be DEBUG, INFO, WARNING or ERROR (any case)");
	expect_var_error("LOG_LEVEL", "WARN",
	    "LOG_LEVEL=WARN: must be DEBUG, INFO, WARNING or ERROR (any case)");
}

static void
test_config_endpoint_urls(void **state)
{
	static const char *const good[] = {
		"http://127.0.0.1:4566", "https://sts.eu-west-1.amazonaws.com",
		"http://localhost:9000/prefix/", "https://[::1]:8443",
	};
	static const char *const bad[] = {
		"ftp://example.com", "localhost:4566", "http://",
		"http://user:pw@example.com", "https://example.com/?x=1",
		"http://example.com/#frag", "http://exa mple.com", "example.com",
	};
	char expected[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_var_ok("AWS_ENDPOINT_URL", good[i]);
		expect_var_ok("AWS_CONTAINER_CREDENTIALS_FULL_URI", good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(expected, sizeof(expected), "AWS_ENDPOINT_URL=%s: must "
		    "be an http:// or https:// URL without user, query or "
		    "fragment", bad[i]);
		expect_var_error("AWS_ENDPOINT_URL", bad[i], expected);
	}
	/* Empty is unset for the standard AWS variables, as in botocore. */
	expect_var_ok("AWS_ENDPOINT_URL", "");
}

static void
test_config_aws_standard_rows(void **state)
{
	struct var role_arn[] = {
		{ "AWS_ROLE_ARN", "arn:aws:iam::123456789012:user/bob" },
		{ "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;

	(void)state;
	expect_var_ok("AWS_PROFILE", "prod admin");
	expect_var_ok("AWS_PROFILE", "");
	expect_var_error("AWS_PROFILE", "a\tb",
	    "AWS_PROFILE=a\\x09b: must be a profile name without control "
	    "characters");
	expect_var_ok("AWS_SHARED_CREDENTIALS_FILE", "/etc/aws/credentials");
	expect_var_ok("AWS_CONFIG_FILE", "~/.aws/config");
	expect_var_ok("AWS_CA_BUNDLE", "/etc/ssl/certs/ca.pem");
	expect_var_error("AWS_CA_BUNDLE", "/etc/ca\r",
	    "AWS_CA_BUNDLE=/etc/ca\\x0d: must be a file path without control "
	    "characters");
	expect_var_ok("AWS_EC2_METADATA_DISABLED", "true");
	expect_var_ok("AWS_EC2_METADATA_DISABLED", "FALSE");
	expect_var_error("AWS_EC2_METADATA_DISABLED", "1",
	    "AWS_EC2_METADATA_DISABLED=1: must be true or false (any case)");
	expect_var_ok("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	    "/v2/credentials/3a3f-11aa");
	expect_var_error("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	    "/v2/credentials x", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="
	    "/v2/credentials x: must be a path such as /v2/credentials/ID, "
	    "without spaces");
	expect_var_ok("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	    "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/token");
	expect_var_ok("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic abc=");
	expect_var_error("AWS_CONTAINER_AUTHORIZATION_TOKEN", "abc\r\nX-Evil: 1",
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN: must be one line without "
	    "control characters");
	expect_var_ok("AWS_ROLE_SESSION_NAME", "ci@build-42");
	expect_var_error("AWS_ROLE_SESSION_NAME", "x",
	    "AWS_ROLE_SESSION_NAME=x: must be 2..64 characters of A-Z a-z 0-9 _ "
	    "+ = , . @ -");
	expect_error(role_arn, "AWS_ROLE_ARN=arn:aws:iam::123456789012:user/bob: "
	    "must be an IAM role ARN arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME "
	    "with PARTITION aws, aws-cn or aws-us-gov");
	role_arn[0].value = "arn:aws:iam::123456789012:role/ci/Deploy";
	load(&cfg, &l, role_arn);
	assert_int_equal(l.n, 0);
	config_free(&cfg);
}

static void
test_config_secrets_never_echoed(void **state)
{
	const struct var bad[] = {
		{ "AWS_ACCESS_KEY_ID", "KEYMARKER KEY" },
		{ "AWS_SECRET_ACCESS_KEY", "SECRETMARKER secret" },
		{ "AWS_SESSION_TOKEN", "TOKENMARKER\n" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;
	size_t i;

	(void)state;
	assert_int_equal(load(&cfg, &l, bad), -1);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.text[0], "AWS_ACCESS_KEY_ID: must be 1..128 "
	    "characters of A-Z a-z 0-9 _");
	assert_string_equal(l.text[1], "AWS_SECRET_ACCESS_KEY: must be "
	    "printable ASCII without spaces");
	assert_string_equal(l.text[2], "AWS_SESSION_TOKEN: must be printable "
	    "ASCII without spaces");
	for (i = 0; i < l.n; i++)
		assert_null(strstr(l.text[i], "MARKER"));
	lines_free(&l);
	config_free(&cfg);
}

static char *
dump(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	config_dump(cfg, fp);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void
test_config_dump_masks_secrets(void **state)
{
	/* AWS documentation's example key pair. */
	const struct var env[] = {
		{ "AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE" },
		{ "AWS_SECRET_ACCESS_KEY",
		  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
		{ "AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN" },
		{ "AWS_ASSUME_ROLE_EXTERNAL_ID", "ext-EXAMPLE-id" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;
	char *out;

	(void)state;
	assert_int_equal(load(&cfg, &l, env), 0);
	out = dump(&cfg);
	assert_non_null(strstr(out,
	    "\nAWS_ACCESS_KEY_ID=****MPLE (source: environment)\n"));
	assert_non_null(strstr(out,
	    "\nAWS_SECRET_ACCESS_KEY=(set) (source: environment)\n"));
	assert_non_null(strstr(out,
	    "\nAWS_SESSION_TOKEN=(set) (source: environment)\n"));
	assert_non_null(strstr(out,
	    "\nAWS_ASSUME_ROLE_EXTERNAL_ID=(set) (source: environment)\n"));
	assert_null(strstr(out, "wJalr"));
	assert_null(strstr(out, "EXAMPLEKEY"));
	assert_null(strstr(out, "FwoGZ"));
	assert_null(strstr(out, "AKIAIOSF"));
	assert_null(strstr(out, "ext-EXAMPLE"));
	free(out);
	config_free(&cfg);
}

#define DUMP_HEAD "MULTI_ACCOUNT_ENABLED=true (source: environment)\n" \
	"AWS_ACCOUNT_IDS=123456789012,210987654321 (source: environment)\n"

static void
test_config_dump_sources(void **state)
{
	const struct var env[] = {
		{ "MAX_CONCURRENT_ACCOUNTS", "7" },
		{ "AWS_DEFAULT_REGION", "eu-west-1" },
		{ "MULTI_ACCOUNT_ENABLED", "yes" },
		{ "AWS_ACCOUNT_IDS", " 123456789012 ,210987654321" },
		{ "LOG_LEVEL", "debug" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;
	char *out;

	(void)state;
	assert_int_equal(load(&cfg, &l, env), 0);
	out = dump(&cfg);
	assert_true(strncmp(out, DUMP_HEAD, strlen(DUMP_HEAD)) == 0);
	assert_non_null(strstr(out,
	    "\nMAX_CONCURRENT_ACCOUNTS=7 (source: environment)\n"));
	assert_non_null(strstr(out,
	    "\nACCOUNT_SCAN_TIMEOUT_SECONDS=120 (source: default)\n"));
	assert_non_null(strstr(out,
	    "\nAWS_REGION=eu-west-1 (source: AWS_DEFAULT_REGION)\n"));
	assert_non_null(strstr(out, "\nALLOWED_REGIONS=\"\" (source: default)\n"));
	assert_non_null(strstr(out, "\nLOG_LEVEL=DEBUG (source: environment)\n"));
	assert_non_null(strstr(out, "\nAWS_PROFILE=(unset) (source: default)\n"));
	/* The documentation-only family has no line of its own. */
	assert_null(strstr(out, "<SERVICE>"));
	free(out);
	config_free(&cfg);
}

static void
test_config_cross_field_rules(void **state)
{
	const struct var ignored[] = {
		{ "AWS_ACCOUNT_IDS", "123456789012" }, { NULL, NULL }
	};
	const struct var used[] = {
		{ "AWS_ACCOUNT_IDS", "123456789012" },
		{ "MULTI_ACCOUNT_ENABLED", "true" }, { NULL, NULL }
	};
	const struct var key_only[] = {
		{ "AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE" }, { NULL, NULL }
	};
	const struct var secret_only[] = {
		{ "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI" }, { NULL, NULL }
	};
	const struct var token_file_only[] = {
		{ "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token" }, { NULL, NULL }
	};
	const struct var role_arn_only[] = {
		{ "AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;

	(void)state;
	assert_int_equal(load(&cfg, &l, ignored), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.sev[0], CONFIG_WARNING);
	assert_string_equal(l.text[0], "AWS_ACCOUNT_IDS is set but ignored "
	    "until MULTI_ACCOUNT_ENABLED=true");
	lines_free(&l);
	config_free(&cfg);
	assert_int_equal(load(&cfg, &l, used), 0);
	assert_int_equal(l.n, 0);
	config_free(&cfg);
	expect_error(key_only, "AWS_ACCESS_KEY_ID is set without "
	    "AWS_SECRET_ACCESS_KEY: must set both or neither");
	expect_error(secret_only, "AWS_SECRET_ACCESS_KEY is set without "
	    "AWS_ACCESS_KEY_ID: must set both or neither");
	expect_error(token_file_only, "AWS_WEB_IDENTITY_TOKEN_FILE is set "
	    "without AWS_ROLE_ARN: must also set the ARN of the role to assume");
	assert_int_equal(load(&cfg, &l, role_arn_only), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.sev[0], CONFIG_WARNING);
	assert_string_equal(l.text[0], "AWS_ROLE_ARN is set without "
	    "AWS_WEB_IDENTITY_TOKEN_FILE: AWS_ROLE_ARN is ignored");
	lines_free(&l);
	config_free(&cfg);
}

static void
test_config_collects_every_error(void **state)
{
	const struct var env[] = {
		{ "LOG_LEVEL", "loud" },
		{ "MAX_CONCURRENT_ACCOUNTS", "0" },
		{ "MULTI_ACCOUNT_ENABLED", "maybe" },
		{ "AWS_ACCOUNT_IDS", "12345" },
		{ "ACCOUNT_SCAN_TIMEOUT_SECONDS", "29" },
		{ "AWS_ENDPOINT_URL", "ftp://x" },
		{ NULL, NULL }
	};
	struct config cfg;
	struct lines l;

	(void)state;
	assert_int_equal(load(&cfg, &l, env), -1);
	/* In table order, not environment order. */
	assert_int_equal(l.n, 6);
	assert_string_equal(l.text[0], "MULTI_ACCOUNT_ENABLED=maybe: must be "
	    "true or false (1/0, yes/no, on/off also accepted, any case)");
	assert_string_equal(l.text[1], "AWS_ACCOUNT_IDS=12345: entry 1 "
	    "\"12345\" must be exactly 12 digits");
	assert_string_equal(l.text[2],
	    "MAX_CONCURRENT_ACCOUNTS=0: must be an integer 1..20");
	assert_string_equal(l.text[3],
	    "ACCOUNT_SCAN_TIMEOUT_SECONDS=29: must be an integer 30..600");
	assert_string_equal(l.text[4], "LOG_LEVEL=loud: must be DEBUG, INFO, "
	    "WARNING or ERROR (any case)");
	assert_string_equal(l.text[5], "AWS_ENDPOINT_URL=ftp://x: must be an "
	    "http:// or https:// URL without user, query or fragment");
	/* Failed rows keep their defaults. */
	assert_int_equal(cfg.max_concurrent_accounts, 5);
	assert_int_equal(cfg.account_scan_timeout_seconds, 120);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	lines_free(&l);
	config_free(&cfg);
	/* A NULL report still gets the verdict. */
	env_now = env;
	assert_int_equal(config_load(&cfg, env_get, NULL, NULL), -1);
	config_free(&cfg);
}

static void
test_config_value_escaped_truncated(void **state)
{
	char value[201], expected[300];

	(void)state;
	expect_var_error("MAX_CONCURRENT_ACCOUNTS", "5\x1b[2J",
	    "MAX_CONCURRENT_ACCOUNTS=5\\x1b[2J: must be an integer 1..20");
	expect_var_error("LOG_LEVEL", "INFO\n",
	    "LOG_LEVEL=INFO\\x0a: must be DEBUG, INFO, WARNING or ERROR (any "
	    "case)");
	expect_var_error("LOG_LEVEL", "caf\xc3\xa9",
	    "LOG_LEVEL=caf\\xc3\\xa9: must be DEBUG, INFO, WARNING or ERROR "
	    "(any case)");
	/* 200 digits: the first 128 are quoted, then "...". */
	memset(value, '7', 200);
	value[200] = '\0';
	snprintf(expected, sizeof(expected), "CACHE_TTL_SECONDS=%.128s...: must "
	    "be an integer 0..604800", value);
	expect_var_error("CACHE_TTL_SECONDS", value, expected);
}

/* Every variable of the contract and of the standard AWS list. */
static const char *const all_names[] = {
	"MULTI_ACCOUNT_ENABLED", "AWS_ACCOUNT_IDS", "AWS_ASSUME_ROLE_NAME",
	"AWS_ASSUME_ROLE_ARN_TEMPLATE", "AWS_ASSUME_ROLE_SESSION_DURATION",
	"AWS_ASSUME_ROLE_EXTERNAL_ID", "MAX_CONCURRENT_ACCOUNTS",
	"ACCOUNT_SCAN_TIMEOUT_SECONDS", "AWS_REGION", "POLICY_PATH",
	"HISTORY_DB_PATH", "ALLOWED_REGIONS", "CACHE_TTL_SECONDS",
	"COST_EXPLORER_ENABLED", "COST_EXPLORER_ACCOUNT_ID", "COST_METRIC",
	"LOG_LEVEL",
	"AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONFIG_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_<SERVICE>",
	"AWS_CA_BUNDLE", "AWS_EC2_METADATA_DISABLED", "AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
};

static char *
help(enum config_help_format format)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	config_help(fp, format);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

#define MD_HEADER "| Variable | Default | Allowed | Meaning |\n" \
	"| --- | --- | --- | --- |\n"

static void
test_config_help_lists_every_variable(void **state)
{
	char *text, *md, *p, needle[80];
	size_t i, nlines = 0;

	(void)state;
	text = help(CONFIG_HELP_TEXT);
	md = help(CONFIG_HELP_MARKDOWN);
	for (i = 0; i < sizeof(all_names) / sizeof(all_names[0]); i++) {
		snprintf(needle, sizeof(needle), "  %s\n", all_names[i]);
		assert_non_null(strstr(text, needle));
		snprintf(needle, sizeof(needle), "| `%s` |", all_names[i]);
		assert_non_null(strstr(md, needle));
	}
	assert_non_null(strstr(text, "      Allowed: an integer 1..20\n"));
	assert_non_null(strstr(md, "| `MAX_CONCURRENT_ACCOUNTS` | `5` | "
	    "an integer 1..20 |"));
	/* Header, separator, one line per variable; no raw HTML. */
	for (p = md; (p = strchr(p, '\n')) != NULL; p++)
		nlines++;
	assert_int_equal(nlines, 2 + sizeof(all_names) / sizeof(all_names[0]));
	assert_true(strncmp(md, MD_HEADER, strlen(MD_HEADER)) == 0);
	free(text);
	free(md);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_defaults,
		    in_scratch_dir, leave_scratch_dir),
		cmocka_unit_test(test_config_int_rows_edges),
		cmocka_unit_test(test_config_int_rows_literal),
		cmocka_unit_test(test_config_bool),
		cmocka_unit_test(test_config_account_ids_parse),
		cmocka_unit_test(test_config_account_ids_invalid),
		cmocka_unit_test(test_config_role_name),
		cmocka_unit_test(test_config_template_valid),
		cmocka_unit_test(test_config_template_invalid),
		cmocka_unit_test(test_config_external_id),
		cmocka_unit_test(test_config_region_forms),
		cmocka_unit_test(test_config_region_fallback),
		cmocka_unit_test(test_config_allowed_regions),
		cmocka_unit_test_setup_teardown(test_config_policy_path,
		    in_scratch_dir, leave_scratch_dir),
		cmocka_unit_test(test_config_history_db_path),
		cmocka_unit_test(test_config_log_level),
		cmocka_unit_test(test_config_endpoint_urls),
		cmocka_unit_test(test_config_aws_standard_rows),
		cmocka_unit_test(test_config_secrets_never_echoed),
		cmocka_unit_test(test_config_dump_masks_secrets),
		cmocka_unit_test(test_config_dump_sources),
		cmocka_unit_test(test_config_cross_field_rules),
		cmocka_unit_test(test_config_collects_every_error),
		cmocka_unit_test(test_config_value_escaped_truncated),
		cmocka_unit_test(test_config_help_lists_every_variable),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
