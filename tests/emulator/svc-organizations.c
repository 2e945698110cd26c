/*
 * Organizations (JSON 1.1, AWSOrganizationsV20161128, global): ListAccounts
 * and ListPolicies for the management account, DescribeEffectivePolicy for
 * tag policies, merged from the policies attached to the root and to the
 * target account the way AWS computes an effective tag policy.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator.h"
#include "errbuf.h"

#define ORG_PAGE_MAX		20	/* the model's MaxResults */
#define ORG_JOINED_BASE		1577836800	/* 2020-01-01T00:00:00Z */
#define ORG_POLICY_UPDATED	1704067200	/* 2024-01-01T00:00:00Z */

static const char *const org_policy_types[] = {
	"SERVICE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY",
	"AISERVICES_OPT_OUT_POLICY", NULL
};

static const struct emu_account *
org_management(const struct emu_fixture *fx)
{
	size_t i;

	for (i = 0; i < fx->naccounts; i++)
		if (fx->accounts[i].management)
			return &fx->accounts[i];
	return NULL;
}

static int
org_member(const struct emu_fixture *fx, const struct emu_account *a)
{
	return org_management(fx) != NULL && a->org_status != EMU_ORG_NONE;
}

/* The fixture's id, or one derived from the management account's id. */
static void
org_id(const struct emu_fixture *fx, char *out, size_t outsz)
{
	size_t i;

	if (fx->org_id != NULL) {
		snprintf(out, outsz, "%s", fx->org_id);
		return;
	}
	ids_derive("o-", org_management(fx)->id, 10, out, outsz);
	for (i = 2; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* -1 (replied) unless the caller may use the operation. */
static int
org_authorize(struct emu_req *req, int management_only)
{
	const struct emu_fixture *fx = req->srv->fx;

	if (!org_member(fx, req->account)) {
		reply_error(req, 400, "AWSOrganizationsNotInUseException",
		    "Your account is not a member of an organization.");
		return -1;
	}
	if (management_only && !req->account->management) {
		reply_error(req, 400, "AccessDeniedException", "You don't have "
		    "permissions to access this resource.");
		return -1;
	}
	return 0;
}

static int
org_max_results(struct emu_req *req, size_t *size)
{
	json_t *v = json_object_get(req->json, "MaxResults");

	*size = ORG_PAGE_MAX;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 1 &&
	    json_integer_value(v) <= ORG_PAGE_MAX) {
		*size = (size_t)json_integer_value(v);
		return 0;
	}
	reply_error(req, 400, "InvalidInputException", "MaxResults must be "
	    "1..20 (MAX_VALUE_EXCEEDED or MIN_VALUE_EXCEEDED).");
	return -1;
}

static int
org_page_start(struct emu_req *req, struct page *pg)
{
	struct errbuf err;
	size_t size;

	if (org_max_results(req, &size) == -1)
		return -1;
	if (page_start(req, json_string_value(json_object_get(req->json,
	    "NextToken")), size, pg, &err) == 0)
		return 0;
	reply_error(req, 400, "InvalidInputException", "The NextToken is not "
	    "valid (INVALID_PAGINATION_TOKEN); start again without it.");
	return -1;
}

static void
org_reply_page(struct emu_req *req, const char *list_name, json_t *list,
    const struct page *pg, size_t next, size_t total)
{
	json_t *body = json_pack("{s:o}", list_name, list);
	char token[512];

	page_finish(req, pg, next, total, token, sizeof(token));
	if (token[0] != '\0')
		json_object_set_new(body, "NextToken", json_string(token));
	reply_json(req, body);
}

static json_t *
org_account(const struct emu_fixture *fx, size_t i)
{
	const struct emu_account *a = &fx->accounts[i];
	const char *mgmt = org_management(fx)->id;
	char arn[256], oid[64];

	org_id(fx, oid, sizeof(oid));
	snprintf(arn, sizeof(arn), "arn:aws:organizations::%s:account/%s/%s",
	    mgmt, oid, a->id);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f}", "Id", a->id,
	    "Arn", arn, "Email", a->email, "Name", a->name,
	    "Status", a->org_status == EMU_ORG_SUSPENDED ? "SUSPENDED" :
	    "ACTIVE", "JoinedMethod", a->management ? "INVITED" : "CREATED",
	    "JoinedTimestamp", (double)(ORG_JOINED_BASE + (long)i * 86400));
}

static void
org_list_accounts(struct emu_req *req)
{
	const struct emu_fixture *fx = req->srv->fx;
	struct page pg;
	json_t *list;
	size_t i;

	if (org_authorize(req, 1) == -1 || org_page_start(req, &pg) == -1)
		return;
	list = json_array();
	for (i = pg.resume; i < fx->naccounts && pg.taken < pg.limit; i++)
		if (org_member(fx, &fx->accounts[i])) {
			json_array_append_new(list, org_account(fx, i));
			pg.taken++;
		}
	org_reply_page(req, "Accounts", list, &pg, i, fx->naccounts);
}

static int
org_known_type(const char *type, const char *const *types)
{
	size_t i;

	for (i = 0; type != NULL && types[i] != NULL; i++)
		if (strcmp(types[i], type) == 0)
			return 1;
	return 0;
}

static json_t *
org_policy_summary(const struct emu_fixture *fx,
    const struct emu_tag_policy *p)
{
	char arn[512], oid[64];

	org_id(fx, oid, sizeof(oid));
	snprintf(arn, sizeof(arn), "arn:aws:organizations::%s:policy/%s/"
	    "tag_policy/%s", org_management(fx)->id, oid, p->id);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "Id", p->id,
	    "Arn", arn, "Name", p->name, "Description", "",
	    "Type", "TAG_POLICY", "AwsManaged", 0);
}

/* The fixture holds tag policies only; other types list nothing. */
static void
org_list_policies(struct emu_req *req)
{
	const struct emu_fixture *fx = req->srv->fx;
	const char *filter = json_string_value(json_object_get(req->json,
	    "Filter"));
	size_t i, total;
	struct page pg;
	json_t *list;

	if (org_authorize(req, 1) == -1)
		return;
	if (!org_known_type(filter, org_policy_types)) {
		reply_error(req, 400, "InvalidInputException", "Filter: %s is "
		    "not a policy type; expected SERVICE_CONTROL_POLICY, "
		    "TAG_POLICY, BACKUP_POLICY or AISERVICES_OPT_OUT_POLICY.",
		    filter != NULL ? filter : "(missing)");
		return;
	}
	if (org_page_start(req, &pg) == -1)
		return;
	total = strcmp(filter, "TAG_POLICY") == 0 ? fx->npolicies : 0;
	list = json_array();
	for (i = pg.resume; i < total && pg.taken < pg.limit; i++, pg.taken++)
		json_array_append_new(list, org_policy_summary(fx,
		    &fx->policies[i]));
	org_reply_page(req, "Policies", list, &pg, i, total);
}

/* A list value for @@append and @@remove, or a one-item list. */
static json_t *
org_as_list(json_t *v)
{
	return json_is_array(v) ? json_deep_copy(v) : json_pack("[O]", v);
}

static void
org_remove_items(json_t *list, json_t *remove)
{
	json_t *gone = org_as_list(remove), *g;
	size_t i, j;

	json_array_foreach(gone, j, g)
		for (i = json_array_size(list); i-- > 0;)
			if (json_equal(json_array_get(list, i), g))
				json_array_remove(list, i);
	json_decref(gone);
}

/*
 * One field of a tag entry (tag_key, tag_value, enforced_for, ...): a
 * child's @@assign replaces what the parent set, @@append adds to it and
 * @@remove takes items out; the effective policy shows plain values.
 */
static void
org_merge_field(json_t *out, const char *field, json_t *v)
{
	json_t *op, *cur, *add;

	if (!json_is_object(v)) {
		json_object_set_new(out, field, json_deep_copy(v));
		return;
	}
	if ((op = json_object_get(v, "@@assign")) != NULL)
		json_object_set_new(out, field, json_deep_copy(op));
	if ((op = json_object_get(v, "@@append")) != NULL) {
		cur = json_object_get(out, field);
		if (!json_is_array(cur)) {
			cur = cur != NULL ? org_as_list(cur) : json_array();
			json_object_set_new(out, field, cur);
		}
		add = org_as_list(op);
		json_array_extend(cur, add);
		json_decref(add);
	}
	if ((op = json_object_get(v, "@@remove")) != NULL &&
	    json_is_array(cur = json_object_get(out, field)))
		org_remove_items(cur, op);
}

/* Keys of "tags" compare without case; the effective policy lowercases. */
static void
org_merge(json_t *tags, const json_t *content)
{
	json_t *entries = json_object_get(content, "tags"), *entry, *out, *v;
	const char *name, *field;
	char lower[256];
	size_t i;

	json_object_foreach(entries, name, entry) {
		if (strncmp(name, "@@", 2) == 0 || !json_is_object(entry))
			continue;
		for (i = 0; name[i] != '\0' && i < sizeof(lower) - 1; i++)
			lower[i] = (char)tolower((unsigned char)name[i]);
		lower[i] = '\0';
		if ((out = json_object_get(tags, lower)) == NULL) {
			out = json_object();
			json_object_set_new(tags, lower, out);
		}
		json_object_foreach(entry, field, v)
			if (strncmp(field, "@@", 2) != 0)
				org_merge_field(out, field, v);
	}
}

static int
org_attached(const struct emu_tag_policy *p, const char *target)
{
	size_t i;

	for (i = 0; i < p->ntargets; i++)
		if (strcmp(p->targets[i], target) == 0)
			return 1;
	return 0;
}

/* Root first, then the account: the nearer policy has the last word. */
static json_t *
org_effective(const struct emu_fixture *fx, const char *account)
{
	const char *levels[2] = { "root", account };
	json_t *tags = json_object();
	size_t i, l;
	int any = 0;

	for (l = 0; l < 2; l++)
		for (i = 0; i < fx->npolicies; i++)
			if (org_attached(&fx->policies[i], levels[l])) {
				org_merge(tags, fx->policies[i].content);
				any = 1;
			}
	if (!any) {
		json_decref(tags);
		return NULL;
	}
	return json_pack("{s:o}", "tags", tags);
}

static int
org_account_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return i == 12;
}

/*
 * The target defaults to the caller's account; a member may ask about
 * itself only, the management account about any account of the
 * organization. Roots and OUs are not targets of this operation.
 */
static int
org_effective_target(struct emu_req *req, const char **target)
{
	const struct emu_fixture *fx = req->srv->fx;
	json_t *v = json_object_get(req->json, "TargetId");
	const struct emu_account *a;
	const char *t = v != NULL ? json_string_value(v) : req->account->id;

	if (t == NULL || !org_account_id(t)) {
		reply_error(req, 400, "InvalidInputException", "TargetId: %s: "
		    "expected the 12-digit id of an account; roots and OUs "
		    "have no effective policy of their own.", t != NULL ? t :
		    "(not a string)");
		return -1;
	}
	if (strcmp(t, req->account->id) != 0 && !req->account->management) {
		reply_error(req, 400, "AccessDeniedException", "You don't have "
		    "permissions to access this resource.");
		return -1;
	}
	if ((a = fixture_account(fx, t)) == NULL || !org_member(fx, a)) {
		reply_error(req, 400, "TargetNotFoundException", "We can't "
		    "find a root, OU, account, or policy with the TargetId "
		    "that you specified.");
		return -1;
	}
	*target = t;
	return 0;
}

static void
org_describe_effective_policy(struct emu_req *req)
{
	static const char *const types[] = {
		"TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY", NULL
	};
	const char *type = json_string_value(json_object_get(req->json,
	    "PolicyType")), *target;
	json_t *eff;
	char *text;

	if (org_authorize(req, 0) == -1)
		return;
	if (!org_known_type(type, types)) {
		reply_error(req, 400, "InvalidInputException", "PolicyType: "
		    "%s: expected TAG_POLICY, BACKUP_POLICY or "
		    "AISERVICES_OPT_OUT_POLICY.", type != NULL ? type :
		    "(missing)");
		return;
	}
	if (org_effective_target(req, &target) == -1)
		return;
	eff = strcmp(type, "TAG_POLICY") == 0 ?
	    org_effective(req->srv->fx, target) : NULL;
	if (eff == NULL) {
		reply_error(req, 400, "EffectivePolicyNotFoundException", "No "
		    "effective policy of specified type is found for this "
		    "target.");
		return;
	}
	text = json_dumps(eff, JSON_COMPACT);
	reply_json(req, json_pack("{s:{s:s, s:f, s:s, s:s}}", "EffectivePolicy",
	    "PolicyContent", text, "LastUpdatedTimestamp",
	    (double)ORG_POLICY_UPDATED, "TargetId", target, "PolicyType",
	    type));
	free(text);
	json_decref(eff);
}

const struct emu_op svc_organizations_ops[] = {
	{ "ListAccounts", 0, org_list_accounts },
	{ "ListPolicies", 0, org_list_policies },
	{ "DescribeEffectivePolicy", 0, org_describe_effective_policy },
	{ NULL, 0, NULL },
};
