/*
 * creds-sts asks STS for role credentials: AssumeRole signed with base
 * credentials (a profile's role_arn), and AssumeRoleWithWebIdentity, which
 * is unsigned (AWS_WEB_IDENTITY_TOKEN_FILE, or a profile's token file).
 * Request bodies, replies and parse trees hold secrets and are wiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "awsxml.h"
#include "creds.h"
#include "creds-internal.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define STS_VERSION		"2011-06-15"

struct form_field {
	const char	*name;
	const char	*value;		/* NULL: left out */
};

/*
 * An application/x-www-form-urlencoded body (the AWS Query protocol).
 * Values may be secret, so every intermediate copy is wiped.
 */
static char *
form_encode(const struct form_field *f, size_t n, size_t *lenp)
{
	char *esc[8], *body;
	size_t i, len = 0, off = 0;

	if (n > CREDS_NITEMS(esc))
		fatalx("%s: %zu fields", __func__, n);
	for (i = 0; i < n; i++) {
		esc[i] = NULL;
		if (f[i].value == NULL)
			continue;
		if ((esc[i] = curl_easy_escape(NULL, f[i].value, 0)) == NULL)
			fatalx("%s: out of memory", __func__);
		len += strlen(f[i].name) + strlen(esc[i]) + 2;
	}
	body = xmalloc(len + 1);
	for (i = 0; i < n; i++) {
		if (esc[i] == NULL)
			continue;
		off += (size_t)snprintf(body + off, len + 1 - off, "%s%s=%s",
		    off > 0 ? "&" : "", f[i].name, esc[i]);
		explicit_bzero(esc[i], strlen(esc[i]));
		curl_free(esc[i]);
	}
	body[off] = '\0';
	*lenp = off;
	return body;
}

/* awsxml does not wipe on free; STS replies carry secrets in node texts. */
static void
xml_wipe(struct awsxml_node *n)
{
	for (; n != NULL; n = n->next) {
		xml_wipe(n->first_child);
		explicit_bzero(n->text, strlen(n->text));
	}
}

static const char *
role_session(struct creds_chain *ch, struct creds_role *rp)
{
	if (rp->session_name != NULL)
		return rp->session_name;
	snprintf(rp->default_session, sizeof(rp->default_session),
	    "tagwarden-%lld", (long long)ch->now);
	return rp->default_session;
}

/* Credentials out of an AssumeRole* reply; path leads to <Credentials>. */
static int
sts_parse(const struct http_response *resp, const char *path,
    const char *source, struct aws_creds **out, struct errbuf *err)
{
	static const char *const fields[] = { "AccessKeyId",
	    "SecretAccessKey", "SessionToken", "Expiration" };
	const struct awsxml_node *c;
	struct awsxml_node *root;
	const char *v[4];
	time_t exp;
	size_t i;
	int rc = -1;

	if ((root = awsxml_parse(resp->body, resp->body_len, err)) == NULL)
		return err_prefix(err, "STS reply");
	c = awsxml_find(root, path);
	for (i = 0; i < CREDS_NITEMS(fields); i++) {
		v[i] = awsxml_text(c, fields[i]);
		if (v[i] == NULL || *v[i] == '\0') {
			err_set(err, "STS reply <%s> has no %s/%s", root->name,
			    path, fields[i]);
			goto done;
		}
	}
	if (creds_parse_expiration(v[3], &exp, err) == -1) {
		err_prefix(err, "STS reply");
		goto done;
	}
	*out = creds_new(v[0], v[1], v[2], exp, source);
	rc = 0;
done:
	xml_wipe(root);
	awsxml_free(root);
	return rc;
}

int
creds_sts_assume_role(struct creds_chain *ch, const struct aws_creds *base,
    struct creds_role *rp, struct aws_creds **out, struct errbuf *err)
{
	struct form_field f[] = {
		{ "Action", "AssumeRole" },
		{ "Version", STS_VERSION },
		{ "RoleArn", rp->role_arn },
		{ "RoleSessionName", role_session(ch, rp) },
		{ "DurationSeconds", rp->duration },
		{ "ExternalId", rp->external_id },
	};
	struct http_request req;
	struct http_response resp;
	char *body;
	int rc;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	if ((req.service = aws_service_find("sts")) == NULL)
		fatalx("%s: no sts row in the service table", __func__);
	req.region = rp->region;
	req.method = "POST";
	req.path = "/";
	req.body = body = form_encode(f, CREDS_NITEMS(f), &req.body_len);
	log_debug("credentials: STS AssumeRole %s in %s (base credentials "
	    "from %s)", rp->role_arn, rp->region, base->source);
	if ((rc = http_send(creds_sts_client(ch), base, &req, &resp,
	    err)) == -1)
		err_prefix(err, "STS AssumeRole %s", rp->role_arn);
	else
		rc = sts_parse(&resp, "AssumeRoleResult/Credentials",
		    rp->source, out, err);
	creds_resp_wipe(&resp);
	creds_secret_free(body);
	return rc;
}

/*
 * An STS failure on the unsigned path, where the error body is ours to
 * decode. A reply that quotes the token back is not repeated.
 */
static int
sts_plain_failed(const struct http_response *resp, const char *role,
    const char *token, struct errbuf *err)
{
	char code[128], msg[512];

	if (err == NULL)
		return -1;
	if (resp->status >= 300 && resp->body != NULL &&
	    awsxml_error(resp->body, resp->body_len, code, sizeof(code), msg,
	    sizeof(msg)) == 0)
		err_set(err, "STS AssumeRoleWithWebIdentity %s: HTTP %ld %s: %s",
		    role, resp->status, code, msg);
	else
		err_prefix(err, "STS AssumeRoleWithWebIdentity %s", role);
	if (strstr(err->msg, token) != NULL)
		err_set(err, "STS AssumeRoleWithWebIdentity %s: HTTP %ld (the "
		    "reply quoted the token, so it is not shown)", role,
		    resp->status);
	return -1;
}

/* The URL an unsigned STS call posts to: the one http_send would use. */
static char *
sts_url(const char *region, struct errbuf *err)
{
	const struct aws_service *svc;
	char *base, *url;

	if ((svc = aws_service_find("sts")) == NULL)
		fatalx("%s: no sts row in the service table", __func__);
	if (aws_endpoint_resolve(svc, region, &base, err) == -1)
		return NULL;
	url = xprintf("%s/", base);
	free(base);
	return url;
}

/*
 * AssumeRoleWithWebIdentity needs no credentials: the token is the proof.
 * It goes unsigned to the regional endpoint (or AWS_ENDPOINT_URL[_STS]).
 */
static int
sts_web_identity(struct creds_chain *ch, const char *token,
    struct creds_role *rp, struct aws_creds **out, struct errbuf *err)
{
	static const char *const headers[] = {
	    "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
	    NULL };
	struct form_field f[] = {
		{ "Action", "AssumeRoleWithWebIdentity" },
		{ "Version", STS_VERSION },
		{ "RoleArn", rp->role_arn },
		{ "RoleSessionName", role_session(ch, rp) },
		{ "WebIdentityToken", token },
		{ "DurationSeconds", rp->duration },
	};
	struct http_response resp;
	char *body, *url;
	size_t len;
	int rc;

	if ((url = sts_url(rp->region, err)) == NULL)
		return -1;
	body = form_encode(f, CREDS_NITEMS(f), &len);
	memset(&resp, 0, sizeof(resp));
	log_debug("credentials: STS AssumeRoleWithWebIdentity %s at %s",
	    rp->role_arn, url);
	if (http_plain(creds_sts_client(ch), "POST", url, headers, body, &resp,
	    err) == -1)
		rc = sts_plain_failed(&resp, rp->role_arn, token, err);
	else
		rc = sts_parse(&resp, "AssumeRoleWithWebIdentityResult/"
		    "Credentials", rp->source, out, err);
	creds_resp_wipe(&resp);
	creds_secret_free(body);
	free(url);
	return rc;
}

/* Returns 1 with *out set, or -1; errors start with label (a variable). */
int
creds_web_identity(struct creds_chain *ch, const char *label, const char *path,
    struct creds_role *rp, struct aws_creds **out, struct errbuf *err)
{
	char *token;
	int rc;

	if ((token = creds_token_read(path, err)) == NULL)
		return err_prefix(err, "%s", label);
	rc = sts_web_identity(ch, token, rp, out, err);
	creds_secret_free(token);
	return rc == 0 ? 1 : -1;
}

int
creds_prov_web_identity(struct creds_chain *ch, struct aws_creds **out,
    struct errbuf *err)
{
	struct creds_role rp;
	const char *path;

	if ((path = creds_env(ch, "AWS_WEB_IDENTITY_TOKEN_FILE")) == NULL) {
		creds_skip(ch, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE unset");
		return 0;
	}
	memset(&rp, 0, sizeof(rp));
	if ((rp.role_arn = creds_env(ch, "AWS_ROLE_ARN")) == NULL)
		return err_set(err, "AWS_WEB_IDENTITY_TOKEN_FILE=%s is set but "
		    "AWS_ROLE_ARN is not: set the ARN of the role to assume",
		    path);
	rp.session_name = creds_env(ch, "AWS_ROLE_SESSION_NAME");
	rp.region = creds_region(ch, NULL);
	snprintf(rp.source, sizeof(rp.source), "web-identity");
	return creds_web_identity(ch, "AWS_WEB_IDENTITY_TOKEN_FILE", path, &rp,
	    out, err);
}
