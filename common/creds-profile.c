/*
 * creds-profile resolves the profile AWS_PROFILE names (or default) in the
 * shared files: static keys, or a role_arn assumed with the credentials of
 * a source_profile, a credential_source or a web identity token file,
 * following source_profile chains as the AWS CLI does.
 */
#include <stdio.h>
#include <string.h>

#include "creds.h"
#include "creds-internal.h"
#include "errbuf.h"
#include "strnum.h"

#define PROF_MAX_DEPTH		8		/* profiles in one role chain */

/* Walking profiles for role_arn / source_profile chains. */
struct prof_walk {
	struct creds_chain		*ch;
	const struct creds_prof_set	*set;
	const char			*region;  /* first profile's, if any */
	const struct creds_prof		*visited[PROF_MAX_DEPTH];
	size_t				 nvisited;
};

#define KV_PATH(w, kv)	((w)->set->path[(kv)->file])

/* Static keys from one file, credentials file first: 1, 0 none, -1. */
static int
prof_static(const struct creds_prof_set *set, const struct creds_prof *p,
    struct aws_creds **out, struct errbuf *err)
{
	const struct creds_prof_kv *id, *sk, *tok;
	char source[64];
	int f;

	for (f = 0; f < CREDS_PF_NFILES; f++) {
		id = creds_prof_get(p, "aws_access_key_id", f);
		sk = creds_prof_get(p, "aws_secret_access_key", f);
		if (id == NULL && sk == NULL)
			continue;
		if (id == NULL || sk == NULL)
			return err_set(err, "%s line %d: profile %s has %s "
			    "but no %s: add it to the same section",
			    set->path[f], (id != NULL ? id : sk)->line, p->name,
			    id != NULL ? "aws_access_key_id" :
			    "aws_secret_access_key", id != NULL ?
			    "aws_secret_access_key" : "aws_access_key_id");
		if (out == NULL)
			return 1;
		tok = creds_prof_get(p, "aws_session_token", f);
		snprintf(source, sizeof(source), "profile:%s", p->name);
		*out = creds_new(id->value, sk->value,
		    tok != NULL ? tok->value : NULL, 0, source);
		return 1;
	}
	return 0;
}

/* Credential kinds the AWS CLI knows and tagwarden does not run. */
static const struct {
	const char	*key;
	const char	*hint;
} prof_unsupported[] = {
	{ "credential_process", "export the process's output as "
	    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN" },
	{ "sso_session", "run `aws configure export-credentials --format env` "
	    "and export its output" },
	{ "sso_start_url", "run `aws configure export-credentials --format "
	    "env` and export its output" },
};

static int
prof_check_unsupported(const struct prof_walk *w, const struct creds_prof *p,
    struct errbuf *err)
{
	const struct creds_prof_kv *kv;
	size_t i;

	for (i = 0; i < CREDS_NITEMS(prof_unsupported); i++)
		if ((kv = creds_prof_get(p, prof_unsupported[i].key, -1)) !=
		    NULL)
			return err_set(err, "%s line %d: profile %s uses %s, "
			    "which tagwarden does not support: %s",
			    KV_PATH(w, kv), kv->line, p->name,
			    prof_unsupported[i].key, prof_unsupported[i].hint);
	return 0;
}

static int prof_assume(struct prof_walk *, const struct creds_prof *,
    struct aws_creds **, struct errbuf *);

static int
cs_env(struct creds_chain *ch, struct aws_creds **out, struct errbuf *err)
{
	int r;

	if ((r = creds_env_keys(ch, out, err)) == 0)
		return err_set(err, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
		    "are unset");
	return r;
}

static int
cs_imds(struct creds_chain *ch, struct aws_creds **out, struct errbuf *err)
{
	if (creds_imds_disabled(ch))
		return err_set(err, "AWS_EC2_METADATA_DISABLED=true");
	return creds_imds_fetch(ch, out, err) == 1 ? 1 : -1;
}

static int
cs_container(struct creds_chain *ch, struct aws_creds **out, struct errbuf *err)
{
	int r;

	if ((r = creds_container_fetch(ch, out, err)) == 0)
		return err_set(err, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI are unset");
	return r;
}

/* credential_source values, as the AWS CLI spells them. */
static const struct {
	const char	*name;
	int		(*fetch)(struct creds_chain *, struct aws_creds **,
			    struct errbuf *);
} cred_sources[] = {
	{ "Environment", cs_env },
	{ "Ec2InstanceMetadata", cs_imds },
	{ "EcsContainer", cs_container },
};

static int
prof_from_cs(struct prof_walk *w, const struct creds_prof_kv *cs,
    struct aws_creds **base, struct errbuf *err)
{
	size_t i;

	for (i = 0; i < CREDS_NITEMS(cred_sources); i++) {
		if (strcmp(cs->value, cred_sources[i].name) != 0)
			continue;
		if (cred_sources[i].fetch(w->ch, base, err) == 1)
			return 1;
		return err_prefix(err, "%s line %d: credential_source = %s",
		    KV_PATH(w, cs), cs->line, cs->value);
	}
	return err_set(err, "%s line %d: credential_source = %s: must be "
	    "Environment, Ec2InstanceMetadata or EcsContainer", KV_PATH(w, cs),
	    cs->line, cs->value);
}

static int
prof_cycle(const struct prof_walk *w, const struct creds_prof_kv *src,
    struct errbuf *err)
{
	char path[512] = "";
	size_t i, len = 0;

	for (i = 0; i < w->nvisited && len < sizeof(path); i++)
		len += (size_t)snprintf(path + len, sizeof(path) - len,
		    "%s -> ", w->visited[i]->name);
	return err_set(err, "%s line %d: source_profile cycle %s%s: give one "
	    "of these profiles static keys or a credential_source",
	    KV_PATH(w, src), src->line, path, src->value);
}

/*
 * The credentials a source_profile supplies: its static keys if it has
 * any (even next to a role_arn, as botocore does), else its own role.
 */
static int
prof_from_source(struct prof_walk *w, const struct creds_prof *p,
    const struct creds_prof_kv *src, struct aws_creds **base,
    struct errbuf *err)
{
	const struct creds_prof *sp;
	size_t i;
	int r;

	if ((sp = creds_prof_find(w->set, src->value)) == NULL)
		return err_set(err, "%s line %d: source_profile %s: no such "
		    "profile in %s or %s", KV_PATH(w, src), src->line,
		    src->value, w->set->path[CREDS_PF_CREDENTIALS],
		    w->set->path[CREDS_PF_CONFIG]);
	for (i = 0; i < w->nvisited; i++)
		if (w->visited[i] == sp && (sp != p ||
		    prof_static(w->set, sp, NULL, NULL) != 1))
			return prof_cycle(w, src, err);
	if ((r = prof_static(w->set, sp, base, err)) != 0)
		return r;
	if (creds_prof_get(sp, "role_arn", -1) != NULL)
		return prof_assume(w, sp, base, err);
	if (prof_check_unsupported(w, sp, err) == -1)
		return -1;
	return err_set(err, "%s line %d: source_profile %s has no credentials: "
	    "give it aws_access_key_id and aws_secret_access_key, or a role_arn",
	    KV_PATH(w, src), src->line, src->value);
}

static int
prof_role_params(struct prof_walk *w, const struct creds_prof *p,
    struct creds_role *rp, struct errbuf *err)
{
	const struct creds_prof_kv *kv;
	const char *errstr;

	memset(rp, 0, sizeof(*rp));
	rp->role_arn = creds_prof_get(p, "role_arn", -1)->value;
	if ((kv = creds_prof_get(p, "role_session_name", -1)) != NULL)
		rp->session_name = kv->value;
	if ((kv = creds_prof_get(p, "external_id", -1)) != NULL)
		rp->external_id = kv->value;
	if ((kv = creds_prof_get(p, "duration_seconds", -1)) != NULL) {
		(void)strnum(kv->value, 900, 43200, &errstr);
		if (errstr != NULL)
			return err_set(err, "%s line %d: duration_seconds = %s "
			    "is %s: must be 900..43200", KV_PATH(w, kv),
			    kv->line, kv->value, errstr);
		rp->duration = kv->value;
	}
	rp->region = creds_region(w->ch, w->region);
	snprintf(rp->source, sizeof(rp->source), "assume-role:%s", p->name);
	return 0;
}

/* role_arn with exactly one of source_profile, credential_source, token. */
static int
prof_assume(struct prof_walk *w, const struct creds_prof *p,
    struct aws_creds **out, struct errbuf *err)
{
	const struct creds_prof_kv *arn, *src, *cs, *wit;
	struct aws_creds *base = NULL;
	struct creds_role rp;
	int r;

	arn = creds_prof_get(p, "role_arn", -1);
	src = creds_prof_get(p, "source_profile", -1);
	cs = creds_prof_get(p, "credential_source", -1);
	wit = creds_prof_get(p, "web_identity_token_file", -1);
	if ((src != NULL) + (cs != NULL) + (wit != NULL) != 1)
		return err_set(err, "%s line %d: profile %s has role_arn, so it "
		    "needs exactly one of source_profile, credential_source or "
		    "web_identity_token_file", KV_PATH(w, arn), arn->line,
		    p->name);
	if (w->nvisited == PROF_MAX_DEPTH)
		return err_set(err, "%s line %d: profile %s: role chain longer "
		    "than %d profiles", KV_PATH(w, arn), arn->line, p->name,
		    PROF_MAX_DEPTH);
	w->visited[w->nvisited++] = p;
	if (prof_role_params(w, p, &rp, err) == -1)
		return -1;
	if (wit != NULL) {
		snprintf(rp.source, sizeof(rp.source), "web-identity:%s",
		    p->name);
		return creds_web_identity(w->ch, "web_identity_token_file",
		    wit->value, &rp, out, err);
	}
	r = src != NULL ? prof_from_source(w, p, src, &base, err) :
	    prof_from_cs(w, cs, &base, err);
	if (r == 1 && creds_sts_assume_role(w->ch, base, &rp, out, err) == -1)
		r = err_prefix(err, "profile %s", p->name);
	creds_free(base);
	return r;
}

static int
prof_resolve(struct prof_walk *w, const struct creds_prof *p,
    struct aws_creds **out, struct errbuf *err)
{
	const struct creds_prof_kv *kv;
	int r;

	if ((kv = creds_prof_get(p, "region", -1)) != NULL)
		w->region = kv->value;
	if (creds_prof_get(p, "role_arn", -1) != NULL)
		return prof_assume(w, p, out, err);
	if ((r = prof_static(w->set, p, out, err)) != 0)
		return r;
	return prof_check_unsupported(w, p, err);
}

int
creds_prov_profile(struct creds_chain *ch, struct aws_creds **out,
    struct errbuf *err)
{
	struct creds_prof_set set;
	struct prof_walk w;
	const struct creds_prof *p;
	const char *name;
	int r;

	name = creds_env(ch, "AWS_PROFILE");
	if ((r = creds_prof_load(ch, &set, err)) == 0) {
		p = creds_prof_find(&set, name != NULL ? name : "default");
		if (p == NULL && name != NULL)
			r = err_set(err, "AWS_PROFILE=%s: no [%s] in %s and no "
			    "[profile %s] in %s", name, name,
			    set.path[CREDS_PF_CREDENTIALS], name,
			    set.path[CREDS_PF_CONFIG]);
		else if (p == NULL)
			creds_skip(ch, "shared files: no default profile in %s "
			    "or %s", set.path[CREDS_PF_CREDENTIALS],
			    set.path[CREDS_PF_CONFIG]);
		else {
			memset(&w, 0, sizeof(w));
			w.ch = ch;
			w.set = &set;
			if ((r = prof_resolve(&w, p, out, err)) == 0)
				creds_skip(ch, "shared files: profile %s has no "
				    "credentials", p->name);
		}
	}
	creds_prof_set_free(&set);
	return r;
}
