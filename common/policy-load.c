/*
 * policy-load reads the policy file and turns its JSON into a struct policy:
 * the whole-file checks, one error line per bad field named by its JSON
 * path, the table-driven walk of an object's keys, and the top-level keys
 * and tag_naming_rules. The tag rules themselves are policy-rule.c.
 */
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

#include "fdio.h"
#include "log.h"
#include "xmalloc.h"
#include "policy.h"
#include "policy-internal.h"
#include "sigv4.h"

/* AWS's documented tag character set, used when special characters are off. */
#define CHARSET_PATTERN	"[\\p{L}\\p{N}\\p{Zs}_.:/=+\\-@]*"

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
void
policy_load_error(struct policy_loader *l, const char *path, const char *fmt,
    ...)
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
const char *
policy_load_describe(const json_t *v, char *buf, size_t len)
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

void
policy_load_mismatch(struct policy_loader *l, const char *path,
    const json_t *found, const char *expected)
{
	char buf[80];

	policy_load_error(l, path, "found %s, expected %s",
	    policy_load_describe(found, buf, sizeof(buf)), expected);
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
char *
policy_load_path_key(const char *parent, const char *key)
{
	char *q, *path;

	if (is_identifier(key)) {
		if (*parent == '\0')
			return xstrdup(key);
		return xprintf("%s.%s", parent, key);
	}
	q = policy_quote(key);
	path = xprintf("%s[%s]", parent, q);
	free(q);
	return path;
}

char *
policy_load_path_index(const char *parent, size_t i)
{
	return xprintf("%s[%zu]", parent, i);
}

/* --- the fields of an object --- */

int
policy_load_expect_string(struct policy_loader *l, const char *path, json_t *v,
    int nonempty)
{
	if (json_is_string(v) && (!nonempty || json_string_length(v) > 0))
		return 0;
	policy_load_mismatch(l, path, v, nonempty ? "a non-empty string" :
	    "a string");
	return -1;
}

static void
parse_bool(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	if (!json_is_boolean(v)) {
		policy_load_mismatch(l, path, v, "true or false");
		return;
	}
	*(int *)((char *)target + f->off) = json_is_true(v);
}

static void
parse_int(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	char expect[64];

	if (!json_is_integer(v) || json_integer_value(v) < f->min ||
	    json_integer_value(v) > f->max) {
		snprintf(expect, sizeof(expect), "an integer %lld..%lld",
		    (long long)f->min, (long long)f->max);
		policy_load_mismatch(l, path, v, expect);
		return;
	}
	*(json_int_t *)((char *)target + f->off) = json_integer_value(v);
}

static void
unknown_key(struct policy_loader *l, const char *path,
    const struct policy_field *f, size_t nf)
{
	char keys[512];
	size_t i, n = 0;

	keys[0] = '\0';
	for (i = 0; i < nf && n < sizeof(keys); i++)
		n += (size_t)snprintf(keys + n, sizeof(keys) - n, "%s%s",
		    i > 0 ? ", " : "", f[i].key);
	policy_load_error(l, path, "unknown key, expected one of: %s", keys);
}

static const struct policy_field *
find_field(const struct policy_field *f, size_t nf, const char *key)
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
void
policy_load_fields(struct policy_loader *l, const char *path, json_t *obj,
    const struct policy_field *f, size_t nf, void *target)
{
	const char *key;
	json_t *v;
	char *sub;
	size_t i;

	json_object_foreach(obj, key, v) {
		if (find_field(f, nf, key) != NULL)
			continue;
		sub = policy_load_path_key(path, key);
		unknown_key(l, sub, f, nf);
		free(sub);
	}
	for (i = 0; i < nf; i++) {
		sub = policy_load_path_key(path, f[i].key);
		if ((v = json_object_get(obj, f[i].key)) != NULL)
			f[i].parse(l, &f[i], sub, v, target);
		else if (f[i].required)
			policy_load_error(l, sub, "missing, expected %s",
			    f[i].expect);
		free(sub);
	}
}

/* --- the top level and tag_naming_rules --- */

static void
parse_meta_string(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	struct policy *p = target;

	if (policy_load_expect_string(l, path, v, 0) == 0)
		json_object_set(p->meta, f->key, v);
}

static void
parse_meta_object(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	struct policy *p = target;

	if (!json_is_object(v)) {
		policy_load_mismatch(l, path, v, "an object");
		return;
	}
	json_object_set(p->meta, f->key, v);
}

static const struct policy_field naming_fields[] = {
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
parse_naming(struct policy_loader *l, const struct policy_field *f,
    const char *path, json_t *v, void *target)
{
	struct policy *p = target;
	PCRE2_SIZE off;
	int code;

	(void)f;
	if (!json_is_object(v)) {
		policy_load_mismatch(l, path, v, "an object");
		return;
	}
	policy_load_fields(l, path, v, naming_fields,
	    POLICY_NITEMS(naming_fields), p);
	if (p->allow_special)
		return;
	p->charset = pcre2_compile((PCRE2_SPTR)CHARSET_PATTERN,
	    PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_ENDANCHORED |
	    PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
	if (p->charset == NULL)
		fatalx("%s: built-in pattern does not compile (%d)", __func__,
		    code);
}

static const struct policy_field root_fields[] = {
	{ "tag_naming_rules", 0, "", parse_naming, 0, 0, 0 },
	{ "version", 0, "", parse_meta_string, 0, 0, 0 },
	{ "last_updated", 0, "", parse_meta_string, 0, 0, 0 },
	{ "cloud_provider", 0, "", parse_meta_string, 0, 0, 0 },
	{ "metadata", 0, "", parse_meta_object, 0, 0, 0 },
	{ "required_tags", 1, "a non-empty array of tag objects",
	    policy_rule_required_tags, 0, 0, 0 },
	{ "optional_tags", 0, "", policy_rule_optional_tags, 0, 0, 0 },
};

/* --- load --- */

static int
load_bytes(const char *buf, size_t len, const char *path,
    struct policy **pp, struct policy_errors *errs)
{
	struct policy_loader l = { NULL, errs, 0 };
	json_error_t jerr;
	json_t *root;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		policy_load_error(&l, NULL, "invalid JSON at line %d column "
		    "%d: %s", jerr.line, jerr.column, jerr.text);
		return -1;
	}
	l.p = policy_new();
	if (json_is_object(root))
		policy_load_fields(&l, "", root, root_fields,
		    POLICY_NITEMS(root_fields), l.p);
	else
		policy_load_mismatch(&l, "top level", root, "an object");
	json_decref(root);
	if (l.nerrors > 0) {
		policy_free(l.p);
		return -1;
	}
	sigv4_sha256_hex(buf, len, l.p->hash);
	if (path != NULL)
		l.p->path = xstrdup(path);
	*pp = l.p;
	return 0;
}

/* The whole file, at most POLICY_MAX_FILE bytes; NULL after an error. */
static char *
read_file(struct policy_loader *l, const char *path, size_t *lenp)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		policy_load_error(l, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		policy_load_error(l, NULL, "not a regular file");
		close(fd);
		return NULL;
	}
	/* One byte over the limit tells "too large". */
	buf = xmalloc(POLICY_MAX_FILE + 1);
	if ((n = fd_read_full(fd, buf, POLICY_MAX_FILE + 1)) == -1)
		policy_load_error(l, NULL, "cannot read: %s", strerror(errno));
	else if (n > POLICY_MAX_FILE)
		policy_load_error(l, NULL, "larger than %d bytes, expected a "
		    "policy file", POLICY_MAX_FILE);
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
	struct policy_loader l = { NULL, errs, 0 };
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
