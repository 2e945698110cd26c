/*
 * Fixture resources of one account, grouped by region: type, id, derived
 * ARN, tags and whether the resource was ever tagged (the Tagging API shows
 * only those), state, creation time, daily cost and free-form attributes.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "fixture.h"

static const char *const resource_keys[] = {
	"type", "id", "arn", "tags", "ever_tagged", "state", "created",
	"daily_cost", "attributes", NULL
};

/*
 * How AWS spells ARNs of types whose ARN differs from the common
 * arn:aws:SERVICE:REGION:ACCOUNT:TYPE/ID.
 */
static const struct {
	const char	*type;
	int		 regional;
	int		 with_account;
	const char	*prefix;	/* before the id */
} arn_rules[] = {
	{ "s3:bucket", 0, 0, "" },
	{ "rds:db", 1, 1, "db:" },
	{ "rds:cluster", 1, 1, "cluster:" },
	{ "lambda:function", 1, 1, "function:" },
	{ "logs:log-group", 1, 1, "log-group:" },
	{ "iam:role", 0, 1, "role/" },
	{ "iam:user", 0, 1, "user/" },
};

/* States AWS reports for a type; types not listed take any state. */
static const struct {
	const char		*type;
	const char		*def;
	const char *const	 allowed[8];
} state_rules[] = {
	{ "ec2:instance", "running", { "pending", "running", "shutting-down",
	    "terminated", "stopping", "stopped", NULL } },
	{ "ec2:volume", "in-use", { "creating", "available", "in-use",
	    "deleting", "deleted", "error", NULL } },
	{ "rds:db", "available", { NULL } },
	{ "ecs:cluster", "ACTIVE", { "ACTIVE", "PROVISIONING",
	    "DEPROVISIONING", "FAILED", "INACTIVE", NULL } },
	{ "lambda:function", "Active", { "Pending", "Active", "Inactive",
	    "Failed", NULL } },
};

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))
#define FX_DEFAULT_CREATED	1704067200	/* 2024-01-01T00:00:00Z */

static int
resource_type_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t i;

	if (colon == NULL || colon == s || colon[1] == '\0' ||
	    strchr(colon + 1, ':') != NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != ':')
			return 0;
	return 1;
}

static int
resource_id_ok(const char *type, const char *id)
{
	size_t len = strlen(id), i;

	if (strcmp(type, "s3:bucket") == 0) {
		if (len < 3 || len > 63)
			return 0;
		for (i = 0; i < len; i++)
			if (!islower((unsigned char)id[i]) &&
			    !isdigit((unsigned char)id[i]) && id[i] != '.' &&
			    id[i] != '-')
				return 0;
		return 1;
	}
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)id[i]))
			return 0;
	return len >= 1 && len <= 255;
}

static const char *
resource_arn(struct pool *pool, const struct emu_resource *r)
{
	char arn[1024], svc[64];
	size_t i, n = strcspn(r->type, ":");

	snprintf(svc, sizeof(svc), "%.*s", (int)n, r->type);
	for (i = 0; i < NROWS(arn_rules); i++)
		if (strcmp(arn_rules[i].type, r->type) == 0)
			break;
	if (i == NROWS(arn_rules))
		snprintf(arn, sizeof(arn), "arn:aws:%s:%s:%s:%s/%s", svc,
		    r->region, r->account->id, r->type + n + 1, r->id);
	else
		snprintf(arn, sizeof(arn), "arn:aws:%s:%s:%s:%s%s", svc,
		    arn_rules[i].regional ? r->region : "",
		    arn_rules[i].with_account ? r->account->id : "",
		    arn_rules[i].prefix, r->id);
	return pool_strdup(pool, arn);
}

static int
resource_state(struct emu_resource *r, const char *state, const char *path,
    struct errbuf *err)
{
	size_t i, j;

	for (i = 0; i < NROWS(state_rules); i++)
		if (strcmp(state_rules[i].type, r->type) == 0)
			break;
	if (state == NULL) {
		r->state = i < NROWS(state_rules) ? state_rules[i].def : "";
		return 0;
	}
	r->state = state;
	if (i == NROWS(state_rules) || state_rules[i].allowed[0] == NULL)
		return 0;
	for (j = 0; state_rules[i].allowed[j] != NULL; j++)
		if (strcmp(state_rules[i].allowed[j], state) == 0)
			return 0;
	return err_set(err, "%s.state: \"%s\": not a state of %s; expected "
	    "one of %s, %s, ...", path, state, r->type,
	    state_rules[i].allowed[0], state_rules[i].allowed[1]);
}

static int
resource_strings(struct emu_fixture *fx, struct emu_resource *r,
    const json_t *v, const char *path, struct errbuf *err)
{
	const char *type, *state, *arn;

	if (fxjson_str(fx->pool, v, "type", 1, path, &type, err) == -1 ||
	    fxjson_str(fx->pool, v, "id", 1, path, &r->id, err) == -1 ||
	    fxjson_str(fx->pool, v, "arn", 0, path, &arn, err) == -1 ||
	    fxjson_str(fx->pool, v, "state", 0, path, &state, err) == -1)
		return -1;
	if (!resource_type_ok(type))
		return err_set(err, "%s.type: \"%s\": expected service:type in "
		    "lowercase, such as ec2:instance or s3:bucket", path, type);
	r->type = pool_intern(fx->pool, type);
	if (!resource_id_ok(r->type, r->id))
		return err_set(err, "%s.id: \"%s\": expected %s", path, r->id,
		    strcmp(r->type, "s3:bucket") == 0 ? "a bucket name (3..63 "
		    "of a-z, 0-9, '.', '-')" : "1..255 visible characters");
	if (arn != NULL && strncmp(arn, "arn:aws:", 8) != 0)
		return err_set(err, "%s.arn: \"%s\": expected arn:aws:...", path,
		    arn);
	r->arn = arn != NULL ? arn : resource_arn(fx->pool, r);
	return resource_state(r, state != NULL ? pool_intern(fx->pool, state) :
	    NULL, path, err);
}

static int
resource_numbers(struct emu_resource *r, const json_t *v, const char *path,
    struct errbuf *err)
{
	json_t *created = json_object_get(v, "created");
	json_t *cost = json_object_get(v, "daily_cost");
	char shown[64];

	r->created = FX_DEFAULT_CREATED;
	if (created != NULL && (!json_is_string(created) ||
	    isotime_parse(json_string_value(created), &r->created) == -1)) {
		fxjson_show(created, shown, sizeof(shown));
		return err_set(err, "%s.created: %s: expected an ISO 8601 UTC "
		    "time such as \"2024-05-01T12:00:00Z\"", path, shown);
	}
	if (cost != NULL && (!json_is_number(cost) ||
	    json_number_value(cost) < 0)) {
		fxjson_show(cost, shown, sizeof(shown));
		return err_set(err, "%s.daily_cost: %s: expected a number of "
		    "USD >= 0", path, shown);
	}
	r->daily_cost = cost != NULL ? json_number_value(cost) : 0;
	return 0;
}

static int
resource_load(struct emu_fixture *fx, struct emu_resource *r,
    const json_t *v, const char *path, struct errbuf *err)
{
	json_t *tags, *attrs;
	char where[FX_PATH];

	if (fxjson_is_object(v, path, err) == -1 ||
	    fxjson_keys(v, resource_keys, path, err) == -1 ||
	    resource_strings(fx, r, v, path, err) == -1 ||
	    resource_numbers(r, v, path, err) == -1)
		return -1;
	fxjson_path(where, sizeof(where), "%s.tags", path);
	if ((tags = json_object_get(v, "tags")) != NULL &&
	    fxjson_tags(fx->pool, tags, where, &r->tags, &r->ntags, err) == -1)
		return -1;
	if (fxjson_bool(v, "ever_tagged", r->ntags > 0, path, &r->ever_tagged,
	    err) == -1)
		return -1;
	if (r->ntags > 0 && !r->ever_tagged)
		return err_set(err, "%s.ever_tagged: false, but the resource "
		    "has tags; expected true or no ever_tagged", path);
	if ((attrs = json_object_get(v, "attributes")) != NULL) {
		fxjson_path(where, sizeof(where), "%s.attributes", path);
		if (fxjson_is_object(attrs, where, err) == -1)
			return -1;
		r->attrs = attrs;	/* copied out of the load pool later */
	}
	return 0;
}

static int
resource_region(struct emu_fixture *fx, struct emu_account *a,
    const char *name, const json_t *list, size_t *next, const char *path,
    struct errbuf *err)
{
	struct emu_region *reg = fixture_region(a, name);
	char where[FX_PATH];
	struct emu_resource *r;
	json_t *v;
	size_t i;

	fxjson_path(where, sizeof(where), "%s.resources.%s", path, name);
	if (reg == NULL || reg->status == EMU_REGION_NOT_OPTED_IN)
		return err_set(err, "%s: region %s is %s for account %s; "
		    "expected an enabled or opted-in region of the account",
		    where, name, reg == NULL ? "not listed" : "not opted in",
		    a->id);
	if (fxjson_is_array(list, where, err) == -1)
		return -1;
	reg->res = &fx->resources[*next];
	reg->nres = json_array_size(list);
	json_array_foreach(list, i, v) {
		r = &fx->resources[(*next)++];
		r->account = a;
		r->region = reg->name;
		fxjson_path(where, sizeof(where), "%s.resources.%s[%zu]", path,
		    name, i);
		if (resource_load(fx, r, v, where, err) == -1)
			return -1;
	}
	return 0;
}

int
fixture_resources_load(struct emu_fixture *fx, struct emu_account *a,
    const json_t *v, size_t *next, const char *path, struct errbuf *err)
{
	char where[FX_PATH];
	const char *name;
	json_t *list;

	if (v == NULL)
		return 0;
	fxjson_path(where, sizeof(where), "%s.resources", path);
	if (fxjson_is_object(v, where, err) == -1)
		return -1;
	json_object_foreach((json_t *)v, name, list)
		if (resource_region(fx, a, name, list, next, path, err) == -1)
			return -1;
	return 0;
}
