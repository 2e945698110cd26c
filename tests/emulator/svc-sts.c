/*
 * STS (Query protocol, 2011-06-15): GetCallerIdentity, AssumeRole with
 * AWS's validation, trust, ExternalId, MaxSessionDuration and role-chaining
 * rules, and AssumeRoleWithWebIdentity against the fixture's tokens.
 * Issued sessions go to session.c; --credential-lifetime shortens them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "emulator.h"

#define STS_CHAIN_MAX	3600	/* role chaining caps sessions at 1 h */
#define STS_VALIDATION	"1 validation error detected: "

static void
sts_invalid(struct emu_req *req, const char *value, const char *field,
    const char *constraint)
{
	if (value == NULL)
		reply_error(req, 400, "ValidationError", STS_VALIDATION "Value "
		    "null at '%s' failed to satisfy constraint: Member must not "
		    "be null", field);
	else
		reply_error(req, 400, "ValidationError", STS_VALIDATION "Value "
		    "'%s' at '%s' failed to satisfy constraint: Member must %s",
		    value, field, constraint);
}

static int
sts_session_name_ok(struct emu_req *req, const char *name)
{
	size_t i, len = name != NULL ? strlen(name) : 0;

	if (name == NULL || len < 2) {
		sts_invalid(req, name, "roleSessionName", "have length greater "
		    "than or equal to 2");
		return 0;
	}
	if (len > 64) {
		sts_invalid(req, name, "roleSessionName", "have length less "
		    "than or equal to 64");
		return 0;
	}
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("_+=,.@-", name[i]) == NULL) {
			sts_invalid(req, name, "roleSessionName", "satisfy "
			    "regular expression pattern: [\\w+=,.@-]*");
			return 0;
		}
	return 1;
}

static int
sts_duration(struct emu_req *req, long long *duration)
{
	const char *secs = request_param(req, "DurationSeconds");
	long long v;
	char *end;

	*duration = 3600;
	if (secs == NULL)
		return 0;
	v = strtoll(secs, &end, 10);
	if (*end == '\0' && end != secs && v >= 900 && v <= 43200) {
		*duration = v;
		return 0;
	}
	sts_invalid(req, secs, "durationSeconds", *end == '\0' && v > 43200 ?
	    "have value less than or equal to 43200" :
	    "have value greater than or equal to 900");
	return -1;
}

/* RoleArn, RoleSessionName and DurationSeconds as AWS validates them. */
static int
sts_validate(struct emu_req *req, long long *duration)
{
	const char *arn = request_param(req, "RoleArn");

	if (arn == NULL || strlen(arn) < 20) {
		sts_invalid(req, arn, "roleArn", "have length greater than or "
		    "equal to 20");
		return -1;
	}
	if (!sts_session_name_ok(req, request_param(req, "RoleSessionName")))
		return -1;
	return sts_duration(req, duration);
}

/* The principal a trust policy names: a user, or the role of a session. */
static int
sts_trusted(const struct emu_req *req, const struct emu_role *role)
{
	char who[512], root[64];
	size_t i;

	if (req->session != NULL)
		snprintf(who, sizeof(who), "%s", req->session->role->arn);
	else
		session_principal_arn(req, who, sizeof(who));
	snprintf(root, sizeof(root), "arn:aws:iam::%s:root", req->account->id);
	for (i = 0; i < role->ntrust; i++)
		if (strcmp(role->trust[i], req->account->id) == 0 ||
		    strcmp(role->trust[i], root) == 0 ||
		    strcmp(role->trust[i], who) == 0)
			return 1;
	return 0;
}

static void
sts_credentials_xml(struct emu_req *req, const struct emu_session *s)
{
	char expiration[32];

	isotime_format(s->expiration, 0, expiration);
	xml_open(req->out, "Credentials");
	xml_text(req->out, "AccessKeyId", s->access_key_id);
	xml_text(req->out, "SecretAccessKey", s->secret_access_key);
	xml_text(req->out, "SessionToken", s->session_token);
	xml_text(req->out, "Expiration", expiration);
	xml_close(req->out, "Credentials");
	xml_open(req->out, "AssumedRoleUser");
	xml_text(req->out, "AssumedRoleId", s->user_id);
	xml_text(req->out, "Arn", s->arn);
	xml_close(req->out, "AssumedRoleUser");
}

static const struct emu_session *
sts_issue(struct emu_req *req, const struct emu_role *role,
    long long duration)
{
	long lifetime = req->srv->credential_lifetime;

	if (lifetime > 0 && lifetime < duration)
		duration = lifetime;
	return session_issue(req->srv, role, request_param(req,
	    "RoleSessionName"), time(NULL) + (time_t)duration,
	    req->session != NULL);
}

static void
sts_get_caller_identity(struct emu_req *req)
{
	char arn[512], uid[256];

	session_principal_arn(req, arn, sizeof(arn));
	session_user_id(req, uid, sizeof(uid));
	reply_xml_begin(req);
	xml_text(req->out, "Arn", arn);
	xml_text(req->out, "UserId", uid);
	xml_text(req->out, "Account", req->account->id);
	reply_xml_end(req);
}

/* Permission first (AccessDenied), then the duration limits. */
static int
sts_assume_checks(struct emu_req *req, const struct emu_role *role,
    const char *arn, long long duration)
{
	const char *ext = request_param(req, "ExternalId");
	char who[512];

	session_principal_arn(req, who, sizeof(who));
	/* A suspended account's roles cannot be assumed. */
	if (role == NULL || !sts_trusted(req, role) ||
	    role->account->org_status == EMU_ORG_SUSPENDED ||
	    (role->external_id != NULL && (ext == NULL ||
	    strcmp(ext, role->external_id) != 0)))
		reply_error(req, 403, "AccessDenied", "User: %s is not "
		    "authorized to perform: sts:AssumeRole on resource: %s",
		    who, arn);
	else if (duration > role->max_session)
		reply_error(req, 400, "ValidationError", "The requested "
		    "DurationSeconds exceeds the MaxSessionDuration set for "
		    "this role.");
	else if (req->session != NULL && duration > STS_CHAIN_MAX)
		reply_error(req, 400, "ValidationError", "The requested "
		    "DurationSeconds exceeds the 1 hour session limit for roles "
		    "assumed by role chaining.");
	else if (!fixture_region_enabled(role->account, req->region))
		reply_error(req, 403, "RegionDisabledException", "STS is not "
		    "activated in this region for account:%s. Your account "
		    "administrator can activate STS in this region using the "
		    "IAM Console.", role->account->id);
	else
		return 0;
	return -1;
}

static void
sts_assume_role(struct emu_req *req)
{
	const char *arn = request_param(req, "RoleArn");
	const struct emu_role *role;
	long long duration;

	if (sts_validate(req, &duration) == -1)
		return;
	role = fixture_role_by_arn(req->srv->fx, arn);
	if (sts_assume_checks(req, role, arn, duration) == -1)
		return;
	reply_xml_begin(req);
	sts_credentials_xml(req, sts_issue(req, role, duration));
	reply_xml_end(req);
}

static const struct emu_web_identity *
sts_web_identity(struct emu_req *req, const char *token, const char *arn)
{
	const struct emu_fixture *fx = req->srv->fx;
	size_t i, j;

	for (i = 0; i < fx->nweb_ids; i++) {
		if (strcmp(fx->web_ids[i].token, token) != 0)
			continue;
		for (j = 0; j < fx->web_ids[i].nroles; j++)
			if (strcmp(fx->web_ids[i].roles[j], arn) == 0)
				return &fx->web_ids[i];
		reply_error(req, 403, "AccessDenied", "Not authorized to "
		    "perform sts:AssumeRoleWithWebIdentity");
		return NULL;
	}
	reply_error(req, 400, "InvalidIdentityToken", "The web identity token "
	    "is not one of the fixture's web_identities.");
	return NULL;
}

static void
sts_assume_role_web_identity(struct emu_req *req)
{
	const char *arn = request_param(req, "RoleArn");
	const char *token = request_param(req, "WebIdentityToken");
	const struct emu_web_identity *w;
	const struct emu_role *role;
	long long duration;

	if (sts_validate(req, &duration) == -1)
		return;
	if (token == NULL || strlen(token) < 4) {
		sts_invalid(req, token, "webIdentityToken", "have length "
		    "greater than or equal to 4");
		return;
	}
	if ((w = sts_web_identity(req, token, arn)) == NULL)
		return;
	if ((role = fixture_role_by_arn(req->srv->fx, arn)) == NULL) {
		reply_error(req, 403, "AccessDenied", "Not authorized to "
		    "perform sts:AssumeRoleWithWebIdentity");
		return;
	}
	if (duration > role->max_session) {
		reply_error(req, 400, "ValidationError", "The requested "
		    "DurationSeconds exceeds the MaxSessionDuration set for "
		    "this role.");
		return;
	}
	reply_xml_begin(req);
	sts_credentials_xml(req, sts_issue(req, role, duration));
	xml_text(req->out, "SubjectFromWebIdentityToken", w->subject);
	xml_text(req->out, "Provider", w->provider);
	xml_text(req->out, "Audience", w->audience);
	reply_xml_end(req);
}

const struct emu_op svc_sts_ops[] = {
	{ "GetCallerIdentity", 0, sts_get_caller_identity },
	{ "AssumeRole", 0, sts_assume_role },
	{ "AssumeRoleWithWebIdentity", EMU_OP_UNSIGNED,
	    sts_assume_role_web_identity },
	{ NULL, 0, NULL },
};
