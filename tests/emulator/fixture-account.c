/*
 * One fixture account: identity, organization status, base credentials,
 * regions with their opt-in status, and IAM roles with their trust.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "fixture.h"

static const char *const account_keys[] = {
	"id", "alias", "name", "email", "org_status", "management",
	"credentials", "regions", "roles", "resources", "cost_resource_data",
	NULL
};
static const char *const credential_keys[] = {
	"access_key_id", "secret_access_key", "user", NULL
};
static const char *const role_keys[] = {
	"name", "path", "trust", "external_id", "max_session_duration", NULL
};

static const struct {
	const char		*name;
	enum emu_region_status	 status;
} region_statuses[] = {
	{ "enabled", EMU_REGION_ENABLED },
	{ "opted-in", EMU_REGION_OPTED_IN },
	{ "not-opted-in", EMU_REGION_NOT_OPTED_IN },
};

static const struct {
	const char		*name;
	enum emu_org_status	 status;
} org_statuses[] = {
	{ "ACTIVE", EMU_ORG_ACTIVE },
	{ "SUSPENDED", EMU_ORG_SUSPENDED },
	{ "NONE", EMU_ORG_NONE },
};

/* IAM's name alphabet: letters, digits and +=,.@_- */
static int
account_iam_name(const char *s, size_t min, size_t max)
{
	size_t len = strlen(s), i;

	if (len < min || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("+=,.@_-", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

static int
account_credentials(struct emu_fixture *fx, struct emu_account *a,
    const json_t *v, const char *path, struct errbuf *err)
{
	char where[FX_PATH];
	const char *user;
	size_t i;

	fxjson_path(where, sizeof(where), "%s.credentials", path);
	if (fxjson_is_object(v, where, err) == -1 ||
	    fxjson_keys(v, credential_keys, where, err) == -1 ||
	    fxjson_str(fx->pool, v, "access_key_id", 1, where,
	    &a->access_key_id, err) == -1 ||
	    fxjson_str(fx->pool, v, "secret_access_key", 1, where,
	    &a->secret_access_key, err) == -1 ||
	    fxjson_str(fx->pool, v, "user", 0, where, &user, err) == -1)
		return -1;
	for (i = 0; a->access_key_id[i] != '\0'; i++)
		if (!isupper((unsigned char)a->access_key_id[i]) &&
		    !isdigit((unsigned char)a->access_key_id[i]))
			break;
	if (a->access_key_id[i] != '\0' || i < 16 || i > 128 ||
	    strncmp(a->access_key_id, "ASIA", 4) == 0)
		return err_set(err, "%s.access_key_id: \"%s\": expected 16..128 "
		    "uppercase letters and digits, not starting with ASIA "
		    "(reserved for sessions)", where, a->access_key_id);
	if (strlen(a->secret_access_key) < 16)
		return err_set(err, "%s.secret_access_key: expected at least 16 "
		    "characters", where);
	if (user != NULL && !account_iam_name(user, 1, 64))
		return err_set(err, "%s.user: \"%s\": expected an IAM user "
		    "name (1..64 of letters, digits, +=,.@_-) or root", where,
		    user);
	a->user = user != NULL ? user : "admin";
	return 0;
}

static int
account_region_status(const char *s, enum emu_region_status *st)
{
	size_t i;

	for (i = 0; i < sizeof(region_statuses) / sizeof(region_statuses[0]);
	    i++)
		if (strcmp(s, region_statuses[i].name) == 0) {
			*st = region_statuses[i].status;
			return 0;
		}
	return -1;
}

static int
account_regions(struct emu_fixture *fx, struct emu_account *a,
    const json_t *v, const char *path, struct errbuf *err)
{
	char shown[64];
	const char *name;
	json_t *st;
	size_t i = 0;

	if (v == NULL) {
		a->nregions = regions_nstandard;
		a->regions = pool_alloc(fx->pool, a->nregions *
		    sizeof(*a->regions));
		for (i = 0; i < regions_nstandard; i++)
			a->regions[i].name = regions_standard[i];
		return 0;
	}
	if (fxjson_is_object(v, path, err) == -1)
		return -1;
	a->nregions = json_object_size(v);
	a->regions = pool_alloc(fx->pool, (a->nregions + 1) *
	    sizeof(*a->regions));
	json_object_foreach((json_t *)v, name, st) {
		if (!regions_valid_name(name))
			return err_set(err, "%s: \"%s\": expected a region name "
			    "such as us-east-1", path, name);
		if (!json_is_string(st) || account_region_status(
		    json_string_value(st), &a->regions[i].status) == -1) {
			fxjson_show(st, shown, sizeof(shown));
			return err_set(err, "%s.%s: %s: expected enabled, "
			    "opted-in or not-opted-in", path, name, shown);
		}
		a->regions[i++].name = pool_intern(fx->pool, name);
	}
	return 0;
}

/* An account id, or an IAM ARN of that account's root, a user or a role. */
static int
account_trust_entry(const char *s)
{
	if (fxjson_account_id(s))
		return 1;
	if (strncmp(s, "arn:aws:iam::", 13) != 0 || strlen(s) < 26 ||
	    s[25] != ':')
		return 0;
	s += 26;
	return strcmp(s, "root") == 0 || (strncmp(s, "user/", 5) == 0 &&
	    s[5] != '\0') || (strncmp(s, "role/", 5) == 0 && s[5] != '\0');
}

static int
account_role_trust(struct emu_fixture *fx, struct emu_role *r,
    const json_t *v, const char *path, struct errbuf *err)
{
	size_t i;

	if (json_object_get(v, "trust") == NULL)
		return err_set(err, "%s.trust: missing; expected a list of "
		    "trusted account ids or principal ARNs", path);
	if (fxjson_strlist(fx->pool, v, "trust", path, &r->trust, &r->ntrust,
	    err) == -1)
		return -1;
	for (i = 0; i < r->ntrust; i++)
		if (!account_trust_entry(r->trust[i]))
			return err_set(err, "%s.trust[%zu]: \"%s\": expected an "
			    "account id or arn:aws:iam::ACCOUNT:root|user/NAME|"
			    "role/NAME", path, i, r->trust[i]);
	return 0;
}

static int
account_role_fields(struct emu_fixture *fx, struct emu_role *r,
    const json_t *v, const char *path, struct errbuf *err)
{
	long long max;
	size_t len;

	if (fxjson_is_object(v, path, err) == -1 ||
	    fxjson_keys(v, role_keys, path, err) == -1 ||
	    fxjson_str(fx->pool, v, "name", 1, path, &r->name, err) == -1 ||
	    fxjson_str(fx->pool, v, "path", 0, path, &r->path, err) == -1 ||
	    fxjson_str(fx->pool, v, "external_id", 0, path, &r->external_id,
	    err) == -1 ||
	    fxjson_int(v, "max_session_duration", 3600, 43200, 3600, path,
	    &max, err) == -1)
		return -1;
	r->max_session = (int)max;
	if (!account_iam_name(r->name, 1, 64))
		return err_set(err, "%s.name: \"%s\": expected 1..64 of letters, "
		    "digits, +=,.@_-", path, r->name);
	if (r->path == NULL)
		r->path = "/";
	len = strlen(r->path);
	if (r->path[0] != '/' || r->path[len - 1] != '/' || len > 512)
		return err_set(err, "%s.path: \"%s\": expected a path that "
		    "starts and ends with /", path, r->path);
	if (r->external_id != NULL && (strlen(r->external_id) < 2 ||
	    strlen(r->external_id) > 1224))
		return err_set(err, "%s.external_id: expected 2..1224 "
		    "characters", path);
	return account_role_trust(fx, r, v, path, err);
}

static int
account_roles(struct emu_fixture *fx, struct emu_account *a, const json_t *v,
    const char *path, struct errbuf *err)
{
	char where[FX_PATH], arn[1024], id[32];
	struct emu_role *r;
	json_t *e;
	size_t i, j;

	if (v == NULL)
		return 0;
	if (fxjson_is_array(v, path, err) == -1)
		return -1;
	a->roles = pool_alloc(fx->pool, (json_array_size(v) + 1) *
	    sizeof(*a->roles));
	json_array_foreach(v, i, e) {
		r = &a->roles[i];
		fxjson_path(where, sizeof(where), "%s[%zu]", path, i);
		if (account_role_fields(fx, r, e, where, err) == -1)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(a->roles[j].name, r->name) == 0)
				return err_set(err, "%s.name: \"%s\": already "
				    "used by %s[%zu]", where, r->name, path, j);
		snprintf(arn, sizeof(arn), "arn:aws:iam::%s:role%s%s", a->id,
		    r->path, r->name);
		ids_derive("AROA", arn, 17, id, sizeof(id));
		r->arn = pool_strdup(fx->pool, arn);
		r->role_id = pool_strdup(fx->pool, id);
		r->account = a;
		a->nroles = i + 1;
	}
	return 0;
}

static int
account_identity(struct emu_fixture *fx, struct emu_account *a,
    const json_t *v, const char *path, struct errbuf *err)
{
	const char *org = NULL;
	size_t i;

	if (fxjson_str(fx->pool, v, "id", 1, path, &a->id, err) == -1 ||
	    fxjson_str(fx->pool, v, "alias", 0, path, &a->alias, err) == -1 ||
	    fxjson_str(fx->pool, v, "name", 0, path, &a->name, err) == -1 ||
	    fxjson_str(fx->pool, v, "email", 0, path, &a->email, err) == -1 ||
	    fxjson_str(fx->pool, v, "org_status", 0, path, &org, err) == -1 ||
	    fxjson_bool(v, "management", 0, path, &a->management, err) == -1 ||
	    fxjson_bool(v, "cost_resource_data", 1, path, &a->ce_resource_data,
	    err) == -1)
		return -1;
	if (!fxjson_account_id(a->id))
		return err_set(err, "%s.id: \"%s\": expected 12 digits", path,
		    a->id);
	for (i = 0; org != NULL && i < sizeof(org_statuses) /
	    sizeof(org_statuses[0]); i++)
		if (strcmp(org, org_statuses[i].name) == 0)
			break;
	if (org != NULL && i == sizeof(org_statuses) / sizeof(org_statuses[0]))
		return err_set(err, "%s.org_status: \"%s\": expected ACTIVE, "
		    "SUSPENDED or NONE", path, org);
	a->org_status = org == NULL ? EMU_ORG_ACTIVE : org_statuses[i].status;
	if (a->alias == NULL)
		a->alias = "";
	if (a->name == NULL)
		a->name = a->alias[0] != '\0' ? a->alias : a->id;
	return 0;
}

int
fixture_account_load(struct emu_fixture *fx, struct emu_account *a,
    const json_t *v, const char *path, struct errbuf *err)
{
	char where[FX_PATH];
	json_t *creds;

	if (fxjson_is_object(v, path, err) == -1 ||
	    fxjson_keys(v, account_keys, path, err) == -1 ||
	    account_identity(fx, a, v, path, err) == -1)
		return -1;
	if (a->email == NULL) {
		fxjson_path(where, sizeof(where), "account-%s@example.com", a->id);
		a->email = pool_strdup(fx->pool, where);
	}
	if ((creds = json_object_get(v, "credentials")) != NULL &&
	    account_credentials(fx, a, creds, path, err) == -1)
		return -1;
	fxjson_path(where, sizeof(where), "%s.regions", path);
	if (account_regions(fx, a, json_object_get(v, "regions"), where,
	    err) == -1)
		return -1;
	fxjson_path(where, sizeof(where), "%s.roles", path);
	return account_roles(fx, a, json_object_get(v, "roles"), where, err);
}

size_t
fixture_account_count_resources(const json_t *v)
{
	const char *region;
	json_t *list;
	size_t n = 0;

	json_object_foreach(json_object_get(v, "resources"), region, list)
		n += json_array_size(list);
	return n;
}
