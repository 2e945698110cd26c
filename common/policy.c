/*
 * policy: load and validate the tagging policy file, and evaluate a
 * resource's tags against it. Loading reports every bad field by its JSON
 * path; evaluation is pure and reads only the loaded struct policy.
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
#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <pcre2.h>

#include "log.h"
#include "xmalloc.h"
#include "policy.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* AWS's documented tag character set, used when special characters are off. */
#define CHARSET_PATTERN	"[\\p{L}\\p{N}\\p{Zs}_.:/=+\\-@]*"
#define CHARSET_TEXT	"letters, digits, spaces and _ . : / = + - @"

struct policy_rule {
	char			*name;
	char			*description;
	char			**allowed;	/* NULL: any value */
	size_t			 nallowed;
	char			*regex_src;
	pcre2_code		*regex;
	char			**applies_to;	/* required tags only */
	size_t			 napplies;
	enum policy_severity	 severity;
	int			 required;
};

struct policy {
	char			*path;
	char			 hash[2 * EVP_MAX_MD_SIZE + 1];
	json_t			*meta;	/* version, last_updated, ... as given */
	struct policy_rule	*required;
	size_t			 nrequired;
	struct policy_rule	*optional;
	size_t			 noptional;
	int			 case_sensitive;
	int			 allow_special;
	json_int_t		 max_key_length;
	json_int_t		 max_value_length;
	pcre2_code		*charset;	/* NULL when allow_special */
	pcre2_match_context	*mctx;
	char			**types;	/* distinct applies_to entries */
	size_t			 ntypes;
};

struct loader {
	struct policy		*p;
	struct policy_errors	*errs;
	size_t			 nerrors;
};

/* One key of a JSON object: how to parse it and what a missing one needs. */
struct field {
	const char	*key;
	int		 required;
	const char	*expect;
	void		(*parse)(struct loader *, const struct field *,
			    const char *, json_t *, void *);
	size_t		 off;		/* parse_bool/parse_int target */
	json_int_t	 min, max;	/* parse_int range */
};

static const char *const violation_type_names[] = {
	[POLICY_MISSING_REQUIRED_TAG] = "missing_required_tag",
	[POLICY_INVALID_VALUE] = "invalid_value",
	[POLICY_INVALID_FORMAT] = "invalid_format",
};

static const char *const severity_names[] = {
	[POLICY_SEVERITY_ERROR] = "error",
	[POLICY_SEVERITY_WARNING] = "warning",
};

static void	load_error(struct loader *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* --- error lines --- */

static void
errors_add(struct policy_errors *errs, const char *line)
{
	errs->lines = xreallocarray(errs->lines, errs->count + 1,
	    sizeof(*errs->lines));
	errs->lines[errs->count++] = xstrdup(line);
}

void
policy_errors_free(struct policy_errors *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->count; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->count = 0;
}

/* "path: text", or "text" alone for whole-file problems (path NULL). */
static void
load_error(struct loader *l, const char *path, const char *fmt, ...)
{
	char text[768], line[1024];
	va_list ap;

	l->nerrors++;
	if (l->errs == NULL || l->nerrors > POLICY_MAX_ERRORS + 1)
		return;
	if (l->nerrors == POLICY_MAX_ERRORS + 1) {
		snprintf(line, sizeof(line), "more than %d errors; stopped "
		    "listing them", POLICY_MAX_ERRORS);
		errors_add(l->errs, line);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (path != NULL)
		snprintf(line, sizeof(line), "%s: %s", path, text);
	else
		snprintf(line, sizeof(line), "%s", text);
	errors_add(l->errs, line);
}

/* A JSON value as shown after "found": scalars as JSON, ASCII-only. */
static const char *
describe(const json_t *v, char *buf, size_t len)
{
	char *s;

	if (json_is_object(v))
		return json_object_size(v) == 0 ? "{}" : "an object";
	if (json_is_array(v))
		return json_array_size(v) == 0 ? "[]" : "an array";
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	if (s == NULL)
		fatalx("%s: out of memory", __func__);
	if (strlen(s) > 64)
		snprintf(buf, len, "%.60s...", s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
	return buf;
}

static void
mismatch(struct loader *l, const char *path, const json_t *found,
    const char *expected)
{
	char buf[80];

	load_error(l, path, "found %s, expected %s",
	    describe(found, buf, sizeof(buf)), expected);
}

/* A string as a JSON literal, quotes included, safe to embed anywhere. */
static char *
quote(const char *s)
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

/* --- JSON paths --- */

static int
is_identifier(const char *s)
{
	const char *c;

	if (*s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (c = s; *c != '\0'; c++) {
		if (!(*c == '_' || (*c >= 'a' && *c <= 'z') ||
		    (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return 0;
	}
	return 1;
}

/* parent.key, or parent["odd key"] when the key is not an identifier. */
static char *
path_key(const char *parent, const char *key)
{
	char *q, *path;

	if (is_identifier(key)) {
		if (*parent == '\0')
			return xstrdup(key);
		return xprintf("%s.%s", parent, key);
	}
	q = quote(key);
	path = xprintf("%s[%s]", parent, q);
	free(q);
	return path;
}

static char *
path_index(const char *parent, size_t i)
{
	return xprintf("%s[%zu]", parent, i);
}

/* --- small comparisons --- */

static int
ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int
names_equal(const struct policy *p, const char *a, const char *b)
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
static size_t
utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

static int
match(const struct policy *p, const pcre2_code *re, const char *s,
    pcre2_match_data *md)
{
	return pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, p->mctx);
}

/* --- field parsers --- */

static int
expect_string(struct loader *l, const char *path, json_t *v, int nonempty)
{
	if (json_is_string(v) && (!nonempty || json_string_length(v) > 0))
		return 0;
	mismatch(l, path, v, nonempty ? "a non-empty string" : "a string");
	return -1;
}

static void
parse_bool(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	if (!json_is_boolean(v)) {
		mismatch(l, path, v, "true or false");
		return;
	}
	*(int *)((char *)target + f->off) = json_is_true(v);
}

static void
parse_int(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	char expect[64];

	if (!json_is_integer(v) || json_integer_value(v) < f->min ||
	    json_integer_value(v) > f->max) {
		snprintf(expect, sizeof(expect), "an integer %lld..%lld",
		    (long long)f->min, (long long)f->max);
		mismatch(l, path, v, expect);
		return;
	}
	*(json_int_t *)((char *)target + f->off) = json_integer_value(v);
}

static void
parse_meta_string(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy *p = target;

	if (expect_string(l, path, v, 0) == 0)
		json_object_set(p->meta, f->key, v);
}

static void
parse_meta_object(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy *p = target;

	if (!json_is_object(v)) {
		mismatch(l, path, v, "an object");
		return;
	}
	json_object_set(p->meta, f->key, v);
}

/*
 * Name, allowed value: within max length and, when special characters are
 * off, within AWS's character set. kind is "max_key_length" or
 * "max_value_length".
 */
static int
check_text(struct loader *l, const char *path, json_t *v, json_int_t max,
    const char *kind)
{
	struct policy *p = l->p;
	pcre2_match_data *md;
	char expect[160];
	int rc;

	if ((json_int_t)utf8_length(json_string_value(v)) > max) {
		snprintf(expect, sizeof(expect), "at most %lld characters "
		    "(tag_naming_rules.%s)", (long long)max, kind);
		mismatch(l, path, v, expect);
		return -1;
	}
	if (p->charset == NULL)
		return 0;
	if ((md = pcre2_match_data_create(1, NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	rc = match(p, p->charset, json_string_value(v), md);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return 0;
	mismatch(l, path, v, CHARSET_TEXT " only "
	    "(tag_naming_rules.allow_special_characters is false)");
	return -1;
}

static void
parse_description(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy_rule *r = target;

	(void)f;
	if (json_is_null(v))
		return;
	if (expect_string(l, path, v, 0) == 0)
		r->description = xstrdup(json_string_value(v));
}

static void
parse_name(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy_rule *r = target;

	(void)f;
	if (expect_string(l, path, v, 1) == -1 ||
	    check_text(l, path, v, l->p->max_key_length, "max_key_length") == -1)
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
		    names_equal(p, json_string_value(e), s))
			return (ssize_t)j;
	}
	return -1;
}

static int
check_allowed_entry(struct loader *l, const char *path, json_t *list,
    size_t i)
{
	json_t *e = json_array_get(list, i);
	char expect[96];
	ssize_t dup;

	if (expect_string(l, path, e, 1) == -1 ||
	    check_text(l, path, e, l->p->max_value_length,
	    "max_value_length") == -1)
		return -1;
	if ((dup = allowed_duplicate(l->p, list, i)) == -1)
		return 0;
	snprintf(expect, sizeof(expect), "a value not already listed at "
	    "allowed_values[%zd]%s", dup, l->p->case_sensitive ? "" :
	    " (compared ignoring case)");
	mismatch(l, path, e, expect);
	return -1;
}

static void
parse_allowed(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy_rule *r = target;
	char *sub;
	size_t i;

	(void)f;
	if (json_is_null(v))
		return;
	if (!json_is_array(v) || json_array_size(v) == 0) {
		mismatch(l, path, v, "null or a non-empty array of strings");
		return;
	}
	r->allowed = xcalloc(json_array_size(v), sizeof(*r->allowed));
	for (i = 0; i < json_array_size(v); i++) {
		sub = path_index(path, i);
		if (check_allowed_entry(l, sub, v, i) == 0)
			r->allowed[r->nallowed++] =
			    xstrdup(json_string_value(json_array_get(v, i)));
		free(sub);
	}
}

static void
parse_regex(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy_rule *r = target;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	char buf[80], *tag;
	int code;

	(void)f;
	if (json_is_null(v) || expect_string(l, path, v, 1) == -1)
		return;
	r->regex = pcre2_compile((PCRE2_SPTR)json_string_value(v),
	    json_string_length(v), PCRE2_ANCHORED | PCRE2_ENDANCHORED |
	    PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, &code, &off, NULL);
	if (r->regex != NULL) {
		r->regex_src = xstrdup(json_string_value(v));
		return;
	}
	pcre2_get_error_message(code, msg, sizeof(msg));
	tag = r->name != NULL ? quote(r->name) : xstrdup("(unnamed)");
	load_error(l, path, "found %s, expected a valid PCRE2 regex for tag "
	    "%s: error at offset %zu: %s", describe(v, buf, sizeof(buf)), tag,
	    (size_t)off, (const char *)msg);
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
parse_applies(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy_rule *r = target;
	json_t *e;
	char *sub;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		mismatch(l, path, v, f->expect);
		return;
	}
	r->applies_to = xcalloc(json_array_size(v), sizeof(*r->applies_to));
	json_array_foreach(v, i, e) {
		if (json_is_string(e) && valid_resource_type(json_string_value(e))) {
			r->applies_to[r->napplies++] =
			    xstrdup(json_string_value(e));
			continue;
		}
		sub = path_index(path, i);
		mismatch(l, sub, e, "a resource type \"service:type\" or "
		    "\"service:*\" in lowercase, e.g. \"ec2:instance\"");
		free(sub);
	}
}

static void
parse_severity(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy_rule *r = target;
	size_t i;

	(void)f;
	for (i = 0; json_is_string(v) && i < nitems(severity_names); i++) {
		if (strcmp(json_string_value(v), severity_names[i]) == 0) {
			r->severity = (enum policy_severity)i;
			return;
		}
	}
	mismatch(l, path, v, "\"error\" or \"warning\"");
}

/* --- objects --- */

static const struct field required_fields[] = {
	{ "name", 1, "a non-empty string", parse_name, 0, 0, 0 },
	{ "description", 0, "", parse_description, 0, 0, 0 },
	{ "allowed_values", 0, "", parse_allowed, 0, 0, 0 },
	{ "validation_regex", 0, "", parse_regex, 0, 0, 0 },
	{ "applies_to", 1, "a non-empty array of resource types such as "
	    "\"ec2:instance\" or \"ec2:*\"", parse_applies, 0, 0, 0 },
	{ "severity", 0, "", parse_severity, 0, 0, 0 },
};

static const struct field optional_fields[] = {
	{ "name", 1, "a non-empty string", parse_name, 0, 0, 0 },
	{ "description", 0, "", parse_description, 0, 0, 0 },
	{ "allowed_values", 0, "", parse_allowed, 0, 0, 0 },
	{ "validation_regex", 0, "", parse_regex, 0, 0, 0 },
};

static const struct field naming_fields[] = {
	{ "case_sensitivity", 0, "", parse_bool,
	    offsetof(struct policy, case_sensitive), 0, 0 },
	{ "allow_special_characters", 0, "", parse_bool,
	    offsetof(struct policy, allow_special), 0, 0 },
	{ "max_key_length", 0, "", parse_int,
	    offsetof(struct policy, max_key_length), 1, 128 },
	{ "max_value_length", 0, "", parse_int,
	    offsetof(struct policy, max_value_length), 1, 256 },
};

static void
unknown_key(struct loader *l, const char *path, const struct field *f,
    size_t nf)
{
	char keys[512];
	size_t i, n = 0;

	keys[0] = '\0';
	for (i = 0; i < nf && n < sizeof(keys); i++)
		n += (size_t)snprintf(keys + n, sizeof(keys) - n, "%s%s",
		    i > 0 ? ", " : "", f[i].key);
	load_error(l, path, "unknown key, expected one of: %s", keys);
}

static const struct field *
find_field(const struct field *f, size_t nf, const char *key)
{
	size_t i;

	for (i = 0; i < nf; i++) {
		if (strcmp(f[i].key, key) == 0)
			return &f[i];
	}
	return NULL;
}

/*
 * Unknown keys first, then the known ones in table order (not file order),
 * so that tag_naming_rules is in force before any tag name is checked.
 */
static void
parse_fields(struct loader *l, const char *path, json_t *obj,
    const struct field *f, size_t nf, void *target)
{
	const char *key;
	json_t *v;
	char *sub;
	size_t i;

	json_object_foreach(obj, key, v) {
		if (find_field(f, nf, key) != NULL)
			continue;
		sub = path_key(path, key);
		unknown_key(l, sub, f, nf);
		free(sub);
	}
	for (i = 0; i < nf; i++) {
		sub = path_key(path, f[i].key);
		if ((v = json_object_get(obj, f[i].key)) != NULL)
			f[i].parse(l, &f[i], sub, v, target);
		else if (f[i].required)
			load_error(l, sub, "missing, expected %s",
			    f[i].expect);
		free(sub);
	}
}

static void
parse_naming(struct loader *l, const struct field *f, const char *path,
    json_t *v, void *target)
{
	struct policy *p = target;
	PCRE2_SIZE off;
	int code;

	(void)f;
	if (!json_is_object(v)) {
		mismatch(l, path, v, "an object");
		return;
	}
	parse_fields(l, path, v, naming_fields, nitems(naming_fields), p);
	if (p->allow_special)
		return;
	p->charset = pcre2_compile((PCRE2_SPTR)CHARSET_PATTERN,
	    PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_ENDANCHORED |
	    PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
	if (p->charset == NULL)
		fatalx("%s: built-in pattern does not compile (%d)", __func__,
		    code);
}

/* An earlier tag (required or optional) with the same name, by path. */
static char *
duplicate_of(const struct policy *p, const struct policy_rule *r)
{
	size_t i;

	for (i = 0; i < p->nrequired && &p->required[i] != r; i++) {
		if (p->required[i].name != NULL &&
		    names_equal(p, p->required[i].name, r->name))
			return xprintf("required_tags[%zu]", i);
	}
	for (i = 0; i < p->noptional && &p->optional[i] != r; i++) {
		if (p->optional[i].name != NULL &&
		    names_equal(p, p->optional[i].name, r->name))
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
finish_rule(struct loader *l, const char *path, struct policy_rule *r)
{
	char *dup, *sub, *expect;
	json_t *name;

	add_types(l->p, r);
	if (r->name == NULL || (dup = duplicate_of(l->p, r)) == NULL)
		return;
	sub = path_key(path, "name");
	expect = xprintf("a name not already used by %s%s", dup,
	    l->p->case_sensitive ? "" : " (tag names compare ignoring case)");
	name = json_string(r->name);
	mismatch(l, sub, name, expect);
	json_decref(name);
	free(dup);
	free(sub);
	free(expect);
}

static void
parse_tags(struct loader *l, const char *path, json_t *v, int required)
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
		sub = path_index(path, i);
		if (!json_is_object(e)) {
			mismatch(l, sub, e, "a tag object");
			free(sub);
			continue;
		}
		r = &(*rules)[(*n)++];
		r->required = required;
		if (required)
			parse_fields(l, sub, e, required_fields,
			    nitems(required_fields), r);
		else
			parse_fields(l, sub, e, optional_fields,
			    nitems(optional_fields), r);
		finish_rule(l, sub, r);
		free(sub);
	}
}

static void
parse_required_tags(struct loader *l, const struct field *f,
    const char *path, json_t *v, void *target)
{
	(void)f;
	(void)target;
	if (!json_is_array(v) || json_array_size(v) == 0) {
		mismatch(l, path, v, "a non-empty array of tag objects "
		    "(without required tags every resource is out of scope)");
		return;
	}
	parse_tags(l, path, v, 1);
}

static void
parse_optional_tags(struct loader *l, const struct field *f,
    const char *path, json_t *v, void *target)
{
	(void)f;
	(void)target;
	if (!json_is_array(v)) {
		mismatch(l, path, v, "an array of tag objects");
		return;
	}
	parse_tags(l, path, v, 0);
}

static const struct field root_fields[] = {
	{ "tag_naming_rules", 0, "", parse_naming, 0, 0, 0 },
	{ "version", 0, "", parse_meta_string, 0, 0, 0 },
	{ "last_updated", 0, "", parse_meta_string, 0, 0, 0 },
	{ "cloud_provider", 0, "", parse_meta_string, 0, 0, 0 },
	{ "metadata", 0, "", parse_meta_object, 0, 0, 0 },
	{ "required_tags", 1, "a non-empty array of tag objects",
	    parse_required_tags, 0, 0, 0 },
	{ "optional_tags", 0, "", parse_optional_tags, 0, 0, 0 },
};

/* --- load --- */

static struct policy *
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

static void
strings_free(char **v, size_t n)
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
	strings_free(r->allowed, r->nallowed);
	free(r->regex_src);
	pcre2_code_free(r->regex);
	strings_free(r->applies_to, r->napplies);
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
	strings_free(p->types, p->ntypes);
	pcre2_code_free(p->charset);
	pcre2_match_context_free(p->mctx);
	json_decref(p->meta);
	free(p->path);
	free(p);
}

static void
hash_hex(const void *buf, size_t len, char *hex, size_t hexlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;

	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		fatalx("%s: EVP_Digest(SHA-256) failed", __func__);
	for (i = 0; i < mdlen && 2 * i + 2 < hexlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int
load_bytes(const char *buf, size_t len, const char *path,
    struct policy **pp, struct policy_errors *errs)
{
	struct loader l = { NULL, errs, 0 };
	json_error_t jerr;
	json_t *root;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		load_error(&l, NULL, "invalid JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return -1;
	}
	l.p = policy_new();
	if (json_is_object(root))
		parse_fields(&l, "", root, root_fields, nitems(root_fields),
		    l.p);
	else
		mismatch(&l, "top level", root, "an object");
	json_decref(root);
	if (l.nerrors > 0) {
		policy_free(l.p);
		return -1;
	}
	hash_hex(buf, len, l.p->hash, sizeof(l.p->hash));
	if (path != NULL)
		l.p->path = xstrdup(path);
	*pp = l.p;
	return 0;
}

/* Up to POLICY_MAX_FILE + 1 bytes, so that "too large" can be told. */
static ssize_t
read_all(int fd, char *buf)
{
	size_t len = 0;
	ssize_t n;

	while (len <= POLICY_MAX_FILE) {
		n = read(fd, buf + len, POLICY_MAX_FILE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* The whole file, at most POLICY_MAX_FILE bytes; NULL after an error. */
static char *
read_file(struct loader *l, const char *path, size_t *lenp)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		load_error(l, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		load_error(l, NULL, "not a regular file");
		close(fd);
		return NULL;
	}
	buf = xmalloc(POLICY_MAX_FILE + 1);
	if ((n = read_all(fd, buf)) == -1)
		load_error(l, NULL, "cannot read: %s", strerror(errno));
	else if (n > POLICY_MAX_FILE)
		load_error(l, NULL, "larger than %d bytes, expected a policy "
		    "file", POLICY_MAX_FILE);
	close(fd);
	if (n == -1 || n > POLICY_MAX_FILE) {
		free(buf);
		return NULL;
	}
	*lenp = (size_t)n;
	return buf;
}

int
policy_load(const char *path, struct policy **pp, struct policy_errors *errs)
{
	struct loader l = { NULL, errs, 0 };
	size_t len;
	char *buf;
	int rc;

	*pp = NULL;
	policy_errors_free(errs);
	if ((buf = read_file(&l, path, &len)) == NULL)
		return -1;
	rc = load_bytes(buf, len, path, pp, errs);
	free(buf);
	return rc;
}

int
policy_load_buffer(const char *buf, size_t len, struct policy **pp,
    struct policy_errors *errs)
{
	*pp = NULL;
	policy_errors_free(errs);
	return load_bytes(buf, len, NULL, pp, errs);
}

/* --- evaluation --- */

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
		if (tags[i].key != NULL && names_equal(p, tags[i].key, name))
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
		if (names_equal(p, r->allowed[i], value))
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

	if (r->regex == NULL || (rc = match(p, r->regex, value, md)) >= 0)
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
	if ((json_int_t)utf8_length(value) <= p->max_value_length)
		return 0;
	snprintf(why, len, "is longer than max_value_length (%lld "
	    "characters)", (long long)p->max_value_length);
	return 1;
}

static int
check_charset(const struct policy *p, const struct policy_rule *r,
    const char *value, pcre2_match_data *md, char *why, size_t len)
{
	int rc;

	(void)r;
	if (p->charset == NULL || (rc = match(p, p->charset, value, md)) >= 0)
		return 0;
	if (rc == PCRE2_ERROR_NOMATCH)
		snprintf(why, len, "has characters other than " CHARSET_TEXT
		    " (allow_special_characters is false)");
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
	q = quote(r->name);
	if (value == NULL)
		v->message = xprintf("required tag %s is missing", q);
	else
		v->message = xprintf("tag %s value %s", q, why);
	free(q);
}

static void
eval_rule(const struct policy *p, const struct policy_rule *r,
    const struct policy_tag *tags, size_t ntags, pcre2_match_data *md,
    struct policy_violations *out)
{
	const struct policy_tag *t;
	const char *value;
	char why[256];
	size_t i;

	if ((t = find_tag(p, r->name, tags, ntags)) == NULL) {
		if (r->required)
			add_violation(out, r, POLICY_MISSING_REQUIRED_TAG,
			    NULL, NULL);
		return;
	}
	value = t->value != NULL ? t->value : "";
	for (i = 0; i < nitems(value_checks); i++) {
		if (value_checks[i].fails(p, r, value, md, why, sizeof(why))) {
			add_violation(out, r, value_checks[i].type, value, why);
			return;
		}
	}
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
		strings_free(v->allowed_values, v->nallowed_values);
		free(v->message);
	}
	free(out->v);
	out->v = NULL;
	out->count = 0;
}

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

/* --- the loaded rules, for get_tagging_policy --- */

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

/* NULL only when current_value is not valid UTF-8 (jansson refuses it). */
json_t *
policy_violation_json(const struct policy_violation *v)
{
	json_t *allowed = NULL;

	if (v->allowed_values != NULL)
		allowed = strings_json(v->allowed_values, v->nallowed_values);
	return json_pack("{s:s, s:s, s:s, s:s?, s:o?, s:s}",
	    "tag_name", v->tag_name,
	    "violation_type", violation_type_names[v->violation_type],
	    "severity", severity_names[v->severity],
	    "current_value", v->current_value,
	    "allowed_values", allowed,
	    "message", v->message);
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
