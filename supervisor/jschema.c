/*
 * A validator for the subset of JSON Schema that tool inputSchemas use.
 * Each keyword is one row of a table (its check and its part of the
 * "expected ..." text); patterns are PCRE2, anchored as written, with $
 * matching only at the very end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>

#include "errbuf.h"
#include "jschema.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define JSCHEMA_PATH_MAX	256
#define JSCHEMA_FORM_MAX	512
/* The top level's name; its fields are named without a prefix. */
#define JSCHEMA_ROOT		"arguments"

static const char *const jschema_keywords[] = {
	"type", "properties", "required", "additionalProperties", "items",
	"minItems", "maxItems", "uniqueItems", "enum", "pattern", "minLength",
	"maxLength", "minimum", "maximum", "title", "description", "default",
};

static const char *const jschema_types[] = {
	"object", "array", "string", "integer", "number", "boolean", "null",
};

/* --- schema check --- */

static int
jschema_known(const char *key, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return 1;
	return 0;
}

static int
jschema_check_at(const json_t *s, const char *path, struct errbuf *err)
{
	const json_t *v, *sub;
	const char *key;
	char next[JSCHEMA_PATH_MAX];
	size_t i;

	if (!json_is_object(s))
		return err_set(err, "%s: expected a schema object", path);
	json_object_foreach((json_t *)s, key, v) {
		if (!jschema_known(key, jschema_keywords,
		    nitems(jschema_keywords)))
			return err_set(err, "%s: keyword %s is not supported",
			    path, key);
	}
	v = json_object_get(s, "type");
	for (i = 0; json_is_array(v) && i < json_array_size(v); i++)
		if (!jschema_known(json_string_value(json_array_get(v, i)) ?
		    json_string_value(json_array_get(v, i)) : "",
		    jschema_types, nitems(jschema_types)))
			return err_set(err, "%s.type[%zu]: unknown type", path, i);
	if (json_is_string(v) && !jschema_known(json_string_value(v),
	    jschema_types, nitems(jschema_types)))
		return err_set(err, "%s.type: unknown type", path);
	v = json_object_get(s, "additionalProperties");
	if (v != NULL && !json_is_false(v))
		return err_set(err, "%s.additionalProperties: only false is "
		    "supported", path);
	json_object_foreach(json_object_get(s, "properties"), key, sub) {
		snprintf(next, sizeof(next), "%s.properties.%s", path, key);
		if (jschema_check_at(sub, next, err) == -1)
			return -1;
	}
	if ((sub = json_object_get(s, "items")) != NULL) {
		snprintf(next, sizeof(next), "%s.items", path);
		return jschema_check_at(sub, next, err);
	}
	return 0;
}

int
jschema_check(const json_t *schema, struct errbuf *err)
{
	return jschema_check_at(schema, "schema", err);
}

/* --- the allowed form, in words --- */

static void
form_add(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
form_add(char *buf, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len >= JSCHEMA_FORM_MAX - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, JSCHEMA_FORM_MAX - len, fmt, ap);
	va_end(ap);
}

static void	jschema_form(const json_t *, char *);

static void
form_list(char *buf, const json_t *list, const char *sep)
{
	const json_t *v;
	char *s;
	size_t i;

	json_array_foreach(list, i, v) {
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		form_add(buf, "%s%s", i > 0 ? sep : "", s != NULL ? s : "?");
		free(s);
	}
}

static void
form_range(char *buf, const json_t *s, const char *lo, const char *hi,
    const char *unit)
{
	const json_t *min = json_object_get(s, lo), *max = json_object_get(s,
	    hi);

	if (min != NULL && max != NULL)
		form_add(buf, " of %lld..%lld%s", (long long)json_number_value(min),
		    (long long)json_number_value(max), unit);
	else if (min != NULL)
		form_add(buf, " of at least %lld%s",
		    (long long)json_number_value(min), unit);
	else if (max != NULL)
		form_add(buf, " of at most %lld%s",
		    (long long)json_number_value(max), unit);
}

static void
form_typed(const json_t *s, const char *type, char *buf)
{
	char items[JSCHEMA_FORM_MAX] = "";
	const json_t *props;
	const char *key;
	json_t *v;
	int first = 1;

	if (strcmp(type, "array") == 0) {
		form_add(buf, "an array");
		form_range(buf, s, "minItems", "maxItems", " items");
		if (json_object_get(s, "items") != NULL) {
			jschema_form(json_object_get(s, "items"), items);
			form_add(buf, ", each %s", items);
		}
	} else if (strcmp(type, "object") == 0) {
		form_add(buf, "an object");
		props = json_object_get(s, "properties");
		json_object_foreach((json_t *)props, key, v) {
			form_add(buf, "%s%s", first ? " with fields " : ", ", key);
			first = 0;
		}
	} else if (strcmp(type, "string") == 0) {
		form_add(buf, "a string");
		form_range(buf, s, "minLength", "maxLength", " characters");
		if (json_is_string(json_object_get(s, "pattern")))
			form_add(buf, " matching %s", json_string_value(
			    json_object_get(s, "pattern")));
	} else if (strcmp(type, "integer") == 0 ||
	    strcmp(type, "number") == 0) {
		form_add(buf, "%s", strcmp(type, "integer") == 0 ?
		    "an integer" : "a number");
		if (json_object_get(s, "minimum") != NULL &&
		    json_object_get(s, "maximum") != NULL)
			form_add(buf, " %lld..%lld", (long long)json_number_value(
			    json_object_get(s, "minimum")), (long long)
			    json_number_value(json_object_get(s, "maximum")));
	} else if (strcmp(type, "boolean") == 0)
		form_add(buf, "true or false");
	else
		form_add(buf, "null");
}

/* "an array of 1..100 items, each a string matching ^arn:..." */
static void
jschema_form(const json_t *s, char *buf)
{
	const json_t *type = json_object_get(s, "type");
	size_t i;

	if (json_object_get(s, "enum") != NULL) {
		form_add(buf, "one of ");
		form_list(buf, json_object_get(s, "enum"), ", ");
		return;
	}
	if (json_is_string(type)) {
		form_typed(s, json_string_value(type), buf);
		return;
	}
	for (i = 0; i < json_array_size(type); i++) {
		if (i > 0)
			form_add(buf, " or ");
		form_typed(s, json_string_value(json_array_get(type, i)), buf);
	}
	if (type == NULL)
		form_add(buf, "any value");
}

/* --- validation --- */

struct jcheck {
	const json_t	*schema;
	const json_t	*value;
	const char	*path;
	struct errbuf	*err;
};

static int
jschema_fail(const struct jcheck *c)
{
	char form[JSCHEMA_FORM_MAX] = "", quoted[JSCHEMA_QUOTE_MAX + 4];
	char *s;
	size_t n;

	jschema_form(c->schema, form);
	s = json_dumps(c->value, JSON_ENCODE_ANY | JSON_COMPACT);
	n = s != NULL ? strlen(s) : 0;
	if (n > JSCHEMA_QUOTE_MAX) {
		n = JSCHEMA_QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(quoted, sizeof(quoted), "%.*s%s", (int)n, s != NULL ? s : "",
	    s != NULL && n < strlen(s) ? "..." : "");
	free(s);
	return err_set(c->err, "%s: %s: expected %s", c->path, quoted, form);
}

static int
type_is(const char *type, const json_t *v)
{
	if (strcmp(type, "object") == 0)
		return json_is_object(v);
	if (strcmp(type, "array") == 0)
		return json_is_array(v);
	if (strcmp(type, "string") == 0)
		return json_is_string(v);
	if (strcmp(type, "integer") == 0)
		return json_is_integer(v);
	if (strcmp(type, "number") == 0)
		return json_is_number(v);
	if (strcmp(type, "boolean") == 0)
		return json_is_boolean(v);
	return json_is_null(v);
}

static int
check_type(const struct jcheck *c)
{
	const json_t *type = json_object_get(c->schema, "type");
	size_t i;

	if (type == NULL)
		return 0;
	if (json_is_string(type))
		return type_is(json_string_value(type), c->value) ? 0 :
		    jschema_fail(c);
	for (i = 0; i < json_array_size(type); i++)
		if (type_is(json_string_value(json_array_get(type, i)),
		    c->value))
			return 0;
	return jschema_fail(c);
}

static int
check_enum(const struct jcheck *c)
{
	const json_t *list = json_object_get(c->schema, "enum"), *v;
	size_t i;

	if (list == NULL)
		return 0;
	json_array_foreach(list, i, v)
		if (json_equal((json_t *)v, (json_t *)c->value))
			return 0;
	return jschema_fail(c);
}

static int
check_bounds(const struct jcheck *c)
{
	const json_t *min = json_object_get(c->schema, "minimum");
	const json_t *max = json_object_get(c->schema, "maximum");
	double v;

	if (!json_is_number(c->value))
		return 0;
	v = json_number_value(c->value);
	if ((min != NULL && v < json_number_value(min)) ||
	    (max != NULL && v > json_number_value(max)))
		return jschema_fail(c);
	return 0;
}

/* Length in characters (code points), as JSON Schema counts. */
static size_t
utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static int
pattern_match(const char *pattern, const char *s, size_t len)
{
	pcre2_match_data *md;
	pcre2_code *re;
	PCRE2_SIZE off;
	int rc, ec;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &ec, &off, NULL);
	if (re == NULL)
		return 0;	/* jschema's unit test compiles every pattern */
	md = pcre2_match_data_create_from_pattern(re, NULL);
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc >= 0;
}

static int
check_string(const struct jcheck *c)
{
	const json_t *min = json_object_get(c->schema, "minLength");
	const json_t *max = json_object_get(c->schema, "maxLength");
	const json_t *pat = json_object_get(c->schema, "pattern");
	const char *s;
	size_t len, n;

	if (!json_is_string(c->value))
		return 0;
	s = json_string_value(c->value);
	len = json_string_length(c->value);
	n = utf8_chars(s, len);
	if ((min != NULL && n < (size_t)json_integer_value(min)) ||
	    (max != NULL && n > (size_t)json_integer_value(max)))
		return jschema_fail(c);
	if (json_is_string(pat) && (strlen(s) != len ||
	    !pattern_match(json_string_value(pat), s, len)))
		return jschema_fail(c);
	return 0;
}

static int	jschema_at(const json_t *, const json_t *, const char *,
		    struct errbuf *);

static int
check_array(const struct jcheck *c)
{
	const json_t *min = json_object_get(c->schema, "minItems");
	const json_t *max = json_object_get(c->schema, "maxItems");
	const json_t *items = json_object_get(c->schema, "items");
	char path[JSCHEMA_PATH_MAX];
	size_t i, j, n;

	if (!json_is_array(c->value))
		return 0;
	n = json_array_size(c->value);
	if ((min != NULL && n < (size_t)json_integer_value(min)) ||
	    (max != NULL && n > (size_t)json_integer_value(max)))
		return jschema_fail(c);
	for (i = 0; items != NULL && i < n; i++) {
		snprintf(path, sizeof(path), "%s[%zu]", c->path, i);
		if (jschema_at(items, json_array_get(c->value, i), path,
		    c->err) == -1)
			return -1;
	}
	if (!json_is_true(json_object_get(c->schema, "uniqueItems")))
		return 0;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (json_equal(json_array_get(c->value, i),
			    json_array_get(c->value, j)))
				return err_set(c->err, "%s[%zu]: repeats item "
				    "%zu: expected distinct items", c->path, j, i);
	return 0;
}

/* "filters.regions"; a key from the client is clipped, whole characters. */
static void
child_path(char *buf, const char *path, const char *key)
{
	size_t n = strlen(key);

	if (n > JSCHEMA_QUOTE_MAX) {
		n = JSCHEMA_QUOTE_MAX;
		while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
			n--;
	}
	if (strcmp(path, JSCHEMA_ROOT) == 0)
		snprintf(buf, JSCHEMA_PATH_MAX, "%.*s", (int)n, key);
	else
		snprintf(buf, JSCHEMA_PATH_MAX, "%s.%.*s", path, (int)n, key);
}

static int
check_object(const struct jcheck *c)
{
	const json_t *props = json_object_get(c->schema, "properties"), *v;
	const json_t *req = json_object_get(c->schema, "required");
	char path[JSCHEMA_PATH_MAX], form[JSCHEMA_FORM_MAX] = "";
	const char *key;
	size_t i;

	if (!json_is_object(c->value))
		return 0;
	json_array_foreach(req, i, v) {
		key = json_string_value(v);
		if (json_object_get(c->value, key) != NULL)
			continue;
		child_path(path, c->path, key);
		jschema_form(json_object_get(props, key), form);
		return err_set(c->err, "%s: missing: expected %s", path, form);
	}
	json_object_foreach((json_t *)c->value, key, v) {
		child_path(path, c->path, key);
		if (json_object_get(props, key) != NULL) {
			if (jschema_at(json_object_get(props, key), v, path,
			    c->err) == -1)
				return -1;
		} else if (json_is_false(json_object_get(c->schema,
		    "additionalProperties"))) {
			jschema_form(c->schema, form);
			return err_set(c->err, "%s: unknown field: expected %s",
			    path, form);
		}
	}
	return 0;
}

static int (*const jschema_checks[])(const struct jcheck *) = {
	check_type, check_enum, check_bounds, check_string, check_array,
	check_object,
};

static int
jschema_at(const json_t *schema, const json_t *value, const char *path,
    struct errbuf *err)
{
	struct jcheck c = { schema, value, path, err };
	size_t i;

	for (i = 0; i < nitems(jschema_checks); i++)
		if (jschema_checks[i](&c) == -1)
			return -1;
	return 0;
}

int
jschema_validate(const json_t *schema, const json_t *value,
    struct errbuf *err)
{
	return jschema_at(schema, value, JSCHEMA_ROOT, err);
}
