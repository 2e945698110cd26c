/*
 * policy owns the loaded struct policy: its lifetime, the comparisons every
 * part applies alike (names under case_sensitivity, lengths in characters,
 * bounded regex matches), its accessors and its JSON export. Loading and
 * validation are policy-load.c and policy-rule.c; evaluation, policy-eval.c.
 *
 * Decisions (the man page and README should repeat them):
 * - case_sensitivity false folds ASCII letters only, when comparing tag keys
 *   and allowed_values; other letters compare exactly. validation_regex is
 *   always matched as written (a pattern may fold itself with "(?i)").
 * - A present value goes through value_checks[] in order: empty (required
 *   tags only), allowed_values, validation_regex, max_value_length, special
 *   characters. The first failure is the tag's one violation, so when both
 *   allowed_values and validation_regex are given a value must pass both.
 * - Regexes are anchored at both ends by compile flags, so "^...$" is
 *   optional and "$" cannot match before a trailing newline. No JIT: the
 *   interpreter's match and depth limits bound a pathological pattern, and
 *   hitting them is an invalid_format violation, never a hang.
 * - Absent tag_naming_rules keys restrict nothing beyond AWS's own limits:
 *   case_sensitivity false, allow_special_characters true, 128, 256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "awsjson.h"
#include "log.h"
#include "xmalloc.h"
#include "policy.h"
#include "policy-internal.h"
#include "proto.h"

static const char *const violation_type_names[] = {
	[POLICY_MISSING_REQUIRED_TAG] = "missing_required_tag",
	[POLICY_INVALID_VALUE] = "invalid_value",
	[POLICY_INVALID_FORMAT] = "invalid_format",
};

static const char *const severity_names[] = {
	[POLICY_SEVERITY_ERROR] = "error",
	[POLICY_SEVERITY_WARNING] = "warning",
};

/* --- comparisons under the policy's rules --- */

/* A string as a JSON literal, quotes included, safe to embed anywhere. */
char *
policy_quote(const char *s)
{
	json_t *j;
	char *q;

	if ((j = json_string(s)) == NULL)
		return xstrdup("\"(invalid UTF-8)\"");
	q = json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	json_decref(j);
	if (q == NULL)
		fatalx("%s: out of memory", __func__);
	return q;
}

static int
ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Tag names and allowed values: exact, or ASCII-folded without case. */
int
policy_names_equal(const struct policy *p, const char *a, const char *b)
{
	if (p->case_sensitive)
		return strcmp(a, b) == 0;
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		if (ascii_lower((unsigned char)*a) !=
		    ascii_lower((unsigned char)*b))
			return 0;
	}
	return *a == *b;
}

/* Characters, not bytes: AWS counts tag lengths in Unicode characters. */
size_t
policy_utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* Bounded by the policy's match context: a runaway pattern is an error. */
int
policy_match(const struct policy *p, const pcre2_code *re, const char *s,
    pcre2_match_data *md)
{
	return pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, p->mctx);
}

/* --- lifetime --- */

/* Empty, with the defaults of absent tag_naming_rules keys. */
struct policy *
policy_new(void)
{
	struct policy *p;

	p = xcalloc(1, sizeof(*p));
	if ((p->meta = json_object()) == NULL ||
	    (p->mctx = pcre2_match_context_create(NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	p->allow_special = 1;
	p->max_key_length = 128;
	p->max_value_length = 256;
	pcre2_set_match_limit(p->mctx, POLICY_MATCH_LIMIT);
	pcre2_set_depth_limit(p->mctx, POLICY_DEPTH_LIMIT);
	return p;
}

void
policy_strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
rule_free(struct policy_rule *r)
{
	free(r->name);
	free(r->description);
	policy_strings_free(r->allowed, r->nallowed);
	free(r->regex_src);
	pcre2_code_free(r->regex);
	policy_strings_free(r->applies_to, r->napplies);
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrequired; i++)
		rule_free(&p->required[i]);
	for (i = 0; i < p->noptional; i++)
		rule_free(&p->optional[i]);
	free(p->required);
	free(p->optional);
	policy_strings_free(p->types, p->ntypes);
	pcre2_code_free(p->charset);
	pcre2_match_context_free(p->mctx);
	json_decref(p->meta);
	free(p->path);
	free(p);
}

/* --- names and the loaded rules, for get_tagging_policy --- */

const char *
policy_violation_type_name(enum policy_violation_type type)
{
	return violation_type_names[type];
}

const char *
policy_severity_name(enum policy_severity severity)
{
	return severity_names[severity];
}

static json_t *
strings_json(char *const *v, size_t n)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		fatalx("%s: out of memory", __func__);
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
string_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/*
 * NULL only when current_value is not valid UTF-8 (jansson refuses it).
 * Built value by value, not with json_pack: the worker makes one per
 * violation, and the format parsing cost more than the row.
 */
json_t *
policy_violation_row(const struct policy_violation *v)
{
	json_t *val[PROTO_VIOL_NFIELDS];

	val[PROTO_VIOL_TAG_NAME] = json_string(v->tag_name);
	val[PROTO_VIOL_TYPE] = json_string(
	    violation_type_names[v->violation_type]);
	val[PROTO_VIOL_SEVERITY] = json_string(severity_names[v->severity]);
	val[PROTO_VIOL_CURRENT_VALUE] = string_or_null(v->current_value);
	val[PROTO_VIOL_ALLOWED_VALUES] = v->allowed_values != NULL ?
	    strings_json(v->allowed_values, v->nallowed_values) : json_null();
	val[PROTO_VIOL_MESSAGE] = json_string(v->message);
	return awsjson_row(val, PROTO_VIOL_NFIELDS);
}

static json_t *
rule_json(const struct policy_rule *r)
{
	json_t *o;

	o = json_pack("{s:s, s:s?, s:o?, s:s?}",
	    "name", r->name,
	    "description", r->description,
	    "allowed_values", r->allowed != NULL ?
	    strings_json(r->allowed, r->nallowed) : NULL,
	    "validation_regex", r->regex_src);
	if (o == NULL)
		fatalx("%s: json_pack failed", __func__);
	if (r->required) {
		json_object_set_new(o, "applies_to",
		    strings_json(r->applies_to, r->napplies));
		json_object_set_new(o, "severity",
		    json_string(severity_names[r->severity]));
	}
	return o;
}

/* A new reference: metadata as given, tags and rules with defaults filled. */
json_t *
policy_json(const struct policy *p)
{
	json_t *o, *req, *opt;
	size_t i;

	if ((o = json_deep_copy(p->meta)) == NULL ||
	    (req = json_array()) == NULL || (opt = json_array()) == NULL)
		fatalx("%s: out of memory", __func__);
	for (i = 0; i < p->nrequired; i++)
		json_array_append_new(req, rule_json(&p->required[i]));
	for (i = 0; i < p->noptional; i++)
		json_array_append_new(opt, rule_json(&p->optional[i]));
	json_object_set_new(o, "required_tags", req);
	json_object_set_new(o, "optional_tags", opt);
	json_object_set_new(o, "tag_naming_rules", json_pack(
	    "{s:b, s:b, s:I, s:I}",
	    "case_sensitivity", p->case_sensitive,
	    "allow_special_characters", p->allow_special,
	    "max_key_length", p->max_key_length,
	    "max_value_length", p->max_value_length));
	return o;
}

/* Lowercase hex SHA-256 of the policy file's bytes. */
const char *
policy_hash(const struct policy *p)
{
	return p->hash;
}

/* The path given to policy_load; NULL after policy_load_buffer. */
const char *
policy_path(const struct policy *p)
{
	return p->path;
}

/* Distinct applies_to entries in file order, wildcards as written. */
size_t
policy_resource_types(const struct policy *p, const char *const **types)
{
	*types = (const char *const *)p->types;
	return p->ntypes;
}

size_t
policy_required_count(const struct policy *p)
{
	return p->nrequired;
}

size_t
policy_optional_count(const struct policy *p)
{
	return p->noptional;
}
