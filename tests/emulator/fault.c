/*
 * Fault rules from the fixture and from POST /_emulator/faults: matching a
 * request by account, region, service and operation, and acting on it the
 * way the real service fails (its own throttling and error codes), or by
 * delaying, hanging, or damaging the body.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "emulator.h"
#include "errbuf.h"
#include "xmalloc.h"

static const char *const fault_keys[] = {
	"account", "region", "service", "operation", "kind", "count", "ms",
	"jitter_ms", "status", NULL
};

static const struct {
	const char	*name;
	enum fault_kind	 kind;
	int		 needs_count;
} fault_kinds[] = {
	{ "latency_ms", FAULT_LATENCY, 0 },
	{ "throttle_next", FAULT_THROTTLE, 1 },
	{ "http_5xx", FAULT_HTTP_5XX, 1 },
	{ "access_denied", FAULT_ACCESS_DENIED, 0 },
	{ "hang", FAULT_HANG, 0 },
	{ "malformed_body", FAULT_MALFORMED_BODY, 0 },
	{ "truncated_body", FAULT_TRUNCATED_BODY, 0 },
	{ "expired_token", FAULT_EXPIRED_TOKEN, 0 },
};
#define NKINDS	(sizeof(fault_kinds) / sizeof(fault_kinds[0]))

const char *
fault_kind_name(enum fault_kind kind)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (fault_kinds[i].kind == kind)
			return fault_kinds[i].name;
	return "unknown";
}

void
fault_free(struct emu_fault *f)
{
	if (f == NULL)
		return;
	free(f->account);
	free(f->region);
	free(f->service);
	free(f->operation);
	free(f);
}

void
fault_free_all(struct emu_faults *list)
{
	struct emu_fault *f;

	while ((f = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, f, entry);
		fault_free(f);
	}
}

static int
fault_match_field(const json_t *v, const char *key, char **out,
    struct errbuf *err)
{
	json_t *s = json_object_get(v, key);

	if (s == NULL || (json_is_string(s) &&
	    strcmp(json_string_value(s), "*") == 0))
		return 0;
	if (!json_is_string(s) || json_string_length(s) == 0)
		return err_set(err, "%s: expected a non-empty string or \"*\"",
		    key);
	*out = xstrdup(json_string_value(s));
	return 0;
}

static int
fault_number(const json_t *v, const char *key, long long min, long long max,
    long long def, long long *out, struct errbuf *err)
{
	json_t *n = json_object_get(v, key);

	*out = def;
	if (n == NULL)
		return 0;
	if (!json_is_integer(n) || json_integer_value(n) < min ||
	    json_integer_value(n) > max)
		return err_set(err, "%s: expected an integer %lld..%lld", key,
		    min, max);
	*out = json_integer_value(n);
	return 0;
}

static int
fault_kind(const json_t *v, size_t *row, struct errbuf *err)
{
	const char *name = json_string_value(json_object_get(v, "kind"));

	for (*row = 0; name != NULL && *row < NKINDS; (*row)++)
		if (strcmp(fault_kinds[*row].name, name) == 0)
			return 0;
	return err_set(err, "kind: \"%s\": expected latency_ms, throttle_next, "
	    "http_5xx, access_denied, hang, malformed_body, truncated_body or "
	    "expired_token", name != NULL ? name : "(missing)");
}

static int
fault_fields(const json_t *v, struct emu_fault *f, struct errbuf *err)
{
	long long count, ms, jitter, status;
	const char *key;
	json_t *e;
	size_t i, row;

	if (!json_is_object(v))
		return err_set(err, "expected an object with a \"kind\"");
	json_object_foreach((json_t *)v, key, e) {
		for (i = 0; fault_keys[i] != NULL; i++)
			if (strcmp(key, fault_keys[i]) == 0)
				break;
		if (fault_keys[i] == NULL)
			return err_set(err, "unknown key \"%s\"; expected one "
			    "of account, region, service, operation, kind, "
			    "count, ms, jitter_ms, status", key);
	}
	if (fault_kind(v, &row, err) == -1 ||
	    fault_number(v, "count", 1, 1000000000, -1, &count, err) == -1 ||
	    fault_number(v, "ms", 0, 600000, 0, &ms, err) == -1 ||
	    fault_number(v, "jitter_ms", 0, 600000, 0, &jitter, err) == -1 ||
	    fault_number(v, "status", 500, 599, 500, &status, err) == -1)
		return -1;
	if (fault_kinds[row].needs_count && count == -1)
		return err_set(err, "count: missing; %s needs how many calls",
		    fault_kinds[row].name);
	f->kind = fault_kinds[row].kind;
	f->remaining = count;
	f->ms = (int)ms;
	f->jitter_ms = (int)jitter;
	f->status = (int)status;
	return 0;
}

int
fault_parse(const json_t *v, struct emu_fault **out, struct errbuf *err)
{
	struct emu_fault *f;

	f = xcalloc(1, sizeof(*f));
	if (fault_fields(v, f, err) == -1 ||
	    fault_match_field(v, "account", &f->account, err) == -1 ||
	    fault_match_field(v, "region", &f->region, err) == -1 ||
	    fault_match_field(v, "service", &f->service, err) == -1 ||
	    fault_match_field(v, "operation", &f->operation, err) == -1) {
		fault_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

int
fault_parse_list(const json_t *v, struct emu_faults *list, const char *where,
    struct errbuf *err)
{
	struct emu_faults parsed;
	struct emu_fault *f;
	json_t *e;
	size_t i;

	if (!json_is_array(v))
		return err_set(err, "%s: expected a list of fault rules", where);
	TAILQ_INIT(&parsed);
	json_array_foreach(v, i, e) {
		if (fault_parse(e, &f, err) == -1) {
			fault_free_all(&parsed);
			return err_prefix(err, "%s[%zu]", where, i);
		}
		TAILQ_INSERT_TAIL(&parsed, f, entry);
	}
	/* All or nothing: a bad entry adds none of the list. */
	while ((f = TAILQ_FIRST(&parsed)) != NULL) {
		TAILQ_REMOVE(&parsed, f, entry);
		TAILQ_INSERT_TAIL(list, f, entry);
	}
	return 0;
}
