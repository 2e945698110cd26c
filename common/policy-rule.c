/*
 * policy-rule parses the required_tags and optional_tags arrays: each tag
 * rule's fields (name, allowed_values, validation_regex, applies_to,
 * severity) checked against tag_naming_rules, and names used twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "log.h"
#include "xmalloc.h"
#include "policy.h"
#include "policy-internal.h"

/*
 * Name, allowed value: within max length and, when special characters are
 * off, within AWS's character set. kind is "max_key_length" or
 * "max_value_length".
 */
static int
check_text(struct policy_loader *l, const char *path, json_t *v,
    json_int_t max, const char *kind)
{
	struct policy *p = l->p;
	pcre2_match_data *md;
	char expect[160];
	int rc;

	if ((json_int_t)policy_utf8_length(json_string_value(v)) > max) {
		snprintf(expect, sizeof(expect), "at most %lld characters "
		    "(tag_naming_rules.%s)", (long long)max, kind);
		policy_load_mismatch(l, path, v, expect);
		return -1;
	}
	if (p->charset == NULL)
		return 0;
	if ((md = pcre2_match_data_create(1, NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	rc = policy_match(p, p->charset, json_string_value(v), md);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return 0;
	policy_load_mismatch(l, path, v, POLICY_CHARSET_TEXT " only "
	    "(tag_naming_rules.allow_special_characters is false)");
	return -1;
}

static void
parse_description(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	struct policy_rule *r = target;

	(void)f;
	if (json_is_null(v))
		return;
	if (policy_load_expect_string(l, path, v, 0) == 0)
		r->description = xstrdup(json_string_value(v));
}

static void
parse_name(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	struct policy_rule *r = target;

	(void)f;
	if (policy_load_expect_string(l, path, v, 1) == -1 ||
	    check_text(l, path, v, l->p->max_key_length,
	    "max_key_length") == -1)
		return;
	r->name = xstrdup(json_string_value(v));
}

/* The earlier allowed_values entry equal to entry i, or -1. */
static ssize_t
allowed_duplicate(const struct policy *p, json_t *list, size_t i)
{
	const char *s = json_string_value(json_array_get(list, i));
	json_t *e;
	size_t j;

	for (j = 0; j < i; j++) {
		e = json_array_get(list, j);
		if (json_is_string(e) &&
		    policy_names_equal(p, json_string_value(e), s))
			return (ssize_t)j;
	}
	return -1;
}

static int
check_allowed_entry(struct policy_loader *l, const char *path, json_t *list,
    size_t i)
{
	json_t *e = json_array_get(list, i);
	char expect[96];
	ssize_t dup;

	if (policy_load_expect_string(l, path, e, 1) == -1 ||
	    check_text(l, path, e, l->p->max_value_length,
	    "max_value_length") == -1)
		return -1;
	if ((dup = allowed_duplicate(l->p, list, i)) == -1)
		return 0;
	snprintf(expect, sizeof(expect), "a value not already listed at "
	    "allowed_values[%zd]%s", dup, l->p->case_sensitive ? "" :
	    " (compared ignoring case)");
	policy_load_mismatch(l, path, e, expect);
	return -1;
}

static void
parse_allowed(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	struct policy_rule *r = target;
	char *sub;
	size_t i;

	(void)f;
	if (json_is_null(v))
		return;
	if (!json_is_array(v) || json_array_size(v) == 0) {
		policy_load_mismatch(l, path, v,
		    "null or a non-empty array of strings");
		return;
	}
	r->allowed = xcalloc(json_array_size(v), sizeof(*r->allowed));
	for (i = 0; i < json_array_size(v); i++) {
		sub = policy_load_path_index(path, i);
		if (check_allowed_entry(l, sub, v, i) == 0)
			r->allowed[r->nallowed++] =
			    xstrdup(json_string_value(json_array_get(v, i)));
		free(sub);
	}
}

static void
parse_regex(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	struct policy_rule *r = target;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	char buf[80], *tag;
	int code;

	(void)f;
	if (json_is_null(v) || policy_load_expect_string(l, path, v, 1) == -1)
		return;
	r->regex = pcre2_compile((PCRE2_SPTR)json_string_value(v),
	    json_string_length(v), PCRE2_ANCHORED | PCRE2_ENDANCHORED |
	    PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, &code, &off, NULL);
	if (r->regex != NULL) {
		r->regex_src = xstrdup(json_string_value(v));
		return;
	}
	pcre2_get_error_message(code, msg, sizeof(msg));
	tag = r->name != NULL ? policy_quote(r->name) : xstrdup("(unnamed)");
	policy_load_error(l, path, "found %s, expected a valid PCRE2 regex for "
	    "tag %s: error at offset %zu: %s",
	    policy_load_describe(v, buf, sizeof(buf)), tag, (size_t)off,
	    (const char *)msg);
	free(tag);
}

/* [a-z0-9][a-z0-9-]* */
static size_t
type_word(const char *s)
{
	size_t n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
	    (n > 0 && s[n] == '-'))
		n++;
	return n;
}

/* "service:type" or "service:*", lowercase, as "ec2:instance". */
static int
valid_resource_type(const char *s)
{
	size_t n;

	if ((n = type_word(s)) == 0 || s[n] != ':')
		return 0;
	s += n + 1;
	if (strcmp(s, "*") == 0)
		return 1;
	return (n = type_word(s)) > 0 && s[n] == '\0';
}

static void
parse_applies(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	struct policy_rule *r = target;
	json_t *e;
	char *sub;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		policy_load_mismatch(l, path, v, f->expect);
		return;
	}
	r->applies_to = xcalloc(json_array_size(v), sizeof(*r->applies_to));
	json_array_foreach(v, i, e) {
		if (json_is_string(e) &&
		    valid_resource_type(json_string_value(e))) {
			r->applies_to[r->napplies++] =
			    xstrdup(json_string_value(e));
			continue;
		}
		sub = policy_load_path_index(path, i);
		policy_load_mismatch(l, sub, e, "a resource type "
		    "\"service:type\" or \"service:*\" in lowercase, e.g. "
		    "\"ec2:instance\"");
		free(sub);
	}
}

static void
parse_severity(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	static const enum policy_severity severities[] = {
		POLICY_SEVERITY_ERROR, POLICY_SEVERITY_WARNING,
	};
	struct policy_rule *r = target;
	size_t i;

	(void)f;
	for (i = 0; json_is_string(v) && i < POLICY_NITEMS(severities); i++) {
		if (strcmp(json_string_value(v),
		    policy_severity_name(severities[i])) == 0) {
			r->severity = severities[i];
			return;
		}
	}
	policy_load_mismatch(l, path, v, "\"error\" or \"warning\"");
}

/* --- rule objects --- */

static const struct policy_field required_fields[] = {
	{ "name", 1, "a non-empty string", parse_name, 0, 0, 0 },
	{ "description", 0, "", parse_description, 0, 0, 0 },
	{ "allowed_values", 0, "", parse_allowed, 0, 0, 0 },
	{ "validation_regex", 0, "", parse_regex, 0, 0, 0 },
	{ "applies_to", 1, "a non-empty array of resource types such as "
	    "\"ec2:instance\" or \"ec2:*\"", parse_applies, 0, 0, 0 },
	{ "severity", 0, "", parse_severity, 0, 0, 0 },
};

static const struct policy_field optional_fields[] = {
	{ "name", 1, "a non-empty string", parse_name, 0, 0, 0 },
	{ "description", 0, "", parse_description, 0, 0, 0 },
	{ "allowed_values", 0, "", parse_allowed, 0, 0, 0 },
	{ "validation_regex", 0, "", parse_regex, 0, 0, 0 },
};

/* An earlier tag (required or optional) with the same name, by path. */
static char *
duplicate_of(const struct policy *p, const struct policy_rule *r)
{
	size_t i;

	for (i = 0; i < p->nrequired && &p->required[i] != r; i++) {
		if (p->required[i].name != NULL &&
		    policy_names_equal(p, p->required[i].name, r->name))
			return xprintf("required_tags[%zu]", i);
	}
	for (i = 0; i < p->noptional && &p->optional[i] != r; i++) {
		if (p->optional[i].name != NULL &&
		    policy_names_equal(p, p->optional[i].name, r->name))
			return xprintf("optional_tags[%zu]", i);
	}
	return NULL;
}

static void
add_types(struct policy *p, const struct policy_rule *r)
{
	size_t i, j;

	for (i = 0; i < r->napplies; i++) {
		for (j = 0; j < p->ntypes; j++) {
			if (strcmp(p->types[j], r->applies_to[i]) == 0)
				break;
		}
		if (j < p->ntypes)
			continue;
		p->types = xreallocarray(p->types, p->ntypes + 1,
		    sizeof(*p->types));
		p->types[p->ntypes++] = xstrdup(r->applies_to[i]);
	}
}

static void
finish_rule(struct policy_loader *l, const char *path, struct policy_rule *r)
{
	char *dup, *sub, *expect;
	json_t *name;

	add_types(l->p, r);
	if (r->name == NULL || (dup = duplicate_of(l->p, r)) == NULL)
		return;
	sub = policy_load_path_key(path, "name");
	expect = xprintf("a name not already used by %s%s", dup,
	    l->p->case_sensitive ? "" : " (tag names compare ignoring case)");
	name = json_string(r->name);
	policy_load_mismatch(l, sub, name, expect);
	json_decref(name);
	free(dup);
	free(sub);
	free(expect);
}

static void
parse_tags(struct policy_loader *l, const char *path, json_t *v, int required)
{
	struct policy *p = l->p;
	struct policy_rule **rules, *r;
	size_t *n, i;
	json_t *e;
	char *sub;

	rules = required ? &p->required : &p->optional;
	n = required ? &p->nrequired : &p->noptional;
	if (json_array_size(v) == 0)
		return;
	*rules = xcalloc(json_array_size(v), sizeof(**rules));
	json_array_foreach(v, i, e) {
		sub = policy_load_path_index(path, i);
		if (!json_is_object(e)) {
			policy_load_mismatch(l, sub, e, "a tag object");
			free(sub);
			continue;
		}
		r = &(*rules)[(*n)++];
		r->required = required;
		if (required)
			policy_load_fields(l, sub, e, required_fields,
			    POLICY_NITEMS(required_fields), r);
		else
			policy_load_fields(l, sub, e, optional_fields,
			    POLICY_NITEMS(optional_fields), r);
		finish_rule(l, sub, r);
		free(sub);
	}
}

void
policy_rule_required_tags(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	(void)f;
	(void)target;
	if (!json_is_array(v) || json_array_size(v) == 0) {
		policy_load_mismatch(l, path, v, "a non-empty array of tag "
		    "objects (without required tags every resource is out of "
		    "scope)");
		return;
	}
	parse_tags(l, path, v, 1);
}

void
policy_rule_optional_tags(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	(void)f;
	(void)target;
	if (!json_is_array(v)) {
		policy_load_mismatch(l, path, v, "an array of tag objects");
		return;
	}
	parse_tags(l, path, v, 0);
}
