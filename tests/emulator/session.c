/*
 * Sessions issued by AssumeRole and AssumeRoleWithWebIdentity, kept in
 * memory for the server's life and found by access key id (a tsearch
 * tree), and the caller's identity as IAM names it.
 */
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator.h"
#include "log.h"
#include "xmalloc.h"

static int
session_cmp(const void *a, const void *b)
{
	const struct emu_session *sa = a, *sb = b;

	return strcmp(sa->access_key_id, sb->access_key_id);
}

static void
session_free(void *p)
{
	struct emu_session *s = p;

	free(s->access_key_id);
	explicit_bzero(s->secret_access_key, strlen(s->secret_access_key));
	free(s->secret_access_key);
	explicit_bzero(s->session_token, strlen(s->session_token));
	free(s->session_token);
	free(s->arn);
	free(s->user_id);
	free(s);
}

const struct emu_session *
session_issue(struct emu_server *srv, const struct emu_role *role,
    const char *session_name, time_t expiration, int chained)
{
	struct emu_session *s;
	char akid[32];

	s = xcalloc(1, sizeof(*s));
	do {
		ids_random("ASIA", 16, akid, sizeof(akid));
	} while (session_find(srv, akid) != NULL);
	s->access_key_id = xstrdup(akid);
	s->secret_access_key = ids_secret(40);
	s->session_token = ids_secret(224);
	s->arn = xprintf("arn:aws:sts::%s:assumed-role/%s/%s",
	    role->account->id, role->name, session_name);
	s->user_id = xprintf("%s:%s", role->role_id, session_name);
	s->role = role;
	s->account = role->account;
	s->expiration = expiration;
	s->chained = chained;
	if (tsearch(s, &srv->sessions, session_cmp) == NULL)
		fatalx("session_issue: out of memory");
	return s;
}

const struct emu_session *
session_find(struct emu_server *srv, const char *access_key_id)
{
	struct emu_session key;
	void *found;

	key.access_key_id = (char *)access_key_id;
	found = tfind(&key, &srv->sessions, session_cmp);
	return found == NULL ? NULL : *(struct emu_session **)found;
}

void
session_free_all(struct emu_server *srv)
{
	if (srv->sessions != NULL)
		tdestroy(srv->sessions, session_free);
	srv->sessions = NULL;
}

void
session_principal_arn(const struct emu_req *req, char *out, size_t outsz)
{
	const struct emu_account *a = req->account;

	if (req->session != NULL)
		snprintf(out, outsz, "%s", req->session->arn);
	else if (a == NULL)
		snprintf(out, outsz, "anonymous");
	else if (strcmp(a->user, "root") == 0)
		snprintf(out, outsz, "arn:aws:iam::%s:root", a->id);
	else
		snprintf(out, outsz, "arn:aws:iam::%s:user/%s", a->id, a->user);
}

/* AWS: the role session's "AROA...:name", an IAM user's "AIDA...". */
void
session_user_id(const struct emu_req *req, char *out, size_t outsz)
{
	const struct emu_account *a = req->account;

	if (req->session != NULL)
		snprintf(out, outsz, "%s", req->session->user_id);
	else if (a == NULL)
		snprintf(out, outsz, "anonymous");
	else if (strcmp(a->user, "root") == 0)
		snprintf(out, outsz, "%s", a->id);
	else
		ids_derive("AIDA", a->access_key_id, 17, out, outsz);
}
