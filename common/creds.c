/*
 * creds owns struct aws_creds, the one type that holds AWS secrets (making,
 * wiping, expiry), and the walk of the standard chain: its order table, the
 * environment provider, and what every provider shares (the environment
 * seen, the region, the STS client, the reasons of those that did not yield).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "creds.h"
#include "creds-internal.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

/* --- the credentials type ------------------------------------------- */

struct aws_creds *
creds_new(const char *access_key_id, const char *secret_access_key,
    const char *session_token, time_t expiration, const char *source)
{
	struct aws_creds *c;

	c = xcalloc(1, sizeof(*c));
	c->access_key_id = xstrdup(access_key_id);
	c->secret_access_key = xstrdup(secret_access_key);
	if (session_token != NULL && *session_token != '\0')
		c->session_token = xstrdup(session_token);
	c->expiration = expiration;
	snprintf(c->source, sizeof(c->source), "%s",
	    source != NULL ? source : "");
	return c;
}

struct aws_creds *
creds_dup(const struct aws_creds *c)
{
	if (c == NULL)
		return NULL;
	return creds_new(c->access_key_id, c->secret_access_key,
	    c->session_token, c->expiration, c->source);
}

void
creds_free(struct aws_creds *c)
{
	if (c == NULL)
		return;
	/* The key id is not secret on its own; wiping it costs nothing. */
	creds_secret_free(c->access_key_id);
	creds_secret_free(c->secret_access_key);
	creds_secret_free(c->session_token);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

int
creds_expiring(const struct aws_creds *c, time_t now, time_t margin)
{
	if (c == NULL)
		return 1;
	if (c->expiration == 0)
		return 0;
	return c->expiration - now <= margin;
}

/* "+hh:mm" or "+hhmm" (sign already consumed) into seconds; NULL if bad. */
static const char *
creds_parse_offset(const char *p, long *secs)
{
	int i, d[4];

	for (i = 0; i < 4; i++) {
		if (i == 2 && *p == ':')
			p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		d[i] = *p++ - '0';
	}
	if (d[0] * 10 + d[1] > 23 || d[2] * 10 + d[3] > 59)
		return NULL;
	*secs = (d[0] * 10 + d[1]) * 3600L + (d[2] * 10 + d[3]) * 60L;
	return p;
}

int
creds_parse_expiration(const char *s, time_t *out, struct errbuf *err)
{
	struct tm tm;
	const char *p;
	long off = 0;
	int sign = 0;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || !isdigit((unsigned char)*s) ||
	    (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		goto bad;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if ((p = creds_parse_offset(p, &off)) == NULL)
			goto bad;
	} else
		goto bad;
	if (*p != '\0')
		goto bad;
	*out = timegm(&tm) - sign * off;
	return 0;
bad:
	return err_set(err, "Expiration \"%s\": not an ISO 8601 time such as "
	    "2024-05-01T12:00:00Z", s != NULL ? s : "");
}

/* --- wiping ------------------------------------------------------------ */

/* A NUL-terminated secret: wiped, then freed. */
void
creds_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* A reply that may carry credentials (STS, metadata): wiped, then cleared. */
void
creds_resp_wipe(struct http_response *resp)
{
	if (resp->body != NULL)
		explicit_bzero(resp->body, resp->body_len);
	http_response_clear(resp);
}

/* --- the walk -------------------------------------------------------- */

/* A variable as the caller's getenv sees it; an empty one is unset. */
const char *
creds_env(struct creds_chain *ch, const char *name)
{
	const char *v;

	if (ch->opts != NULL && ch->opts->getenv != NULL)
		v = ch->opts->getenv(ch->opts->getenv_arg, name);
	else
		v = getenv(name);
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Record why a provider did not yield, for the final error. */
void
creds_skip(struct creds_chain *ch, const char *fmt, ...)
{
	size_t len = strlen(ch->tried);
	va_list ap;

	if (len > 0 && len + 2 < sizeof(ch->tried)) {
		memcpy(ch->tried + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(ch->tried + len, sizeof(ch->tried) - len, fmt, ap);
	va_end(ap);
	log_debug("credentials: %s", ch->tried + len);
}

struct http_client *
creds_sts_client(struct creds_chain *ch)
{
	struct http_options o;

	if (ch->sts == NULL) {
		memset(&o, 0, sizeof(o));
		ch->sts = ch->own_sts = http_client_new(&o);
	}
	return ch->sts;
}

/*
 * The STS region: AWS_REGION, else AWS_DEFAULT_REGION (the AWS CLI's order,
 * which config.c follows too), else fallback (a profile's region), else
 * us-east-1. Both variables beat the profile, as they do for the CLI.
 */
const char *
creds_region(struct creds_chain *ch, const char *fallback)
{
	const char *r;

	if ((r = creds_env(ch, "AWS_REGION")) != NULL ||
	    (r = creds_env(ch, "AWS_DEFAULT_REGION")) != NULL)
		return r;
	return fallback != NULL ? fallback : "us-east-1";
}

/* --- providers: 1 yielded, 0 not configured (fall through), -1 error --- */

/* The AWS_ACCESS_KEY_ID pair; credential_source = Environment uses it too. */
int
creds_env_keys(struct creds_chain *ch, struct aws_creds **out,
    struct errbuf *err)
{
	const char *id, *secret;

	id = creds_env(ch, "AWS_ACCESS_KEY_ID");
	secret = creds_env(ch, "AWS_SECRET_ACCESS_KEY");
	if (id == NULL && secret == NULL)
		return 0;
	if (id == NULL)
		return err_set(err, "AWS_SECRET_ACCESS_KEY is set but "
		    "AWS_ACCESS_KEY_ID is not: set both, or unset "
		    "AWS_SECRET_ACCESS_KEY");
	if (secret == NULL)
		return err_set(err, "AWS_ACCESS_KEY_ID is set but "
		    "AWS_SECRET_ACCESS_KEY is not: set both, or unset "
		    "AWS_ACCESS_KEY_ID");
	*out = creds_new(id, secret, creds_env(ch, "AWS_SESSION_TOKEN"), 0,
	    "environment");
	return 1;
}

static int
prov_env(struct creds_chain *ch, struct aws_creds **out, struct errbuf *err)
{
	int r;

	if ((r = creds_env_keys(ch, out, err)) == 0)
		creds_skip(ch, "environment: AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY unset");
	return r;
}

/* --- the chain -------------------------------------------------------- */

/* The AWS SDKs' order; the first provider that yields wins. */
static const struct {
	const char	*name;
	int		(*fetch)(struct creds_chain *, struct aws_creds **,
			    struct errbuf *);
} chain_providers[] = {
	{ "environment", prov_env },
	{ "web identity", creds_prov_web_identity },
	{ "shared files", creds_prov_profile },
	{ "container", creds_prov_container },
	{ "EC2 instance metadata", creds_prov_imds },
};

int
creds_resolve_chain_opts(struct http_client *http,
    const struct creds_chain_opts *opts, struct aws_creds **out,
    struct errbuf *err)
{
	struct creds_chain ch;
	size_t i;
	int r = 0;

	*out = NULL;
	memset(&ch, 0, sizeof(ch));
	ch.opts = opts;
	ch.sts = http;
	ch.now = opts != NULL && opts->now != 0 ? opts->now : time(NULL);
	for (i = 0; i < CREDS_NITEMS(chain_providers) && r == 0; i++) {
		log_debug("credentials: trying %s", chain_providers[i].name);
		r = chain_providers[i].fetch(&ch, out, err);
	}
	http_client_free(ch.own_sts);
	if (r == 1) {
		log_debug("credentials: using %s", (*out)->source);
		return 0;
	}
	if (r == 0)
		return err_set(err, "no AWS credentials found (%s): set "
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
		    "naming a profile in the shared files, or run with an IAM "
		    "role (web identity, ECS/EKS container, EC2 instance "
		    "profile)", ch.tried);
	if (*out != NULL) {
		creds_free(*out);
		*out = NULL;
	}
	return -1;
}

int
creds_resolve_chain(struct http_client *http, struct aws_creds **out,
    struct errbuf *err)
{
	return creds_resolve_chain_opts(http, NULL, out, err);
}
