/*
 * supervisor/jschema.c: the tool-argument validator. Expected messages are
 * written out by hand from the documented form "<field>: <value>: expected
 * <allowed form>" (jschema.h); the accept/reject verdicts follow JSON
 * Schema's definitions of the keywords (json-schema.org validation spec).
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

static json_t *
parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (v == NULL)
		fail_msg("test JSON does not parse: %s: %s", jerr.text, text);
	return v;
}

/* Validate; return the message ("" when valid) in err. */
static int
validate(const char *schema, const char *value, struct errbuf *err)
{
	json_t *s = parse(schema), *v = parse(value);
	int rc;

	err->msg[0] = '\0';
	assert_int_equal(jschema_check(s, err), 0);
	rc = jschema_validate(s, v, err);
	json_decref(s);
	json_decref(v);
	return rc;
}

static const char days_schema[] = "{\"type\": \"object\","
    "\"properties\": {\"days\": {\"type\": \"integer\", \"minimum\": 1,"
    "\"maximum\": 90}, \"group\": {\"type\": \"string\", \"enum\": "
    "[\"day\", \"week\"]}}, \"additionalProperties\": false}";

static void
test_jschema_integer_range(void **state)
{
	struct errbuf err;

	(void)state;
	assert_int_equal(validate(days_schema, "{\"days\": 90}", &err), 0);
	assert_int_equal(validate(days_schema, "{\"days\": 0}", &err), -1);
	assert_string_equal(err.msg, "days: 0: expected an integer 1..90");
	assert_int_equal(validate(days_schema, "{\"days\": 91}", &err), -1);
	assert_string_equal(err.msg, "days: 91: expected an integer 1..90");
	/* A string is not an integer, nor is 1.5 (JSON Schema "integer"). */
	assert_int_equal(validate(days_schema, "{\"days\": \"7\"}", &err), -1);
	assert_string_equal(err.msg, "days: \"7\": expected an integer 1..90");
	assert_int_equal(validate(days_schema, "{\"days\": 1.5}", &err), -1);
}

static void
test_jschema_enum_and_unknown_field(void **state)
{
	struct errbuf err;

	(void)state;
	assert_int_equal(validate(days_schema, "{\"group\": \"year\"}", &err),
	    -1);
	assert_string_equal(err.msg, "group: \"year\": expected one of "
	    "\"day\", \"week\"");
	assert_int_equal(validate(days_schema, "{\"bogus\": true}", &err), -1);
	assert_string_equal(err.msg, "bogus: unknown field: expected an "
	    "object with fields days, group");
	assert_int_equal(validate(days_schema, "{}", &err), 0);
	/* The arguments themselves must be an object. */
	assert_int_equal(validate(days_schema, "[]", &err), -1);
	assert_string_equal(err.msg, "arguments: []: expected an object with "
	    "fields days, group");
}

static const char ids_schema[] = "{\"type\": \"object\", "
    "\"required\": [\"ids\"], \"additionalProperties\": false, "
    "\"properties\": {\"ids\": {\"type\": \"array\", \"minItems\": 1, "
    "\"maxItems\": 3, \"uniqueItems\": true, \"items\": {\"type\": "
    "\"string\", \"pattern\": \"^[0-9]{12}$\"}}}}";

static void
test_jschema_array_items_and_pattern(void **state)
{
	struct errbuf err;

	(void)state;
	assert_int_equal(validate(ids_schema, "{\"ids\": [\"123456789012\"]}",
	    &err), 0);
	assert_int_equal(validate(ids_schema, "{}", &err), -1);
	assert_string_equal(err.msg, "ids: missing: expected an array of 1..3 "
	    "items, each a string matching ^[0-9]{12}$");
	assert_int_equal(validate(ids_schema, "{\"ids\": []}", &err), -1);
	assert_string_equal(err.msg, "ids: []: expected an array of 1..3 "
	    "items, each a string matching ^[0-9]{12}$");
	assert_int_equal(validate(ids_schema, "{\"ids\": [\"123456789012\", "
	    "\"12345\"]}", &err), -1);
	assert_string_equal(err.msg, "ids[1]: \"12345\": expected a string "
	    "matching ^[0-9]{12}$");
	/* $ matches only at the very end: no trailing newline slips by. */
	assert_int_equal(validate(ids_schema, "{\"ids\": "
	    "[\"123456789012\\n\"]}", &err), -1);
	assert_int_equal(validate(ids_schema, "{\"ids\": [\"111111111111\", "
	    "\"222222222222\", \"111111111111\"]}", &err), -1);
	assert_string_equal(err.msg, "ids[2]: repeats item 0: expected "
	    "distinct items");
}

static void
test_jschema_nested_paths(void **state)
{
	static const char schema[] = "{\"type\": \"object\", "
	    "\"additionalProperties\": false, \"properties\": {\"filters\": "
	    "{\"type\": \"object\", \"additionalProperties\": false, "
	    "\"properties\": {\"tags\": {\"type\": \"array\", \"items\": "
	    "{\"type\": \"object\", \"required\": [\"key\"], "
	    "\"additionalProperties\": false, \"properties\": {\"key\": "
	    "{\"type\": \"string\", \"minLength\": 1, \"maxLength\": 3}}}}}}}}";
	struct errbuf err;

	(void)state;
	assert_int_equal(validate(schema, "{\"filters\": {\"tags\": "
	    "[{\"key\": \"ab\"}, {\"key\": \"\"}]}}", &err), -1);
	assert_string_equal(err.msg, "filters.tags[1].key: \"\": expected a "
	    "string of 1..3 characters");
	assert_int_equal(validate(schema, "{\"filters\": {\"tags\": "
	    "[{}]}}", &err), -1);
	assert_string_equal(err.msg, "filters.tags[0].key: missing: expected "
	    "a string of 1..3 characters");
	/* Length is in characters: three two-byte characters fit in 3. */
	assert_int_equal(validate(schema, "{\"filters\": {\"tags\": "
	    "[{\"key\": \"\\u00e9\\u00e9\\u00e9\"}]}}", &err), 0);
}

static void
test_jschema_union_types(void **state)
{
	static const char schema[] = "{\"type\": \"object\", \"properties\": "
	    "{\"v\": {\"type\": [\"string\", \"null\"]}, \"b\": {\"type\": "
	    "\"boolean\"}, \"n\": {\"type\": \"number\"}}}";
	struct errbuf err;

	(void)state;
	assert_int_equal(validate(schema, "{\"v\": null, \"b\": false, "
	    "\"n\": 2}", &err), 0);
	assert_int_equal(validate(schema, "{\"v\": 5}", &err), -1);
	assert_string_equal(err.msg, "v: 5: expected a string or null");
	assert_int_equal(validate(schema, "{\"b\": \"yes\"}", &err), -1);
	assert_string_equal(err.msg, "b: \"yes\": expected true or false");
	/* Without additionalProperties false, other fields are allowed. */
	assert_int_equal(validate(schema, "{\"other\": 1}", &err), 0);
}

/* A long or multibyte value is clipped at a character boundary. */
static void
test_jschema_value_clipped(void **state)
{
	char value[1024], *p = value;
	struct errbuf err;
	json_t *s;
	int i;

	(void)state;
	p += snprintf(p, 16, "{\"group\": \"");
	for (i = 0; i < 100; i++)
		p += snprintf(p, 8, "\\u00e9");
	snprintf(p, 8, "\"}");
	assert_int_equal(validate(days_schema, value, &err), -1);
	assert_non_null(strstr(err.msg, "...: expected one of"));
	/* Still valid UTF-8: jansson accepts it as a string. */
	s = json_string(err.msg);
	assert_non_null(s);
	json_decref(s);
	assert_true(strlen(err.msg) < 200);
}

static void
test_jschema_check_rejects_unknown(void **state)
{
	static const char *const bad[] = {
		"{\"type\": \"object\", \"oneOf\": []}",
		"{\"type\": \"object\", \"additionalProperties\": {}}",
		"{\"type\": \"object\", \"properties\": {\"a\": {\"type\": "
		"\"text\"}}}",
		"{\"type\": \"array\", \"items\": {\"format\": \"uri\"}}",
	};
	struct errbuf err;
	json_t *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = parse(bad[i]);
		assert_int_equal(jschema_check(s, &err), -1);
		json_decref(s);
	}
	s = parse(bad[0]);
	assert_int_equal(jschema_check(s, &err), -1);
	assert_string_equal(err.msg, "schema: keyword oneOf is not supported");
	json_decref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jschema_integer_range),
		cmocka_unit_test(test_jschema_enum_and_unknown_field),
		cmocka_unit_test(test_jschema_array_items_and_pattern),
		cmocka_unit_test(test_jschema_nested_paths),
		cmocka_unit_test(test_jschema_union_types),
		cmocka_unit_test(test_jschema_value_clipped),
		cmocka_unit_test(test_jschema_check_rejects_unknown),
	};

	return cmocka_run_group_tests_name("jschema", tests, NULL, NULL);
}
