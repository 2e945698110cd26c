/*
 * Typed, strict reads from the fixture's JSON. Each failure is one sentence:
 * "<path>: <value>: <what was expected>", so a fixture author can fix the
 * file without reading the loader.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "fixture.h"

void
fxjson_path(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

/* json_dumpb writes into our buffer: nothing to free, whatever allocator. */
void
fxjson_show(const json_t *v, char *out, size_t outsz)
{
	size_t n;

	n = json_dumpb(v, out, outsz - 1, JSON_ENCODE_ANY | JSON_COMPACT);
	if (n == 0)
		snprintf(out, outsz, "(missing)");
	else if (n >= outsz - 1 && outsz > 4)
		memcpy(out + outsz - 4, "...", 4);
	else
		out[n] = '\0';
}

int
fxjson_keys(const json_t *obj, const char *const allowed[], const char *path,
    struct errbuf *err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return err_set(err, "%s: unknown key \"%s\"; expected "
			    "one of the keys documented in "
			    "tests/emulator/README.md", path, key);
	}
	return 0;
}

int
fxjson_is_object(const json_t *v, const char *path, struct errbuf *err)
{
	char shown[64];

	if (json_is_object(v))
		return 0;
	fxjson_show(v, shown, sizeof(shown));
	return err_set(err, "%s: %s: expected an object", path, shown);
}

int
fxjson_is_array(const json_t *v, const char *path, struct errbuf *err)
{
	char shown[64];

	if (json_is_array(v))
		return 0;
	fxjson_show(v, shown, sizeof(shown));
	return err_set(err, "%s: %s: expected a list", path, shown);
}

int
fxjson_str(struct pool *pool, const json_t *obj, const char *key,
    int required, const char *path, const char **out, struct errbuf *err)
{
	json_t *v = json_object_get(obj, key);
	char shown[64];

	*out = NULL;
	if (v == NULL && !required)
		return 0;
	if (v == NULL)
		return err_set(err, "%s.%s: missing; expected a string", path,
		    key);
	if (!json_is_string(v)) {
		fxjson_show(v, shown, sizeof(shown));
		return err_set(err, "%s.%s: %s: expected a string", path, key,
		    shown);
	}
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, "%s.%s: contains a NUL byte", path, key);
	*out = pool_strdup(pool, json_string_value(v));
	return 0;
}

int
fxjson_int(const json_t *obj, const char *key, long long min, long long max,
    long long def, const char *path, long long *out, struct errbuf *err)
{
	json_t *v = json_object_get(obj, key);
	char shown[64];

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		fxjson_show(v, shown, sizeof(shown));
		return err_set(err, "%s.%s: %s: expected an integer %lld..%lld",
		    path, key, shown, min, max);
	}
	*out = json_integer_value(v);
	return 0;
}

int
fxjson_bool(const json_t *obj, const char *key, int def, const char *path,
    int *out, struct errbuf *err)
{
	json_t *v = json_object_get(obj, key);
	char shown[64];

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		fxjson_show(v, shown, sizeof(shown));
		return err_set(err, "%s.%s: %s: expected true or false", path,
		    key, shown);
	}
	*out = json_is_true(v);
	return 0;
}

int
fxjson_strlist(struct pool *pool, const json_t *obj, const char *key,
    const char *path, const char *const **out, size_t *n, struct errbuf *err)
{
	json_t *v = json_object_get(obj, key), *e;
	const char **list;
	char where[FX_PATH], shown[64];
	size_t i;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	fxjson_path(where, sizeof(where), "%s.%s", path, key);
	if (fxjson_is_array(v, where, err) == -1)
		return -1;
	list = pool_alloc(pool, (json_array_size(v) + 1) * sizeof(*list));
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			fxjson_show(e, shown, sizeof(shown));
			return err_set(err, "%s[%zu]: %s: expected a string",
			    where, i, shown);
		}
		list[i] = pool_strdup(pool, json_string_value(e));
	}
	*out = list;
	*n = json_array_size(v);
	return 0;
}

int
fxjson_account_id(const char *s)
{
	size_t i;

	for (i = 0; i < 12; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return s[12] == '\0';
}

/* AWS limits: 50 tags, keys 1..128 and values 0..256 characters. */
static int
fxjson_tag_check(const char *key, const json_t *value, const char *path,
    struct errbuf *err)
{
	char shown[64];

	if (!json_is_string(value)) {
		fxjson_show(value, shown, sizeof(shown));
		return err_set(err, "%s: tag \"%.128s\": %s: expected a string "
		    "value", path, key, shown);
	}
	if (key[0] == '\0' || strlen(key) > 128)
		return err_set(err, "%s: tag key \"%.140s\": expected 1..128 "
		    "characters", path, key);
	if (json_string_length(value) > 256)
		return err_set(err, "%s: value of tag \"%s\": expected at most "
		    "256 characters", path, key);
	return 0;
}

static int
fxjson_tag_pair(const json_t *e, const char *path, size_t i, const char **key,
    const json_t **value, struct errbuf *err)
{
	static const char *const keys[] = { "Key", "Value", NULL };
	char where[FX_PATH];
	json_t *k;

	fxjson_path(where, sizeof(where), "%s[%zu]", path, i);
	if (fxjson_is_object(e, where, err) == -1 ||
	    fxjson_keys(e, keys, where, err) == -1)
		return -1;
	k = json_object_get(e, "Key");
	if (!json_is_string(k))
		return err_set(err, "%s.Key: missing or not a string; expected "
		    "{\"Key\": \"k\", \"Value\": \"v\"}", where);
	*key = json_string_value(k);
	*value = json_object_get(e, "Value");
	if (*value == NULL)
		return err_set(err, "%s.Value: missing; expected a string",
		    where);
	return 0;
}

static int
fxjson_tag_dup(const struct emu_tag *tags, size_t n, const char *key,
    const char *path, struct errbuf *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(tags[i].key, key) == 0)
			return err_set(err, "%s: tag key \"%s\" appears twice; "
			    "expected each key once", path, key);
	return 0;
}

static int
fxjson_tags_list(struct pool *pool, const json_t *v, const char *path,
    struct emu_tag *tags, struct errbuf *err)
{
	const json_t *value;
	const char *key;
	json_t *e;
	size_t i;

	json_array_foreach(v, i, e) {
		if (fxjson_tag_pair(e, path, i, &key, &value, err) == -1 ||
		    fxjson_tag_check(key, value, path, err) == -1 ||
		    fxjson_tag_dup(tags, i, key, path, err) == -1)
			return -1;
		tags[i].key = pool_intern(pool, key);
		tags[i].value = pool_intern(pool, json_string_value(value));
	}
	return 0;
}

static int
fxjson_tags_object(struct pool *pool, const json_t *v, const char *path,
    struct emu_tag *tags, struct errbuf *err)
{
	const char *key;
	json_t *e;
	size_t i = 0;

	json_object_foreach((json_t *)v, key, e) {
		if (fxjson_tag_check(key, e, path, err) == -1)
			return -1;
		tags[i].key = pool_intern(pool, key);
		tags[i++].value = pool_intern(pool, json_string_value(e));
	}
	return 0;
}

int
fxjson_tags(struct pool *pool, const json_t *v, const char *path,
    const struct emu_tag **out, size_t *n, struct errbuf *err)
{
	struct emu_tag *tags;
	size_t count;
	int rc;

	*out = NULL;
	*n = 0;
	if (!json_is_object(v) && !json_is_array(v))
		return fxjson_is_object(v, path, err);
	count = json_is_object(v) ? json_object_size(v) : json_array_size(v);
	if (count > 50)
		return err_set(err, "%s: %zu tags: expected at most 50", path,
		    count);
	if (count == 0)
		return 0;
	tags = pool_alloc(pool, count * sizeof(*tags));
	if (json_is_object(v))
		rc = fxjson_tags_object(pool, v, path, tags, err);
	else
		rc = fxjson_tags_list(pool, v, path, tags, err);
	if (rc == -1)
		return -1;
	*out = tags;
	*n = count;
	return 0;
}
