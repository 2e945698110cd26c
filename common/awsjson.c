/*
 * awsjson owns reading AWS JSON bodies (JSON 1.0/1.1 and REST-JSON) with
 * jansson: a bounded parse that insists on an object, typed member lookups,
 * and the JSON error shape ("__type"/"code" or x-amzn-ErrorType, "message").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "awsjson.h"
#include "awsxml.h"
#include "errbuf.h"
#include "xmalloc.h"

static const struct {
	json_type	 type;
	const char	*name;
} awsjson_types[] = {
	{ JSON_OBJECT, "an object" },
	{ JSON_ARRAY, "an array" },
	{ JSON_STRING, "a string" },
	{ JSON_INTEGER, "an integer" },
	{ JSON_REAL, "a real number" },
	{ JSON_TRUE, "true" },
	{ JSON_FALSE, "false" },
	{ JSON_NULL, "null" },
};

static const char *
awsjson_type_name(const json_t *v)
{
	size_t i;

	for (i = 0; i < sizeof(awsjson_types) / sizeof(awsjson_types[0]); i++)
		if (json_typeof(v) == awsjson_types[i].type)
			return awsjson_types[i].name;
	return "an unknown JSON type";
}

/*
 * jansson appends " near '<up to 20 bytes of input>'" to its reasons. In a
 * credentials response those bytes may be a piece of a secret, so only the
 * reason and the position are kept (" near end of file" has no input).
 */
static void
awsjson_reason(const json_error_t *jerr, char *buf, size_t bufsz)
{
	char *near;

	snprintf(buf, bufsz, "%s", jerr->text);
	if ((near = strstr(buf, " near '")) != NULL)
		*near = '\0';
}

json_t *
awsjson_parse(const char *body, size_t len, struct errbuf *err)
{
	json_error_t jerr;
	char reason[JSON_ERROR_TEXT_LENGTH];
	json_t *root;

	if (body == NULL || len == 0) {
		err_set(err, "empty AWS response body where a JSON object was "
		    "expected");
		return NULL;
	}
	if (len > AWSJSON_MAX_SIZE) {
		err_set(err, "AWS JSON response of %zu bytes is larger than the "
		    "%d-byte limit (AWSJSON_MAX_SIZE); request smaller pages",
		    len, AWSJSON_MAX_SIZE);
		return NULL;
	}
	/* Any top-level value is decoded so the error can name its type. */
	if ((root = json_loadb(body, len, JSON_DECODE_ANY, &jerr)) == NULL) {
		awsjson_reason(&jerr, reason, sizeof(reason));
		err_set(err, "malformed JSON in AWS response at line %d, "
		    "column %d: %s", jerr.line, jerr.column, reason);
		return NULL;
	}
	if (!json_is_object(root)) {
		err_set(err, "AWS JSON response is %s where an object was "
		    "expected", awsjson_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

const char *
awsjson_string(const json_t *obj, const char *key)
{
	json_t *v;

	if (obj == NULL || (v = json_object_get(obj, key)) == NULL)
		return NULL;
	return json_string_value(v);
}

json_t *
awsjson_object(const json_t *obj, const char *key)
{
	json_t *v;

	if (obj == NULL || (v = json_object_get(obj, key)) == NULL ||
	    !json_is_object(v))
		return NULL;
	return v;
}

json_t *
awsjson_array(const json_t *obj, const char *key)
{
	json_t *v;

	if (obj == NULL || (v = json_object_get(obj, key)) == NULL ||
	    !json_is_array(v))
		return NULL;
	return v;
}

/* The member's value is not repeated in the error: it might be a secret. */
int
awsjson_int(const json_t *obj, const char *key, long long *out,
    struct errbuf *err)
{
	json_t *v;

	if (obj == NULL || (v = json_object_get(obj, key)) == NULL)
		return err_set(err, "AWS JSON response lacks the integer member "
		    "\"%s\"", key);
	if (!json_is_integer(v))
		return err_set(err, "AWS JSON response member \"%s\" is %s "
		    "where an integer was expected", key, awsjson_type_name(v));
	*out = (long long)json_integer_value(v);
	return 0;
}

/*
 * Smithy's awsJson rules: drop everything from the first ':' (legacy
 * servers append a URL), then everything through the first '#' (the shape
 * namespace). Returns 0 when nothing remains.
 */
static int
awsjson_error_code(const char *raw, char *code, size_t codesz)
{
	const char *hash, *start = raw;
	size_t len;
	char *bare;

	len = strcspn(raw, ":");
	if ((hash = memchr(raw, '#', len)) != NULL) {
		start = hash + 1;
		len -= (size_t)(start - raw);
	}
	if (len == 0)
		return 0;
	bare = xstrndup(start, len);
	awsxml_errcpy(code, codesz, bare);
	free(bare);
	return 1;
}

/* Body members that may name the error, in the order the SDKs prefer. */
static const char *const awsjson_code_keys[] = { "code", "Code", "__type" };
static const char *const awsjson_message_keys[] = { "message", "Message" };

static const char *
awsjson_first_string(const json_t *obj, const char *const *keys, size_t n)
{
	const char *s;
	size_t i;

	for (i = 0; i < n; i++)
		if ((s = awsjson_string(obj, keys[i])) != NULL)
			return s;
	return NULL;
}

int
awsjson_error(const char *body, size_t len, const char *errortype_header,
    char *code, size_t codesz, char *message, size_t messagesz)
{
	json_t *root;
	const char *raw;
	int found = 0;

	root = awsjson_parse(body, len, NULL);
	if (errortype_header != NULL)
		found = awsjson_error_code(errortype_header, code, codesz);
	if (!found && (raw = awsjson_first_string(root, awsjson_code_keys,
	    sizeof(awsjson_code_keys) / sizeof(awsjson_code_keys[0]))) != NULL)
		found = awsjson_error_code(raw, code, codesz);
	if (found)
		awsxml_errcpy(message, messagesz, awsjson_first_string(root,
		    awsjson_message_keys, sizeof(awsjson_message_keys) /
		    sizeof(awsjson_message_keys[0])));
	json_decref(root);
	return found ? 0 : -1;
}

json_t *
awsjson_row(json_t **vals, size_t n)
{
	json_t *o = json_array();
	int ok = o != NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (vals[i] == NULL)
			ok = 0;
		else if (!ok)
			json_decref(vals[i]);
		else if (json_array_append_new(o, vals[i]) == -1)
			ok = 0;
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}
