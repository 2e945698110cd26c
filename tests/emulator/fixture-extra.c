/*
 * The fixture's non-account sections: Cost Explorer rows, the organization
 * and its tag policies, web identity tokens, pagination quirks and fault
 * rules. Loaded and validated here; the services that use them read the
 * model.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errbuf.h"
#include "fixture.h"
#include "xmalloc.h"

static const char *const cost_keys[] = {
	"account", "service", "resource_id", "region", "day", "amount", "tags",
	NULL
};
static const char *const org_keys[] = { "id", "tag_policies", NULL };
static const char *const policy_keys[] = {
	"id", "name", "content", "targets", NULL
};
static const char *const webid_keys[] = {
	"token", "subject", "provider", "audience", "roles", NULL
};
static const char *const pagination_keys[] = {
	"short_page_every", "empty_page_every", NULL
};

/* "YYYY-MM-DD", or an integer <= 0: days relative to today (UTC). */
static int
extra_day(const json_t *v, const char *path, long *day, struct errbuf *err)
{
	char shown[64];

	if (json_is_integer(v) && json_integer_value(v) <= 0 &&
	    json_integer_value(v) > -100000) {
		*day = (long)(time(NULL) / 86400) + (long)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && isotime_parse_day(json_string_value(v),
	    day) == 0)
		return 0;
	fxjson_show(v, shown, sizeof(shown));
	return err_set(err, "%s.day: %s: expected \"YYYY-MM-DD\" or an integer "
	    "<= 0 (days before today)", path, shown);
}

static int
extra_cost(struct emu_fixture *fx, struct emu_cost *c, const json_t *v,
    const char *path, struct errbuf *err)
{
	json_t *amount = json_object_get(v, "amount"), *tags;
	char shown[64], where[FX_PATH];

	if (fxjson_is_object(v, path, err) == -1 ||
	    fxjson_keys(v, cost_keys, path, err) == -1 ||
	    fxjson_str(fx->pool, v, "account", 1, path, &c->account, err) == -1 ||
	    fxjson_str(fx->pool, v, "service", 1, path, &c->service, err) == -1 ||
	    fxjson_str(fx->pool, v, "resource_id", 0, path, &c->resource_id,
	    err) == -1 ||
	    fxjson_str(fx->pool, v, "region", 0, path, &c->region, err) == -1 ||
	    extra_day(json_object_get(v, "day"), path, &c->day, err) == -1)
		return -1;
	if (fixture_account(fx, c->account) == NULL)
		return err_set(err, "%s.account: \"%s\": expected the id of an "
		    "account in the fixture", path, c->account);
	if (!json_is_number(amount)) {
		fxjson_show(amount, shown, sizeof(shown));
		return err_set(err, "%s.amount: %s: expected a number of USD",
		    path, shown);
	}
	c->amount = json_number_value(amount);
	c->service = pool_intern(fx->pool, c->service);
	fxjson_path(where, sizeof(where), "%s.tags", path);
	if ((tags = json_object_get(v, "tags")) != NULL)
		return fxjson_tags(fx->pool, tags, where, &c->tags, &c->ntags,
		    err);
	return 0;
}

static int
extra_costs(struct emu_fixture *fx, const json_t *v, struct errbuf *err)
{
	char path[FX_PATH];
	json_t *e;
	size_t i;

	if (v == NULL)
		return 0;
	if (fxjson_is_array(v, "costs", err) == -1)
		return -1;
	fx->costs = xcalloc(json_array_size(v) + 1, sizeof(*fx->costs));
	json_array_foreach(v, i, e) {
		fxjson_path(path, sizeof(path), "costs[%zu]", i);
		if (extra_cost(fx, &fx->costs[i], e, path, err) == -1)
			return -1;
		fx->ncosts = i + 1;
	}
	return 0;
}

static int
extra_policy(struct emu_fixture *fx, struct emu_tag_policy *p,
    const json_t *v, const char *path, struct errbuf *err)
{
	json_t *content = json_object_get(v, "content");
	char where[FX_PATH];
	size_t i;

	if (fxjson_is_object(v, path, err) == -1 ||
	    fxjson_keys(v, policy_keys, path, err) == -1 ||
	    fxjson_str(fx->pool, v, "id", 1, path, &p->id, err) == -1 ||
	    fxjson_str(fx->pool, v, "name", 1, path, &p->name, err) == -1 ||
	    fxjson_strlist(fx->pool, v, "targets", path, &p->targets,
	    &p->ntargets, err) == -1)
		return -1;
	if (strncmp(p->id, "p-", 2) != 0 || strlen(p->id) < 10)
		return err_set(err, "%s.id: \"%s\": expected p- and at least 8 "
		    "characters", path, p->id);
	fxjson_path(where, sizeof(where), "%s.content", path);
	if (content == NULL || fxjson_is_object(content, where, err) == -1)
		return content == NULL ? err_set(err, "%s: missing; expected "
		    "the tag policy document as an object", where) : -1;
	p->content = content;	/* copied out of the load pool later */
	for (i = 0; i < p->ntargets; i++)
		if (strcmp(p->targets[i], "root") != 0 &&
		    fixture_account(fx, p->targets[i]) == NULL)
			return err_set(err, "%s.targets[%zu]: \"%s\": expected "
			    "root or an account id of the fixture", path, i,
			    p->targets[i]);
	return 0;
}

static int
extra_organization(struct emu_fixture *fx, const json_t *v,
    struct errbuf *err)
{
	json_t *list, *e;
	char path[FX_PATH];
	size_t i;

	if (v == NULL)
		return 0;
	if (fxjson_is_object(v, "organization", err) == -1 ||
	    fxjson_keys(v, org_keys, "organization", err) == -1 ||
	    fxjson_str(fx->pool, v, "id", 0, "organization", &fx->org_id,
	    err) == -1)
		return -1;
	if ((list = json_object_get(v, "tag_policies")) == NULL)
		return 0;
	if (fxjson_is_array(list, "organization.tag_policies", err) == -1)
		return -1;
	fx->policies = xcalloc(json_array_size(list) + 1, sizeof(*fx->policies));
	json_array_foreach(list, i, e) {
		fxjson_path(path, sizeof(path), "organization.tag_policies[%zu]",
		    i);
		fx->npolicies = i + 1;
		if (extra_policy(fx, &fx->policies[i], e, path, err) == -1)
			return -1;
	}
	return 0;
}

static int
extra_web_identity(struct emu_fixture *fx, struct emu_web_identity *w,
    const json_t *v, const char *path, struct errbuf *err)
{
	if (fxjson_is_object(v, path, err) == -1 ||
	    fxjson_keys(v, webid_keys, path, err) == -1 ||
	    fxjson_str(fx->pool, v, "token", 1, path, &w->token, err) == -1 ||
	    fxjson_str(fx->pool, v, "subject", 0, path, &w->subject, err) == -1 ||
	    fxjson_str(fx->pool, v, "provider", 0, path, &w->provider,
	    err) == -1 ||
	    fxjson_str(fx->pool, v, "audience", 0, path, &w->audience,
	    err) == -1 ||
	    fxjson_strlist(fx->pool, v, "roles", path, &w->roles, &w->nroles,
	    err) == -1)
		return -1;
	if (w->token[0] == '\0' || w->nroles == 0)
		return err_set(err, "%s: expected a non-empty token and at least "
		    "one role ARN in roles", path);
	if (w->subject == NULL)
		w->subject = "system:serviceaccount:default:tagwarden";
	if (w->provider == NULL)
		w->provider = "oidc.emulator.invalid";
	if (w->audience == NULL)
		w->audience = "sts.amazonaws.com";
	return 0;
}

static int
extra_web_identities(struct emu_fixture *fx, const json_t *v,
    struct errbuf *err)
{
	char path[FX_PATH];
	json_t *e;
	size_t i;

	if (v == NULL)
		return 0;
	if (fxjson_is_array(v, "web_identities", err) == -1)
		return -1;
	fx->web_ids = xcalloc(json_array_size(v) + 1, sizeof(*fx->web_ids));
	json_array_foreach(v, i, e) {
		fxjson_path(path, sizeof(path), "web_identities[%zu]", i);
		if (extra_web_identity(fx, &fx->web_ids[i], e, path, err) == -1)
			return -1;
		fx->nweb_ids = i + 1;
	}
	return 0;
}

static int
extra_pagination(struct emu_fixture *fx, const json_t *v, struct errbuf *err)
{
	long long shortp, emptyp;

	fx->short_page_every = 5;
	fx->empty_page_every = 7;
	if (v == NULL)
		return 0;
	if (fxjson_is_object(v, "pagination", err) == -1 ||
	    fxjson_keys(v, pagination_keys, "pagination", err) == -1 ||
	    fxjson_int(v, "short_page_every", 0, 1000, 5, "pagination", &shortp,
	    err) == -1 ||
	    fxjson_int(v, "empty_page_every", 0, 1000, 7, "pagination", &emptyp,
	    err) == -1)
		return -1;
	if (shortp == 1 || emptyp == 1)
		return err_set(err, "pagination: 1: every page would be short or "
		    "empty; expected 0 (never) or 2..1000");
	fx->short_page_every = (unsigned)shortp;
	fx->empty_page_every = (unsigned)emptyp;
	return 0;
}

int
fixture_extra_load(struct emu_fixture *fx, const json_t *root,
    struct errbuf *err)
{
	json_t *faults = json_object_get(root, "faults");

	if (extra_costs(fx, json_object_get(root, "costs"), err) == -1 ||
	    extra_organization(fx, json_object_get(root, "organization"),
	    err) == -1 ||
	    extra_web_identities(fx, json_object_get(root, "web_identities"),
	    err) == -1 ||
	    extra_pagination(fx, json_object_get(root, "pagination"), err) == -1)
		return -1;
	if (faults != NULL && fault_parse_list(faults, &fx->faults, "faults",
	    err) == -1)
		return -1;
	return 0;
}
