/*
 * supervisor/tools.c's table: every row's schemas parse, input schemas are
 * closed and use only what the validator knows, the documented defaults
 * are valid values, output schemas name what they require, and the type
 * enums list exactly the collected types. Expected names and enums are
 * written here from issue 6 and DESIGN.md section 8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "errbuf.h"
#include "jschema.h"
#include "tools.h"

static const char *const names[] = {
	"check_tag_compliance", "find_untagged_resources",
	"validate_resource_tags", "get_tagging_policy",
	"get_violation_history", "get_cost_attribution_gap",
};
#define NNAMES	(sizeof(names) / sizeof(names[0]))

static json_t *
schema(const char *text)
{
	json_t *s = json_loads(text, 0, NULL);

	assert_non_null(s);
	return s;
}

static void
test_tools_table_valid(void **state)
{
	struct errbuf err;
	size_t i;

	(void)state;
	if (tools_check_table(&err) == -1)
		fail_msg("%s", err.msg);
	for (i = 0; i < NNAMES; i++) {
		assert_non_null(tools_find(names[i]));
		assert_string_equal(tools_find(names[i])->name, names[i]);
	}
	assert_null(tools_find("check_tag_compliance "));
	assert_null(tools_find(""));
}

/* Short, one-line descriptions and titles (the issue: short, factual). */
static void
test_tools_descriptions(void **state)
{
	const struct tool *t;
	size_t i;

	(void)state;
	for (i = 0; i < NNAMES; i++) {
		t = tools_find(names[i]);
		assert_true(strlen(t->description) > 20);
		assert_true(strlen(t->description) < 300);
		assert_null(strchr(t->description, '\n'));
		assert_true(strlen(t->title) > 0 && strlen(t->title) < 40);
	}
}

/* Every default an input schema announces passes its own schema. */
static void
test_tools_defaults_valid(void **state)
{
	const char *key;
	json_t *in, *prop, *def;
	struct errbuf err;
	size_t i;

	(void)state;
	for (i = 0; i < NNAMES; i++) {
		in = schema(tools_find(names[i])->input_schema);
		json_object_foreach(json_object_get(in, "properties"), key,
		    prop) {
			if ((def = json_object_get(prop, "default")) == NULL)
				continue;
			if (jschema_validate(prop, def, &err) == -1)
				fail_msg("%s.%s default: %s", names[i], key,
				    err.msg);
		}
		json_decref(in);
	}
}

static void
test_tools_output_required_declared(void **state)
{
	json_t *out, *req, *props;
	size_t i, j;

	(void)state;
	for (i = 0; i < NNAMES; i++) {
		out = schema(tools_find(names[i])->output_schema);
		req = json_object_get(out, "required");
		props = json_object_get(out, "properties");
		assert_true(json_array_size(req) > 0);
		for (j = 0; j < json_array_size(req); j++)
			if (json_object_get(props, json_string_value(
			    json_array_get(req, j))) == NULL)
				fail_msg("%s: required %s not in properties",
				    names[i], json_string_value(
				    json_array_get(req, j)));
		json_decref(out);
	}
}

/* resource_types enums: "all" and the six collected types, no more. */
static void
test_tools_type_enums(void **state)
{
	static const char *const want[] = {
		"all", "ec2:instance", "ec2:volume", "s3:bucket", "rds:db",
		"lambda:function", "ecs:cluster",
	};
	static const char *const with_types[] = {
		"check_tag_compliance", "find_untagged_resources",
	};
	json_t *in, *e;
	size_t i, j;

	(void)state;
	assert_int_equal(tool_nresource_types, 6);
	for (j = 0; j < tool_nresource_types; j++)
		assert_string_equal(tool_resource_types[j], want[j + 1]);
	for (i = 0; i < 2; i++) {
		in = schema(tools_find(with_types[i])->input_schema);
		e = json_object_get(json_object_get(json_object_get(
		    json_object_get(in, "properties"), "resource_types"),
		    "items"), "enum");
		assert_int_equal(json_array_size(e), 7);
		for (j = 0; j < 7; j++)
			assert_string_equal(json_string_value(
			    json_array_get(e, j)), want[j]);
		json_decref(in);
	}
}

/* Arguments the issue names are accepted; a few bad ones are not. */
static void
test_tools_arguments(void **state)
{
	static const struct {
		const char	*tool, *args;
		int		 ok;
	} cases[] = {
		{ "check_tag_compliance", "{\"resource_types\": [\"all\"], "
		  "\"filters\": {\"regions\": [\"us-east-1\"], \"tags\": "
		  "[{\"key\": \"Owner\", \"values\": []}]}, \"severity\": "
		  "\"errors_only\", \"store_snapshot\": false, "
		  "\"force_refresh\": true, \"account_ids\": "
		  "[\"123456789012\"]}", 1 },
		{ "check_tag_compliance", "{\"severity\": \"high\"}", 0 },
		{ "check_tag_compliance", "{\"filters\": {\"regions\": "
		  "[\"us-gov-west-1\", \"eu-central-2\"]}}", 1 },
		{ "find_untagged_resources", "{\"regions\": [\"US-EAST-1\"]}", 0 },
		{ "validate_resource_tags", "{\"resource_arns\": "
		  "[\"arn:aws:ec2:us-east-1:123456789012:instance/i-1\"]}", 1 },
		{ "validate_resource_tags", "{\"resource_arns\": "
		  "[\"arn:aws:s3:::bucket\"]}", 0 },
		{ "validate_resource_tags", "{\"resource_arns\": "
		  "[\"arn:aws:ec2:us-east-1:123456789012:instance/i 1\"]}", 0 },
		{ "get_tagging_policy", "{}", 1 },
		{ "get_violation_history", "{\"days_back\": 1, \"group_by\": "
		  "\"month\", \"account_id\": \"123456789012\"}", 1 },
		{ "get_violation_history", "{\"days_back\": 90.5}", 0 },
	};
	struct errbuf err;
	json_t *in, *args;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = schema(tools_find(cases[i].tool)->input_schema);
		args = schema(cases[i].args);
		if ((jschema_validate(in, args, &err) == 0) != cases[i].ok)
			fail_msg("%s %s: expected %s (%s)", cases[i].tool,
			    cases[i].args, cases[i].ok ? "valid" : "invalid",
			    err.msg);
		json_decref(in);
		json_decref(args);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tools_table_valid),
		cmocka_unit_test(test_tools_descriptions),
		cmocka_unit_test(test_tools_defaults_valid),
		cmocka_unit_test(test_tools_output_required_declared),
		cmocka_unit_test(test_tools_type_enums),
		cmocka_unit_test(test_tools_arguments),
	};

	return cmocka_run_group_tests_name("tools", tests, NULL, NULL);
}
