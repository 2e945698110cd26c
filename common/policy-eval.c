/*
 * policy-eval evaluates one resource's tags against a loaded policy: which
 * rules apply to its type, each tag's value through value_checks[] in
 * order, and the violations found. Pure: no I/O, no global state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "xmalloc.h"
#include "policy.h"
#include "policy-internal.h"

/* "ec2:*" matches "ec2:<anything>"; anything else matches exactly. */
static int
pattern_matches(const char *pattern, const char *rtype)
{
	size_t n = strlen(pattern);

	if (n >= 2 && strcmp(pattern + n - 2, ":*") == 0)
		return strncmp(pattern, rtype, n - 1) == 0 &&
		    rtype[n - 1] != '\0';
	return strcmp(pattern, rtype) == 0;
}

static int
rule_applies(const struct policy_rule *r, const char *rtype)
{
	size_t i;

	for (i = 0; i < r->napplies; i++) {
		if (pattern_matches(r->applies_to[i], rtype))
			return 1;
	}
	return 0;
}

int
policy_applies(const struct policy *p, const char *rtype)
{
	size_t i;

	for (i = 0; rtype != NULL && i < p->nrequired; i++) {
		if (rule_applies(&p->required[i], rtype))
			return 1;
	}
	return 0;
}

/*
 * An exact key wins; without case sensitivity the first key equal but for
 * ASCII case is next, in the resource's order (AWS keys are case-sensitive,
 * so "owner" and "Owner" can both be there).
 */
static const struct policy_tag *
find_tag(const struct policy *p, const char *name,
    const struct policy_tag *tags, size_t ntags)
{
	size_t i;

	for (i = 0; i < ntags; i++) {
		if (tags[i].key != NULL && strcmp(tags[i].key, name) == 0)
			return &tags[i];
	}
	for (i = 0; !p->case_sensitive && i < ntags; i++) {
		if (tags[i].key != NULL &&
		    policy_names_equal(p, tags[i].key, name))
			return &tags[i];
	}
	return NULL;
}

/* Why a match that did not simply fail to match could not decide. */
static void
match_error(int rc, char *why, size_t len)
{
	PCRE2_UCHAR msg[256];

	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT) {
		snprintf(why, len, "could not be checked: validation_regex "
		    "exceeded the PCRE2 match limit (simplify the pattern)");
		return;
	}
	if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21) {
		snprintf(why, len, "is not valid UTF-8");
		return;
	}
	pcre2_get_error_message(rc, msg, sizeof(msg));
	snprintf(why, len, "could not be checked: %s", (const char *)msg);
}

static int
check_empty(const struct policy *p, const struct policy_rule *r,
    const char *value, pcre2_match_data *md, char *why, size_t len)
{
	(void)p;
	(void)md;
	if (!r->required || *value != '\0')
		return 0;
	snprintf(why, len, "is empty");
	return 1;
}

static int
check_allowed(const struct policy *p, const struct policy_rule *r,
    const char *value, pcre2_match_data *md, char *why, size_t len)
{
	size_t i;

	(void)md;
	if (r->allowed == NULL)
		return 0;
	for (i = 0; i < r->nallowed; i++) {
		if (policy_names_equal(p, r->allowed[i], value))
			return 0;
	}
	snprintf(why, len, "not in allowed_values");
	return 1;
}

static int
check_regex(const struct policy *p, const struct policy_rule *r,
    const char *value, pcre2_match_data *md, char *why, size_t len)
{
	int rc;

	if (r->regex == NULL ||
	    (rc = policy_match(p, r->regex, value, md)) >= 0)
		return 0;
	if (rc == PCRE2_ERROR_NOMATCH)
		snprintf(why, len, "does not match validation_regex");
	else
		match_error(rc, why, len);
	return 1;
}

static int
check_length(const struct policy *p, const struct policy_rule *r,
    const char *value, pcre2_match_data *md, char *why, size_t len)
{
	(void)r;
	(void)md;
	if ((json_int_t)policy_utf8_length(value) <= p->max_value_length)
		return 0;
	snprintf(why, len, "is longer than max_value_length (%lld "
	    "characters)", (long long)p->max_value_length);
	return 1;
}

/*
 * ASCII text that the charset pattern accepts: ASCII letters are \p{L},
 * digits \p{N}, the space is the one ASCII \p{Zs}, plus _ . : / = + - @.
 * Nearly every tag value is such text, and this spares it a PCRE2 match
 * (the worker's costliest policy step); anything else goes to the pattern.
 */
static int
charset_ascii_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(" _.:/=+-@", *s) != NULL)
			continue;
		return 0;
	}
	return 1;
}

static int
check_charset(const struct policy *p, const struct policy_rule *r,
    const char *value, pcre2_match_data *md, char *why, size_t len)
{
	int rc;

	(void)r;
	if (p->charset == NULL || charset_ascii_ok(value) ||
	    (rc = policy_match(p, p->charset, value, md)) >= 0)
		return 0;
	if (rc == PCRE2_ERROR_NOMATCH)
		snprintf(why, len, "has characters other than "
		    POLICY_CHARSET_TEXT " (allow_special_characters is false)");
	else
		match_error(rc, why, len);
	return 1;
}

/* In order; the first failing row is the tag's one violation. */
static const struct value_check {
	enum policy_violation_type	 type;
	int				(*fails)(const struct policy *,
					    const struct policy_rule *,
					    const char *, pcre2_match_data *,
					    char *, size_t);
} value_checks[] = {
	{ POLICY_INVALID_VALUE, check_empty },
	{ POLICY_INVALID_VALUE, check_allowed },
	{ POLICY_INVALID_FORMAT, check_regex },
	{ POLICY_INVALID_FORMAT, check_length },
	{ POLICY_INVALID_FORMAT, check_charset },
};

static char **
strings_copy(char *const *v, size_t n)
{
	char **copy;
	size_t i;

	copy = xcalloc(n, sizeof(*copy));
	for (i = 0; i < n; i++)
		copy[i] = xstrdup(v[i]);
	return copy;
}

/* The value goes into current_value only; the message names the tag. */
static void
add_violation(struct policy_violations *out, const struct policy_rule *r,
    enum policy_violation_type type, const char *value, const char *why)
{
	struct policy_violation *v;
	char *q;

	out->v = xreallocarray(out->v, out->count + 1, sizeof(*out->v));
	v = &out->v[out->count++];
	memset(v, 0, sizeof(*v));
	v->tag_name = xstrdup(r->name);
	v->violation_type = type;
	v->severity = r->required ? r->severity : POLICY_SEVERITY_WARNING;
	v->current_value = value != NULL ? xstrdup(value) : NULL;
	if (r->allowed != NULL) {
		v->allowed_values = strings_copy(r->allowed, r->nallowed);
		v->nallowed_values = r->nallowed;
	}
	q = policy_quote(r->name);
	if (value == NULL)
		v->message = xprintf("required tag %s is missing", q);
	else
		v->message = xprintf("tag %s value %s", q, why);
	free(q);
}

/* The first value check the value fails, with why, or NULL. */
static const struct value_check *
failed_check(const struct policy *p, const struct policy_rule *r,
    const char *value, pcre2_match_data *md, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < POLICY_NITEMS(value_checks); i++)
		if (value_checks[i].fails(p, r, value, md, why, len))
			return &value_checks[i];
	return NULL;
}

static void
eval_rule(const struct policy *p, const struct policy_rule *r,
    const struct policy_tag *tags, size_t ntags, pcre2_match_data *md,
    struct policy_violations *out)
{
	const struct value_check *failed;
	const struct policy_tag *t;
	const char *value;
	char why[256];

	if ((t = find_tag(p, r->name, tags, ntags)) == NULL) {
		if (r->required)
			add_violation(out, r, POLICY_MISSING_REQUIRED_TAG,
			    NULL, NULL);
		return;
	}
	value = t->value != NULL ? t->value : "";
	if ((failed = failed_check(p, r, value, md, why, sizeof(why))) != NULL)
		add_violation(out, r, failed->type, value, why);
}

const char *
policy_required_name(const struct policy *p, size_t i, int *is_error)
{
	*is_error = p->required[i].severity == POLICY_SEVERITY_ERROR;
	return p->required[i].name;
}

int
policy_value_rejected(const struct policy *p, const char *key,
    const char *value)
{
	const struct policy_rule *r = NULL;
	pcre2_match_data *md;
	char why[256];
	size_t i;
	int rejected;

	for (i = 0; r == NULL && i < p->nrequired; i++)
		if (policy_names_equal(p, p->required[i].name, key))
			r = &p->required[i];
	if (r == NULL)
		return -1;
	if ((md = pcre2_match_data_create(1, NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	rejected = failed_check(p, r, value, md, why, sizeof(why)) != NULL;
	pcre2_match_data_free(md);
	return rejected;
}

/*
 * Optional tags are checked only on resources in scope, with warning
 * severity. *out is overwritten: free an earlier result first.
 */
enum policy_verdict
policy_evaluate(const struct policy *p, const char *rtype,
    const struct policy_tag *tags, size_t ntags,
    struct policy_violations *out)
{
	enum policy_verdict verdict = POLICY_COMPLIANT;
	pcre2_match_data *md;
	size_t i;

	out->v = NULL;
	out->count = 0;
	if (!policy_applies(p, rtype))
		return POLICY_OUT_OF_SCOPE;
	if ((md = pcre2_match_data_create(1, NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	for (i = 0; i < p->nrequired; i++) {
		if (rule_applies(&p->required[i], rtype))
			eval_rule(p, &p->required[i], tags, ntags, md, out);
	}
	for (i = 0; i < p->noptional; i++)
		eval_rule(p, &p->optional[i], tags, ntags, md, out);
	pcre2_match_data_free(md);
	for (i = 0; i < out->count; i++) {
		if (out->v[i].severity == POLICY_SEVERITY_ERROR)
			verdict = POLICY_NONCOMPLIANT;
	}
	return verdict;
}

void
policy_violations_free(struct policy_violations *out)
{
	struct policy_violation *v;
	size_t i;

	if (out == NULL)
		return;
	for (i = 0; i < out->count; i++) {
		v = &out->v[i];
		free(v->tag_name);
		free(v->current_value);
		policy_strings_free(v->allowed_values, v->nallowed_values);
		free(v->message);
	}
	free(out->v);
	out->v = NULL;
	out->count = 0;
}
