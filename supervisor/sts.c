/*
 * STS for the supervisor: GetCallerIdentity once, then per account either
 * the base credentials (the local account) or AssumeRole, cached per
 * (account, role ARN). Requests wait on the one call in flight for their
 * account; every answer reaches its caller through its own deferred event,
 * so no callback ever runs inside an sts_* function.
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "awsxml.h"
#include "config.h"
#include "creds.h"
#include "errbuf.h"
#include "evcurl.h"
#include "http.h"
#include "log.h"
#include "queue-compat.h"
#include "sts.h"
#include "xmalloc.h"

#define STS_VERSION	"2011-06-15"
#define STS_PREFIX	"tagwarden-"

typedef void (*sts_id_cb)(const char *, const char *, const char *, void *);
typedef void (*sts_creds_cb)(const struct aws_creds *, const char *,
    const char *, void *);

/* A caller waiting for an STS call: identity (id_done) or credentials. */
struct sts_waiter {
	sts_id_cb		 id_done;
	sts_creds_cb		 creds_done;
	void			*arg;
	char			 account[CONFIG_ACCOUNT_ID_LEN + 1];
	int			 force;
	TAILQ_ENTRY(sts_waiter)	 entry;
};
TAILQ_HEAD(sts_waiters, sts_waiter);

/* One STS call in flight and the callers it will answer. */
struct sts_op {
	struct http_call	*call;
	struct evcurl_xfer	*xfer;
	struct sts_waiters	 waiters;
};

/* The cache row of one (account, role ARN). */
struct sts_role {
	struct sts		*sts;
	char			 account[CONFIG_ACCOUNT_ID_LEN + 1];
	char			*role_arn;
	struct aws_creds	*creds;		/* NULL until the first success */
	struct sts_op		 op;
	TAILQ_ENTRY(sts_role)	 entry;
};

/* An answer on its way to a caller, fired from its own event. */
struct sts_reply {
	struct sts		*sts;
	struct event		*ev;
	sts_id_cb		 id_done;
	sts_creds_cb		 creds_done;
	void			*arg;
	struct aws_creds	*creds;
	char			*account;	/* identity answers */
	char			*arn;		/* caller ARN or role ARN */
	char			*error;
	TAILQ_ENTRY(sts_reply)	 entry;
};

struct sts {
	struct event_base	*base;
	const struct config	*cfg;
	struct evcurl		*ec;
	struct http_client	*http;
	struct aws_creds	*base_creds;
	char			 local_account[CONFIG_ACCOUNT_ID_LEN + 1];
	char			*local_arn;
	struct sts_op		 identity;
	TAILQ_HEAD(, sts_role)	 roles;
	TAILQ_HEAD(, sts_reply)	 replies;
	unsigned long		 assume_calls;
};

static void	sts_resolve(struct sts *, struct sts_waiter *);

/* Pure pieces. */

void
sts_session_name(const char *account_id, char *buf, size_t size)
{
	size_t i, max;

	if (size == 0)
		return;
	max = size - 1 < STS_SESSION_NAME_MAX ? size - 1 : STS_SESSION_NAME_MAX;
	snprintf(buf, max + 1, "%s%s", STS_PREFIX, account_id);
	for (i = 0; buf[i] != '\0'; i++)
		if (!isalnum((unsigned char)buf[i]) &&
		    strchr("_+=,.@-", buf[i]) == NULL)
			buf[i] = '-';
}

enum sts_cache_action
sts_cache_decide(const struct aws_creds *cached, int force, time_t now)
{
	if (cached == NULL)
		return STS_CACHE_FETCH;
	if (creds_expiring(cached, now, STS_REFRESH_MARGIN_S))
		return STS_CACHE_REFRESH;
	return force ? STS_CACHE_FORCE : STS_CACHE_USE;
}

static int
sts_account_valid(const char *s)
{
	size_t i;

	for (i = 0; i < CONFIG_ACCOUNT_ID_LEN; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return s[i] == '\0';
}

/* Secrets sit in the reply body and in the parsed tree: wipe both. */
static void
sts_xml_wipe(struct awsxml_node *n)
{
	for (; n != NULL; n = n->next) {
		explicit_bzero(n->text, strlen(n->text));
		sts_xml_wipe(n->first_child);
	}
}

static void
sts_call_free(struct http_call *call)
{
	struct http_response *r;

	if (call == NULL)
		return;
	r = http_call_response(call);
	if (r->body != NULL)
		explicit_bzero(r->body, r->body_len);
	http_call_free(call);
}

/* Deferred answers. */

static void
sts_reply_free(struct sts_reply *r)
{
	if (r->ev != NULL)
		event_free(r->ev);
	creds_free(r->creds);
	free(r->account);
	free(r->arn);
	free(r->error);
	free(r);
}

static void
sts_reply_event(evutil_socket_t fd, short what, void *arg)
{
	struct sts_reply *r = arg;

	(void)fd;
	(void)what;
	/* Unhooked first: the callback may free the sts. */
	TAILQ_REMOVE(&r->sts->replies, r, entry);
	if (r->id_done != NULL)
		r->id_done(r->account, r->arn, r->error, r->arg);
	else
		r->creds_done(r->creds, r->arn, r->error, r->arg);
	sts_reply_free(r);
}

/* Queue the answer for w (which is freed) and make it fire. */
static struct sts_reply *
sts_reply_new(struct sts *sts, struct sts_waiter *w, const char *arn,
    const char *error)
{
	struct sts_reply *r;

	r = xcalloc(1, sizeof(*r));
	r->sts = sts;
	r->id_done = w->id_done;
	r->creds_done = w->creds_done;
	r->arg = w->arg;
	r->arn = arn != NULL ? xstrdup(arn) : NULL;
	r->error = error != NULL ? xstrdup(error) : NULL;
	if ((r->ev = event_new(sts->base, -1, 0, sts_reply_event, r)) == NULL)
		fatalx("sts: cannot create an event");
	TAILQ_INSERT_TAIL(&sts->replies, r, entry);
	event_active(r->ev, EV_TIMEOUT, 1);
	free(w);
	return r;
}

static void
sts_reply_creds(struct sts *sts, struct sts_waiter *w,
    const struct aws_creds *creds, const char *role_arn, const char *error)
{
	struct sts_reply *r;

	r = sts_reply_new(sts, w, role_arn, creds != NULL ? NULL : error);
	r->creds = creds_dup(creds);
}

static void
sts_reply_identity(struct sts *sts, struct sts_waiter *w, const char *error)
{
	struct sts_reply *r;

	r = sts_reply_new(sts, w, error == NULL ? sts->local_arn : NULL, error);
	if (error == NULL)
		r->account = xstrdup(sts->local_account);
}

static struct sts_waiter *
sts_waiter_new(sts_id_cb id_done, sts_creds_cb creds_done, void *arg,
    const char *account, int force)
{
	struct sts_waiter *w;

	w = xcalloc(1, sizeof(*w));
	w->id_done = id_done;
	w->creds_done = creds_done;
	w->arg = arg;
	if (account != NULL)
		snprintf(w->account, sizeof(w->account), "%s", account);
	w->force = force;
	return w;
}

static void
sts_waiters_free(struct sts_waiters *list)
{
	struct sts_waiter *w;

	while ((w = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, w, entry);
		free(w);
	}
}

/* STS calls. */

/* A Query POST to the regional endpoint of AWS_REGION, run on evcurl. */
static void
sts_op_start(struct sts *sts, struct sts_op *op, const char *form,
    void (*done)(struct http_call *, int, const char *, void *), void *arg)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	if ((req.service = aws_service_find("sts")) == NULL)
		fatalx("sts: no sts row in the http service table");
	req.region = sts->cfg->aws_region;
	req.method = "POST";
	req.path = "/";
	req.body = form;
	req.body_len = strlen(form);
	op->call = http_call_new(sts->http, &req, arg);
	op->xfer = evcurl_run(sts->ec, op->call, sts->base_creds, done, arg);
}

/* The call has called back: forget it (the waiters stay). */
static void
sts_op_end(struct sts_op *op)
{
	sts_call_free(op->call);
	op->call = NULL;
	op->xfer = NULL;
}

static void
sts_op_cancel(struct sts_op *op)
{
	evcurl_cancel(op->xfer);
	sts_op_end(op);
	sts_waiters_free(&op->waiters);
}

/* GetCallerIdentity. */

static int
sts_identity_parse(struct sts *sts, struct http_call *call,
    struct errbuf *err)
{
	const struct http_response *r = http_call_response(call);
	struct awsxml_node *root;
	const char *account, *arn;
	int rc = -1;

	if ((root = awsxml_parse(r->body, r->body_len, err)) == NULL)
		return err_prefix(err, "sts GetCallerIdentity reply");
	account = awsxml_text(root, "GetCallerIdentityResult/Account");
	arn = awsxml_text(root, "GetCallerIdentityResult/Arn");
	if (account == NULL || !sts_account_valid(account) || arn == NULL)
		err_set(err, "sts GetCallerIdentity reply <%s> has no 12-digit "
		    "GetCallerIdentityResult/Account or no Arn", root->name);
	else {
		snprintf(sts->local_account, sizeof(sts->local_account), "%s",
		    account);
		free(sts->local_arn);
		sts->local_arn = xstrdup(arn);
		rc = 0;
	}
	awsxml_free(root);
	return rc;
}

/* A credentials waiter whose local account could not be learned. */
static void
sts_identity_failed(struct sts *sts, struct sts_waiter *w, const char *error)
{
	char *role_arn, *msg;

	role_arn = config_role_arn(sts->cfg, w->account);
	msg = xprintf("cannot tell whether account %s is the local one: %s",
	    w->account, error);
	sts_reply_creds(sts, w, NULL, role_arn, msg);
	free(msg);
	free(role_arn);
}

static void
sts_identity_done(struct http_call *call, int rc, const char *error,
    void *arg)
{
	struct sts *sts = arg;
	struct sts_waiters list;
	struct sts_waiter *w;
	struct errbuf err;

	if (rc == 0 && sts_identity_parse(sts, call, &err) == -1)
		error = err.msg;
	else if (rc == 0) {
		error = NULL;
		log_info("sts: local account %s (%s)", sts->local_account,
		    sts->local_arn);
	}
	TAILQ_INIT(&list);
	TAILQ_CONCAT(&list, &sts->identity.waiters, entry);
	while ((w = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, w, entry);
		if (w->id_done != NULL)
			sts_reply_identity(sts, w, error);
		else if (error != NULL)
			sts_identity_failed(sts, w, error);
		else
			sts_resolve(sts, w);
	}
	/* error may point into the call's buffers until here. */
	sts_op_end(&sts->identity);
}

/* Queue w behind GetCallerIdentity, starting it unless in flight. */
static void
sts_identity_wait(struct sts *sts, struct sts_waiter *w)
{
	TAILQ_INSERT_TAIL(&sts->identity.waiters, w, entry);
	if (sts->identity.call != NULL)
		return;
	log_debug("sts: GetCallerIdentity in %s", sts->cfg->aws_region);
	sts_op_start(sts, &sts->identity,
	    "Action=GetCallerIdentity&Version=" STS_VERSION, sts_identity_done,
	    sts);
}

void
sts_caller_identity(struct sts *sts, sts_id_cb done, void *arg)
{
	struct sts_waiter *w;

	w = sts_waiter_new(done, NULL, arg, NULL, 0);
	if (sts->local_account[0] != '\0')
		sts_reply_identity(sts, w, NULL);
	else
		sts_identity_wait(sts, w);
}

/* AssumeRole. */

/* The Query form; every value escaped, the ExternalId wiped after use. */
static char *
sts_assume_form(const struct sts *sts, const struct sts_role *role)
{
	const char *ext = sts->cfg->assume_role_external_id;
	char name[STS_SESSION_NAME_MAX + 1], *arn, *sess, *eid, *form;

	sts_session_name(role->account, name, sizeof(name));
	arn = curl_easy_escape(NULL, role->role_arn, 0);
	sess = curl_easy_escape(NULL, name, 0);
	eid = ext != NULL ? curl_easy_escape(NULL, ext, 0) : NULL;
	if (arn == NULL || sess == NULL || (ext != NULL && eid == NULL))
		fatalx("sts: curl_easy_escape: out of memory");
	form = xprintf("Action=AssumeRole&Version=" STS_VERSION "&RoleArn=%s"
	    "&RoleSessionName=%s&DurationSeconds=%d%s%s", arn, sess,
	    sts->cfg->assume_role_session_duration, eid != NULL ?
	    "&ExternalId=" : "", eid != NULL ? eid : "");
	if (eid != NULL) {
		explicit_bzero(eid, strlen(eid));
		curl_free(eid);
	}
	curl_free(arn);
	curl_free(sess);
	return form;
}

static int
sts_assume_parse(struct http_call *call, struct aws_creds **out,
    struct errbuf *err)
{
	static const char *const fields[] = { "AccessKeyId",
	    "SecretAccessKey", "SessionToken", "Expiration" };
	const struct http_response *r = http_call_response(call);
	const struct awsxml_node *c;
	struct awsxml_node *root;
	const char *v[4];
	time_t exp;
	size_t i;
	int rc = 0;

	if ((root = awsxml_parse(r->body, r->body_len, err)) == NULL)
		return err_prefix(err, "STS reply");
	c = awsxml_find(root, "AssumeRoleResult/Credentials");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]) && rc == 0; i++)
		if ((v[i] = awsxml_text(c, fields[i])) == NULL || *v[i] == '\0')
			rc = err_set(err, "STS reply <%s> has no AssumeRoleResult/"
			    "Credentials/%s", root->name, fields[i]);
	if (rc == 0 && creds_parse_expiration(v[3], &exp, err) == -1)
		rc = err_prefix(err, "STS reply Expiration");
	if (rc == 0)
		*out = creds_new(v[0], v[1], v[2], exp, "assume-role");
	sts_xml_wipe(root);
	awsxml_free(root);
	return rc;
}

/*
 * The contract's sentence: "AssumeRole failed for <role ARN>: " then the
 * AWS code and message, or what http.c says after "<what> failed: " (the
 * curl error and attempt count, or the bare HTTP status).
 */
static void
sts_assume_error(const struct sts_role *role, struct http_call *call,
    const char *error, struct errbuf *err)
{
	const struct http_response *r = http_call_response(call);
	const char *tail;

	if (r->status >= 300 && r->error_code[0] != '\0' &&
	    r->error_message[0] != '\0')
		err_set(err, "AssumeRole failed for %s: %s: %s", role->role_arn,
		    r->error_code, r->error_message);
	else if (r->status >= 300 && r->error_code[0] != '\0')
		err_set(err, "AssumeRole failed for %s: %s (HTTP %ld)",
		    role->role_arn, r->error_code, r->status);
	else {
		tail = strstr(error, " failed: ");
		err_set(err, "AssumeRole failed for %s: %s", role->role_arn,
		    tail != NULL ? tail + 9 : error);
	}
}

static void
sts_assume_done(struct http_call *call, int rc, const char *error, void *arg)
{
	struct sts_role *role = arg;
	struct aws_creds *creds = NULL;
	struct sts_waiter *w;
	struct errbuf err;

	if (rc == -1)
		sts_assume_error(role, call, error, &err);
	else if (sts_assume_parse(call, &creds, &err) == -1)
		err_prefix(&err, "AssumeRole failed for %s", role->role_arn);
	sts_op_end(&role->op);
	if (creds != NULL) {
		creds_free(role->creds);
		role->creds = creds;
		log_debug("sts: assumed %s for account %s", role->role_arn,
		    role->account);
	} else
		log_warnx("sts: %s", err.msg);
	while ((w = TAILQ_FIRST(&role->op.waiters)) != NULL) {
		TAILQ_REMOVE(&role->op.waiters, w, entry);
		sts_reply_creds(role->sts, w, creds, role->role_arn, err.msg);
	}
}

static void
sts_assume_start(struct sts *sts, struct sts_role *role)
{
	char *form;

	form = sts_assume_form(sts, role);
	log_debug("sts: AssumeRole %s in %s", role->role_arn,
	    sts->cfg->aws_region);
	sts_op_start(sts, &role->op, form, sts_assume_done, role);
	explicit_bzero(form, strlen(form));
	free(form);
	sts->assume_calls++;
}

static struct sts_role *
sts_role_get(struct sts *sts, const char *account)
{
	struct sts_role *role;
	char *arn;

	arn = config_role_arn(sts->cfg, account);
	TAILQ_FOREACH(role, &sts->roles, entry)
		if (strcmp(role->account, account) == 0 &&
		    strcmp(role->role_arn, arn) == 0) {
			free(arn);
			return role;
		}
	role = xcalloc(1, sizeof(*role));
	role->sts = sts;
	snprintf(role->account, sizeof(role->account), "%s", account);
	role->role_arn = arn;
	TAILQ_INIT(&role->op.waiters);
	TAILQ_INSERT_TAIL(&sts->roles, role, entry);
	return role;
}

/* Why a cached credential is not used, at INFO: the operator sees renewals. */
static void
sts_cache_log(const struct sts_role *role, enum sts_cache_action action,
    time_t now)
{
	switch (action) {
	case STS_CACHE_REFRESH:
		log_info("refreshing credentials for account %s (they expire "
		    "in %lld s)", role->account,
		    (long long)(role->creds->expiration - now));
		break;
	case STS_CACHE_FORCE:
		log_info("refreshing credentials for account %s (asked to "
		    "skip the cache)", role->account);
		break;
	default:
		break;
	}
}

/* The local account is known: answer w from the base, the cache or STS. */
static void
sts_resolve(struct sts *sts, struct sts_waiter *w)
{
	enum sts_cache_action action;
	struct sts_role *role;
	time_t now = time(NULL);

	if (strcmp(w->account, sts->local_account) == 0) {
		sts_reply_creds(sts, w, sts->base_creds, NULL, NULL);
		return;
	}
	role = sts_role_get(sts, w->account);
	if (role->op.call != NULL) {	/* share the call in flight */
		TAILQ_INSERT_TAIL(&role->op.waiters, w, entry);
		return;
	}
	action = sts_cache_decide(role->creds, w->force, now);
	if (action == STS_CACHE_USE) {
		sts_reply_creds(sts, w, role->creds, role->role_arn, NULL);
		return;
	}
	sts_cache_log(role, action, now);
	TAILQ_INSERT_TAIL(&role->op.waiters, w, entry);
	sts_assume_start(sts, role);
}

void
sts_credentials(struct sts *sts, const char *account_id, int force,
    sts_creds_cb done, void *arg)
{
	struct sts_waiter *w;
	char shown[64], *msg;

	if (account_id == NULL)
		account_id = "";
	w = sts_waiter_new(NULL, done, arg, account_id, force);
	if (!sts_account_valid(account_id)) {
		awsxml_errcpy(shown, sizeof(shown), account_id);
		msg = xprintf("account ID \"%s\": expected 12 digits", shown);
		sts_reply_creds(sts, w, NULL, NULL, msg);
		free(msg);
	} else if (sts->local_account[0] == '\0')
		sts_identity_wait(sts, w);
	else
		sts_resolve(sts, w);
}

unsigned long
sts_assume_role_calls(const struct sts *sts)
{
	return sts->assume_calls;
}

/* Life cycle. */

struct sts *
sts_new(struct event_base *base, const struct config *cfg,
    const struct aws_creds *base_creds)
{
	struct sts *sts;

	sts = xcalloc(1, sizeof(*sts));
	sts->base = base;
	sts->cfg = cfg;
	sts->base_creds = creds_dup(base_creds);
	sts->ec = evcurl_new(base);
	sts->http = http_client_new(NULL);
	TAILQ_INIT(&sts->identity.waiters);
	TAILQ_INIT(&sts->roles);
	TAILQ_INIT(&sts->replies);
	return sts;
}

void
sts_free(struct sts *sts)
{
	struct sts_reply *r;
	struct sts_role *role;

	if (sts == NULL)
		return;
	sts_op_cancel(&sts->identity);
	while ((role = TAILQ_FIRST(&sts->roles)) != NULL) {
		TAILQ_REMOVE(&sts->roles, role, entry);
		sts_op_cancel(&role->op);
		creds_free(role->creds);
		free(role->role_arn);
		free(role);
	}
	while ((r = TAILQ_FIRST(&sts->replies)) != NULL) {
		TAILQ_REMOVE(&sts->replies, r, entry);
		sts_reply_free(r);
	}
	/* Calls first, then the multi, then the share they used. */
	evcurl_free(sts->ec);
	http_client_free(sts->http);
	creds_free(sts->base_creds);
	free(sts->local_arn);
	free(sts);
}
