/*
 * The supervisor <-> worker frames: type names, encoding, the header check
 * and the exact-shape decoding of every body from the field tables below,
 * plus blocking frame I/O for the worker. Both ends build on this file; the
 * shapes themselves are documented in proto.h.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "errbuf.h"
#include "fdio.h"
#include "proto.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Longest JSON path we print in an error; keys are cut to KEY_SHOWN. */
#define PATH_SIZE	256
#define KEY_SHOWN	64

enum kind {
	K_INT,		/* integer in [min, max] */
	K_STR,		/* UTF-8 string of at most max bytes */
	K_BOOL,
	K_ACCOUNT,	/* exactly 12 ASCII digits */
	K_ENUM,		/* one of values[] */
	K_STRLIST,	/* array of at most max strings of at most len bytes */
	K_STRMAP,	/* object of at most max string values (tags) */
	K_OBJLIST	/* array of min..max objects of shape sub */
};

#define F_NULL		0x01	/* null is allowed */
#define F_NONEMPTY	0x02	/* string or list must not be empty */

struct shape;

struct field {
	const char		*name;
	enum kind		 kind;
	int			 flags;
	long long		 min;		/* K_INT, K_OBJLIST */
	long long		 max;		/* K_INT; size for strings, lists */
	size_t			 len;		/* item or value bytes in lists, maps */
	const char *const	*values;	/* K_ENUM, NULL-terminated */
	const struct shape	*sub;		/* K_OBJLIST */
};

/* An object with these keys, or (positional) an array of these values. */
struct shape {
	const struct field	*fields;
	size_t			 nfields;
	int			 positional;
};

#define SHAPE(f)	{ f, nitems(f), 0 }
#define ROW(f)		{ f, nitems(f), 1 }
#define INT(n, lo, hi)	{ n, K_INT, 0, lo, hi, 0, NULL, NULL }
#define COUNT(n)	INT(n, 0, INT_MAX)
#define STR(n, fl, hi)	{ n, K_STR, fl, 0, hi, 0, NULL, NULL }
#define BOOL(n)		{ n, K_BOOL, 0, 0, 0, 0, NULL, NULL }
#define ENUM(n, v)	{ n, K_ENUM, 0, 0, 0, 0, v, NULL }
#define STRLIST(n, fl, hi, l) { n, K_STRLIST, fl, 0, hi, l, NULL, NULL }

static const char *const region_status[] = { "ok", "failed", "skipped", NULL };
static const char *const log_levels[] = {
	"DEBUG", "INFO", "WARNING", "ERROR", NULL
};
/* The names policy.c gives its enums (policy_violation_type_name()). */
static const char *const violation_types[] = {
	"missing_required_tag", "invalid_value", "invalid_format", NULL
};
static const char *const severities[] = { "error", "warning", NULL };

static const struct field job_fields[] = {
	INT("proto", 1, INT_MAX),
	STR("job_id", F_NONEMPTY, 128),
	{ "account_id", K_ACCOUNT, 0, 0, 0, 0, NULL, NULL },
	STR("home_region", F_NONEMPTY, 64),
	STRLIST("regions", F_NULL, 64, 64),
	STRLIST("resource_types", F_NONEMPTY, 64, 128),
	STR("policy", F_NONEMPTY, PROTO_MAX_POLICY),
	INT("max_batch", 1, PROTO_MAX_BATCH),
	INT("refresh_margin_s", 0, 86400),
};
/* Real session tokens run to about 2 KB; 8 KB leaves room. */
static const struct field creds_fields[] = {
	STR("access_key_id", F_NONEMPTY, 128),
	STR("secret_access_key", F_NONEMPTY, 256),
	STR("session_token", F_NULL | F_NONEMPTY, 8192),
	INT("expiration", 0, LLONG_MAX),
};
static const struct field limits_fields[] = {
	INT("max_inflight", PROTO_INFLIGHT, PROTO_MAX_INFLIGHT),
};
static const struct field hello_fields[] = {
	INT("proto", 1, INT_MAX),
	INT("pid", 1, INT_MAX),
	STR("sandbox", 0, 256),
};
static const struct field progress_fields[] = {
	COUNT("regions_done"),
	COUNT("regions_total"),
	COUNT("resources"),
};
/*
 * Tag limits are AWS's (128 and 256 UTF-16 units) in UTF-8 bytes, doubled.
 * Rows: in the order of enum proto_violation and enum proto_resource.
 */
static const struct field violation_fields[] = {
	STR("tag_name", F_NONEMPTY, 512),
	ENUM("violation_type", violation_types),
	ENUM("severity", severities),
	STR("current_value", F_NULL, 1024),
	STRLIST("allowed_values", F_NULL, 256, 1024),
	STR("message", 0, PROTO_MAX_MESSAGE),
};
static const struct shape violation_shape = ROW(violation_fields);
static const struct field resource_fields[] = {
	STR("resource_arn", F_NONEMPTY, 2048),
	STR("resource_id", 0, 1024),
	STR("resource_type", F_NONEMPTY, 128),
	STR("region", 0, 64),
	{ "tags", K_STRMAP, F_NULL, 0, 1024, 1024, NULL, NULL },
	STR("tags_error", F_NULL, PROTO_MAX_MESSAGE),
	STR("created_at", F_NULL, 64),
	STR("state", F_NULL, 64),
	BOOL("in_scope"),
	BOOL("compliant"),
	{ "violations", K_OBJLIST, 0, 0, 256, 0, NULL, &violation_shape },
};
static const struct shape resource_shape = ROW(resource_fields);
static const struct field batch_fields[] = {
	{ "resources", K_OBJLIST, 0, 1, PROTO_MAX_BATCH, 0, NULL,
	  &resource_shape },
};
static const struct field region_done_fields[] = {
	STR("region", F_NONEMPTY, 64),
	ENUM("status", region_status),
	STR("error", F_NULL, PROTO_MAX_MESSAGE),
	STR("aws_code", F_NULL, 128),
	COUNT("resources"),
};
static const struct field log_fields[] = {
	ENUM("level", log_levels),
	STR("message", 0, PROTO_MAX_LOG),
};
static const struct field account_done_fields[] = {
	STR("account_alias", F_NULL, 256),
	COUNT("resources"),
	COUNT("compliant"),
	COUNT("violations"),
	COUNT("requests"),
};
static const struct field error_fields[] = {
	STR("message", F_NONEMPTY, PROTO_MAX_MESSAGE),
	STR("aws_code", F_NULL, 128),
};

_Static_assert(nitems(resource_fields) == PROTO_RES_NFIELDS,
    "resource_fields and enum proto_resource differ");
_Static_assert(nitems(violation_fields) == PROTO_VIOL_NFIELDS,
    "violation_fields and enum proto_violation differ");

const char *
proto_resource_name(size_t index)
{
	return index < nitems(resource_fields) ? resource_fields[index].name :
	    NULL;
}

const char *
proto_violation_name(size_t index)
{
	return index < nitems(violation_fields) ?
	    violation_fields[index].name : NULL;
}

const char *
proto_row_str(const json_t *row, size_t index)
{
	return json_string_value(json_array_get(row, index));
}

/* One row per message type; secret: never quote the body in an error. */
struct msg_row {
	enum msg_type	 type;
	const char	*name;
	struct shape	 shape;
	int		 secret;
};

#define EMPTY		{ NULL, 0, 0 }

static const struct msg_row msg_table[] = {
	{ MSG_JOB, "JOB", SHAPE(job_fields), 0 },
	{ MSG_CREDENTIALS, "CREDENTIALS", SHAPE(creds_fields), 1 },
	{ MSG_CREDENTIALS_REFRESHED, "CREDENTIALS_REFRESHED",
	  SHAPE(creds_fields), 1 },
	{ MSG_CANCEL, "CANCEL", EMPTY, 0 },
	{ MSG_LIMITS, "LIMITS", SHAPE(limits_fields), 0 },
	{ MSG_HELLO, "HELLO", SHAPE(hello_fields), 0 },
	{ MSG_PROGRESS, "PROGRESS", SHAPE(progress_fields), 0 },
	{ MSG_RESOURCE_BATCH, "RESOURCE_BATCH", SHAPE(batch_fields), 0 },
	{ MSG_REGION_DONE, "REGION_DONE", SHAPE(region_done_fields), 0 },
	{ MSG_CREDENTIALS_REQUEST, "CREDENTIALS_REQUEST", EMPTY, 0 },
	{ MSG_LOG, "LOG", SHAPE(log_fields), 0 },
	{ MSG_ACCOUNT_DONE, "ACCOUNT_DONE", SHAPE(account_done_fields), 0 },
	{ MSG_ERROR, "ERROR", SHAPE(error_fields), 0 },
};

/* Deeper than any shape above (batch.resources[i].violations[j]...). */
#define PATH_DEPTH	16

/*
 * The walk through one body: where we are, for the error sentence. The
 * path is kept as steps and only spelled out by fail(): a valid body, the
 * usual case, never pays for formatting it.
 */
struct step {
	const char	*key;		/* NULL: an array index */
	size_t		 index;
};

struct check {
	const char	*type;
	struct errbuf	*err;
	struct step	 steps[PATH_DEPTH];
	size_t		 depth;
};

static int	check_shape(struct check *, const json_t *,
		    const struct shape *);

static const struct msg_row *
msg_find(uint32_t type)
{
	size_t i;

	for (i = 0; i < nitems(msg_table); i++) {
		if ((uint32_t)msg_table[i].type == type)
			return &msg_table[i];
	}
	return NULL;
}

const char *
msg_type_name(uint32_t type)
{
	const struct msg_row *row = msg_find(type);

	return row != NULL ? row->name : "unknown";
}

/*
 * A key is worker input: show at most KEY_SHOWN bytes, printable ASCII
 * only, so an error line can neither be flooded nor carry escapes.
 */
static void
key_append(char *path, size_t size, const char *key)
{
	size_t n = strlen(path), i;

	if (n > 0 && n + 1 < size)
		path[n++] = '.';
	for (i = 0; key[i] != '\0' && i < KEY_SHOWN && n + 1 < size; i++)
		path[n++] = (key[i] >= 0x20 && key[i] < 0x7f) ? key[i] : '?';
	if (key[i] != '\0' && n + 3 < size) {
		memcpy(path + n, "...", 3);
		n += 3;
	}
	path[n] = '\0';
}

static int
fail(struct check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
fail(struct check *c, const char *fmt, ...)
{
	char what[512], path[PATH_SIZE] = "";
	size_t i, n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	for (i = 0; i < c->depth && i < PATH_DEPTH; i++) {
		if (c->steps[i].key != NULL) {
			key_append(path, sizeof(path), c->steps[i].key);
			continue;
		}
		n = strlen(path);
		snprintf(path + n, sizeof(path) - n, "[%zu]",
		    c->steps[i].index);
	}
	if (path[0] == '\0')
		return err_set(c->err, "%s: %s", c->type, what);
	return err_set(c->err, "%s: %s: %s", c->type, path, what);
}

static const char *
kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static int
check_string(struct check *c, const json_t *v, size_t max, int flags,
    const char *what)
{
	size_t len;

	if (!json_is_string(v))
		return fail(c, "expected %s%s, found %s", what,
		    (flags & F_NULL) ? " or null" : "", kind_name(v));
	len = json_string_length(v);
	if (len == 0 && (flags & F_NONEMPTY))
		return fail(c, "expected a non-empty string");
	if (len > max)
		return fail(c, "expected at most %zu bytes, found %zu", max,
		    len);
	return 0;
}

static int
check_int(struct check *c, const json_t *v, const struct field *f)
{
	json_int_t n;

	if (!json_is_integer(v))
		return fail(c, "expected an integer, found %s", kind_name(v));
	n = json_integer_value(v);
	if (n < f->min || n > f->max)
		return fail(c, "expected an integer in %lld..%lld, found %lld",
		    f->min, f->max, (long long)n);
	return 0;
}

static int
check_account(struct check *c, const json_t *v)
{
	/* The length check also refuses an embedded NUL. */
	if (!json_is_string(v) || json_string_length(v) != 12 ||
	    !config_account_id_valid(json_string_value(v)))
		return fail(c, "expected 12 digits");
	return 0;
}

static int
check_enum(struct check *c, const json_t *v, const char *const *values)
{
	char list[256] = "";
	size_t i;

	for (i = 0; json_is_string(v) && values[i] != NULL; i++) {
		if (strcmp(json_string_value(v), values[i]) == 0)
			return 0;
	}
	for (i = 0; values[i] != NULL; i++) {
		if (i > 0)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, values[i], sizeof(list) - strlen(list) - 1);
	}
	return fail(c, "expected one of %s", list);
}

static int
check_count(struct check *c, size_t n, long long min, long long max,
    const char *what)
{
	if ((long long)n < min || (long long)n > max)
		return fail(c, "expected %lld..%lld %s, found %zu", min, max,
		    what, n);
	return 0;
}

/* Descend: path gets "[i]" or ".key" for the duration of one check. */
static void
path_push_index(struct check *c, size_t i)
{
	if (c->depth < PATH_DEPTH) {
		c->steps[c->depth].key = NULL;
		c->steps[c->depth].index = i;
	}
	c->depth++;
}

static void
path_push_key(struct check *c, const char *key)
{
	if (c->depth < PATH_DEPTH)
		c->steps[c->depth].key = key;
	c->depth++;
}

static void
path_pop(struct check *c)
{
	c->depth--;
}

static int
check_strlist(struct check *c, const json_t *v, const struct field *f)
{
	const json_t *item;
	size_t i;

	if (!json_is_array(v))
		return fail(c, "expected an array of strings%s, found %s",
		    (f->flags & F_NULL) ? " or null" : "", kind_name(v));
	if (check_count(c, json_array_size(v), (f->flags & F_NONEMPTY) ? 1 : 0,
	    f->max, "items") == -1)
		return -1;
	json_array_foreach(v, i, item) {
		path_push_index(c, i);
		if (check_string(c, item, f->len, F_NONEMPTY, "a string") == -1)
			return -1;
		path_pop(c);
	}
	return 0;
}

static int
check_strmap(struct check *c, const json_t *v, const struct field *f)
{
	const char *key;
	const json_t *val;

	if (!json_is_object(v))
		return fail(c, "expected an object of strings%s, found %s",
		    (f->flags & F_NULL) ? " or null" : "", kind_name(v));
	if (check_count(c, json_object_size(v), 0, f->max, "entries") == -1)
		return -1;
	json_object_foreach((json_t *)v, key, val) {
		if (strlen(key) == 0 || strlen(key) > f->len / 2)
			return fail(c, "expected keys of 1..%zu bytes",
			    f->len / 2);
		path_push_key(c, key);
		if (check_string(c, val, f->len, 0, "a string") == -1)
			return -1;
		path_pop(c);
	}
	return 0;
}

static int
check_objlist(struct check *c, const json_t *v, const struct field *f)
{
	const json_t *item;
	size_t i;

	if (!json_is_array(v))
		return fail(c, "expected an array of %s, found %s",
		    f->sub->positional ? "rows" : "objects", kind_name(v));
	if (check_count(c, json_array_size(v), f->min, f->max, "items") == -1)
		return -1;
	json_array_foreach(v, i, item) {
		path_push_index(c, i);
		if (check_shape(c, item, f->sub) == -1)
			return -1;
		path_pop(c);
	}
	return 0;
}

static int
check_str(struct check *c, const json_t *v, const struct field *f)
{
	return check_string(c, v, (size_t)f->max, f->flags, "a string");
}

static int
check_bool(struct check *c, const json_t *v, const struct field *f)
{
	(void)f;
	if (!json_is_boolean(v))
		return fail(c, "expected true or false, found %s", kind_name(v));
	return 0;
}

static int
check_account_field(struct check *c, const json_t *v, const struct field *f)
{
	(void)f;
	return check_account(c, v);
}

static int
check_enum_field(struct check *c, const json_t *v, const struct field *f)
{
	return check_enum(c, v, f->values);
}

/* One checker per kind, indexed by enum kind. */
static int (*const checkers[])(struct check *, const json_t *,
    const struct field *) = {
	[K_INT] = check_int,
	[K_STR] = check_str,
	[K_BOOL] = check_bool,
	[K_ACCOUNT] = check_account_field,
	[K_ENUM] = check_enum_field,
	[K_STRLIST] = check_strlist,
	[K_STRMAP] = check_strmap,
	[K_OBJLIST] = check_objlist,
};

static int
check_value(struct check *c, const json_t *v, const struct field *f)
{
	if (json_is_null(v) && (f->flags & F_NULL))
		return 0;
	return checkers[f->kind](c, v, f);
}

static const struct field *
field_find(const struct shape *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nfields; i++) {
		if (strcmp(s->fields[i].name, key) == 0)
			return &s->fields[i];
	}
	return NULL;
}

/* Every value in field order, each named by its field in errors. */
static int
check_row(struct check *c, const json_t *row, const struct shape *s)
{
	size_t i;

	if (!json_is_array(row))
		return fail(c, "expected a row (an array of %zu values), found "
		    "%s", s->nfields, kind_name(row));
	if (json_array_size(row) != s->nfields)
		return fail(c, "expected a row of %zu values (%s ... %s), "
		    "found %zu", s->nfields, s->fields[0].name,
		    s->fields[s->nfields - 1].name, json_array_size(row));
	for (i = 0; i < s->nfields; i++) {
		path_push_key(c, s->fields[i].name);
		if (check_value(c, json_array_get(row, i), &s->fields[i]) == -1)
			return -1;
		path_pop(c);
	}
	return 0;
}

/*
 * Every field present and typed, in table order; then no stray key. Keys
 * are unique (JSON_REJECT_DUPLICATES) and every field is required, so an
 * object with exactly nfields keys has none other: only a bigger one is
 * searched for the stray key to name.
 */
static int
check_shape(struct check *c, const json_t *obj, const struct shape *s)
{
	const char *key;
	const json_t *v;
	size_t i;

	if (s->positional)
		return check_row(c, obj, s);
	if (!json_is_object(obj))
		return fail(c, "expected an object, found %s", kind_name(obj));
	for (i = 0; i < s->nfields; i++) {
		path_push_key(c, s->fields[i].name);
		v = json_object_get(obj, s->fields[i].name);
		if (v == NULL)
			return fail(c, "required key missing");
		if (check_value(c, v, &s->fields[i]) == -1)
			return -1;
		path_pop(c);
	}
	if (json_object_size(obj) == s->nfields)
		return 0;
	json_object_foreach((json_t *)obj, key, v) {
		if (field_find(s, key) == NULL) {
			path_push_key(c, key);
			return fail(c, "unknown key");
		}
	}
	return 0;
}

int
proto_header(const unsigned char hdr[PROTO_HEADER_SIZE], uint32_t *type,
    uint32_t *len, struct errbuf *err)
{
	uint32_t t, n;

	memcpy(&t, hdr, sizeof(t));
	memcpy(&n, hdr + 4, sizeof(n));
	t = ntohl(t);
	n = ntohl(n);
	if (msg_find(t) == NULL)
		return err_set(err, "unknown message type %u", t);
	if (n > PROTO_MAX_FRAME)
		return err_set(err, "frame of %u bytes exceeds %u", n,
		    PROTO_MAX_FRAME);
	*type = t;
	*len = n;
	return 0;
}

/* jansson's text quotes input; keep it out of errors about secrets. */
static void
parse_error(const struct msg_row *row, const json_error_t *je,
    struct errbuf *err)
{
	char text[JSON_ERROR_TEXT_LENGTH];
	size_t i;

	if (row->secret) {
		err_set(err, "%s: invalid JSON at byte %d", row->name,
		    je->position);
		return;
	}
	for (i = 0; je->text[i] != '\0' && i + 1 < sizeof(text); i++)
		text[i] = (je->text[i] >= 0x20 && je->text[i] < 0x7f) ?
		    je->text[i] : '?';
	text[i] = '\0';
	err_set(err, "%s: invalid JSON at byte %d: %s", row->name,
	    je->position, text);
}

json_t *
proto_decode(uint32_t type, const unsigned char *body, size_t len,
    struct errbuf *err)
{
	const struct msg_row *row = msg_find(type);
	struct check c;
	json_error_t je;
	json_t *obj;

	if (row == NULL) {
		err_set(err, "unknown message type %u", type);
		return NULL;
	}
	if (len > PROTO_MAX_FRAME) {
		err_set(err, "frame of %zu bytes exceeds %u", len,
		    PROTO_MAX_FRAME);
		return NULL;
	}
	/* No NUL in strings (default), no duplicate keys, nothing after. */
	obj = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
	if (obj == NULL) {
		parse_error(row, &je, err);
		return NULL;
	}
	memset(&c, 0, sizeof(c));
	c.type = row->name;
	c.err = err;
	if (check_shape(&c, obj, &row->shape) == -1) {
		if (row->secret)
			proto_wipe(obj);
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* The header: type and body length, each 4 bytes in network order. */
static void
put_header(unsigned char *buf, enum msg_type type, size_t len)
{
	uint32_t t = htonl((uint32_t)type), n = htonl((uint32_t)len);

	memcpy(buf, &t, sizeof(t));
	memcpy(buf + 4, &n, sizeof(n));
}

static int
check_body_len(enum msg_type type, size_t len, struct errbuf *err)
{
	if (len > PROTO_MAX_FRAME)
		return err_set(err, "%s: body of %zu bytes exceeds %u",
		    msg_type_name(type), len, PROTO_MAX_FRAME);
	return 0;
}

int
proto_encode(enum msg_type type, const json_t *body, unsigned char **frame,
    size_t *framelen, struct errbuf *err)
{
	unsigned char *buf;
	size_t len;

	*frame = NULL;
	*framelen = 0;
	if (msg_find(type) == NULL)
		return err_set(err, "unknown message type %u", (unsigned)type);
	/* Sized first, then dumped in place: no second copy of a secret. */
	len = json_dumpb(body, NULL, 0, JSON_COMPACT);
	if (len == 0)
		return err_set(err, "%s: body cannot be encoded as JSON",
		    msg_type_name(type));
	if (check_body_len(type, len, err) == -1)
		return -1;
	buf = xmalloc(PROTO_HEADER_SIZE + len);
	if (json_dumpb(body, (char *)buf + PROTO_HEADER_SIZE, len,
	    JSON_COMPACT) != len) {
		free(buf);
		return err_set(err, "%s: body changed while encoding",
		    msg_type_name(type));
	}
	put_header(buf, type, len);
	*frame = buf;
	*framelen = PROTO_HEADER_SIZE + len;
	return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t len, struct errbuf *err)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return err_set(err, "channel write failed: %s",
			    strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
proto_write(int fd, enum msg_type type, const json_t *body,
    struct errbuf *err)
{
	unsigned char *frame;
	size_t len;
	int rc;

	if (proto_encode(type, body, &frame, &len, err) == -1)
		return -1;
	rc = write_all(fd, frame, len, err);
	explicit_bzero(frame, len);
	free(frame);
	return rc;
}

int
proto_write_text(int fd, enum msg_type type, const char *body, size_t len,
    struct errbuf *err)
{
	unsigned char *frame;
	int rc;

	if (msg_find(type) == NULL)
		return err_set(err, "unknown message type %u", (unsigned)type);
	if (len == 0)
		return err_set(err, "%s: empty body", msg_type_name(type));
	if (check_body_len(type, len, err) == -1)
		return -1;
	frame = xmalloc(PROTO_HEADER_SIZE + len);
	put_header(frame, type, len);
	memcpy(frame + PROTO_HEADER_SIZE, body, len);
	rc = write_all(fd, frame, PROTO_HEADER_SIZE + len, err);
	free(frame);
	return rc;
}

/* Exactly len bytes; *got says how many arrived before an error. */
static int
read_all(int fd, unsigned char *p, size_t len, size_t *got,
    struct errbuf *err)
{
	ssize_t n;

	*got = 0;
	if ((n = fd_read_full(fd, p, len)) == -1)
		return err_set(err, "channel read failed: %s", strerror(errno));
	*got = (size_t)n;
	return *got < len ? -1 : 0;
}

static int
read_body(int fd, uint32_t type, uint32_t len, json_t **body,
    struct errbuf *err)
{
	unsigned char *buf;
	size_t got;

	buf = xmalloc(len > 0 ? len : 1);
	if (read_all(fd, buf, len, &got, err) == -1) {
		if (got < len && err != NULL && err->msg[0] == '\0')
			err_set(err, "channel closed in the middle of a %s "
			    "frame (%zu of %u bytes)", msg_type_name(type),
			    got, len);
		/* The whole buffer: a failed read may have left a partial secret. */
		explicit_bzero(buf, len);
		free(buf);
		return -1;
	}
	*body = proto_decode(type, buf, len, err);
	explicit_bzero(buf, len);
	free(buf);
	return *body == NULL ? -1 : 0;
}

int
proto_read(int fd, uint32_t *type, json_t **body, struct errbuf *err)
{
	unsigned char hdr[PROTO_HEADER_SIZE];
	uint32_t len;
	size_t got;

	*body = NULL;
	err_clear(err);
	if (read_all(fd, hdr, sizeof(hdr), &got, err) == -1) {
		if (err != NULL && err->msg[0] != '\0')
			return -1;
		if (got == 0)
			return err_set(err, "channel closed by the peer");
		return err_set(err, "channel closed in the middle of a "
		    "frame header (%zu of %d bytes)", got, PROTO_HEADER_SIZE);
	}
	if (proto_header(hdr, type, &len, err) == -1)
		return -1;
	return read_body(fd, *type, len, body, err);
}

void
proto_wipe(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_string(v)) {
		/* jansson owns the bytes; overwrite in place, keep length. */
		explicit_bzero((char *)json_string_value(v),
		    json_string_length(v));
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			proto_wipe(item);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			proto_wipe(item);
	}
}
