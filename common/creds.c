/*
 * creds owns struct aws_creds, the one type that holds AWS secrets, and the
 * standard chain that finds the base credentials: environment, web identity,
 * shared credentials and config files, container endpoint, EC2 metadata.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ini.h>
#include <jansson.h>

#include "awsjson.h"
#include "awsxml.h"
#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "strnum.h"
#include "xmalloc.h"

#define CREDS_NITEMS(a)		(sizeof(a) / sizeof((a)[0]))

#define CREDS_FILE_MAX		(1024 * 1024)	/* a shared file */
#define CREDS_TOKEN_MAX		(64 * 1024)	/* a token file */
#define PROF_MAX_DEPTH		8		/* profiles in one role chain */
#define STS_VERSION		"2011-06-15"
#define ECS_BASE		"http://169.254.170.2"
#define IMDS_BASE		"http://169.254.169.254"
#define IMDS_BASE_IPV6		"http://[fd00:ec2::254]"
#define IMDS_CREDS_PATH		"/latest/meta-data/iam/security-credentials/"

/*
 * The metadata endpoints answer locally or not at all: on a machine that is
 * not on EC2 the chain must fall through within about a second (botocore
 * uses 1 s and one attempt). The container agent gets a little more, as
 * botocore gives it (2 s, 3 attempts).
 */
#define IMDS_CONNECT_MS		1000
#define IMDS_TOTAL_MS		2000
#define IMDS_ATTEMPTS		1
#define ECS_CONNECT_MS		2000
#define ECS_TOTAL_MS		2000
#define ECS_ATTEMPTS		3

/* --- the credentials type ------------------------------------------- */

static void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

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
	secret_free(c->access_key_id);
	secret_free(c->secret_access_key);
	secret_free(c->session_token);
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

/* --- small helpers --------------------------------------------------- */

/*
 * Read a whole regular file of at most max bytes, NUL-terminated. Returns 0,
 * 1 when the file does not exist, or -1 with err naming the file. The
 * buffer may hold secrets: the caller wipes it.
 */
static int
file_slurp(const char *path, size_t max, char **bufp, size_t *lenp,
    struct errbuf *err)
{
	struct stat st;
	size_t len = 0;
	ssize_t n = 0;
	char *buf;
	int fd, saved;

	*bufp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 1 :
		    err_set(err, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		return err_set(err, "%s: %s", path, strerror(saved));
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		return err_set(err, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "file too large");
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	saved = errno;
	close(fd);
	if (n == -1) {
		explicit_bzero(buf, len);
		free(buf);
		return err_set(err, "%s: %s", path, strerror(saved));
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/*
 * A bearer token kept in a file (web identity, container authorization).
 * Trailing white space goes, since editors add a newline; a token must be
 * one line because it ends up in a header or a form field. Errors name the
 * file, never its contents.
 */
static char *
token_read(const char *path, struct errbuf *err)
{
	size_t len;
	char *buf;
	int r;

	if ((r = file_slurp(path, CREDS_TOKEN_MAX, &buf, &len, err)) == 1)
		err_set(err, "%s: no such file", path);
	if (r != 0)
		return NULL;
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (len == 0 || strlen(buf) != len || strpbrk(buf, "\r\n") != NULL) {
		err_set(err, "%s: %s", path, len == 0 ? "token file is empty" :
		    "token file must hold one line of text");
		secret_free(buf);
		return NULL;
	}
	return buf;
}

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

static void
resp_wipe(struct http_response *resp)
{
	if (resp->body != NULL)
		explicit_bzero(resp->body, resp->body_len);
	http_response_clear(resp);
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

/*
 * jansson keeps string values in buffers it allocated and frees them
 * without wiping; clearing them in place before json_decref() is the only
 * way to keep secrets out of freed memory.
 */
static void
json_wipe(json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		if (json_is_string(v))
			explicit_bzero((char *)json_string_value(v),
			    json_string_length(v));
	}
}

/* --- the walk -------------------------------------------------------- */

struct chain {
	const struct creds_chain_opts	*opts;
	struct http_client		*sts;		/* caller's, or own_sts */
	struct http_client		*own_sts;
	time_t				 now;
	char				 tried[768];	/* why each did not yield */
};

static const char *
chain_env(struct chain *ch, const char *name)
{
	const char *v;

	if (ch->opts != NULL && ch->opts->getenv != NULL)
		v = ch->opts->getenv(ch->opts->getenv_arg, name);
	else
		v = getenv(name);
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Record why a provider did not yield, for the final error. */
static void __attribute__((format(printf, 2, 3)))
chain_skip(struct chain *ch, const char *fmt, ...)
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

static struct http_client *
chain_sts(struct chain *ch)
{
	struct http_options o;

	if (ch->sts == NULL) {
		memset(&o, 0, sizeof(o));
		ch->sts = ch->own_sts = http_client_new(&o);
	}
	return ch->sts;
}

static struct http_client *
chain_meta_client(long connect_ms, long total_ms, int attempts)
{
	struct http_options o;

	memset(&o, 0, sizeof(o));
	o.connect_timeout_ms = connect_ms;
	o.request_timeout_ms = total_ms;
	o.max_attempts = attempts;
	return http_client_new(&o);
}

/* ~/rel, or the variable's value with a leading "~/" expanded. */
static char *
chain_path(struct chain *ch, const char *var, const char *rel)
{
	const char *v, *home;
	struct passwd *pw;

	home = chain_env(ch, "HOME");
	if (home == NULL && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL)
		home = "~";
	if ((v = chain_env(ch, var)) == NULL)
		return xprintf("%s/%s", home, rel);
	if (strncmp(v, "~/", 2) == 0)
		return xprintf("%s/%s", home, v + 2);
	return xstrdup(v);
}

static const char *
chain_region(struct chain *ch, const char *fallback)
{
	const char *r;

	if ((r = chain_env(ch, "AWS_REGION")) != NULL)
		return r;
	return fallback != NULL ? fallback : "us-east-1";
}

/* --- STS ------------------------------------------------------------- */

struct role_params {
	const char	*role_arn;
	const char	*session_name;	/* NULL: tagwarden-<unix time> */
	const char	*external_id;	/* NULL: none */
	const char	*duration;	/* NULL: STS default; range-checked */
	const char	*region;
	char		 source[64];
	char		 default_session[64];
};

static const char *
role_session(struct chain *ch, struct role_params *rp)
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

static int
sts_assume_role(struct chain *ch, const struct aws_creds *base,
    struct role_params *rp, struct aws_creds **out, struct errbuf *err)
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
	if ((rc = http_send(chain_sts(ch), base, &req, &resp, err)) == -1)
		err_prefix(err, "STS AssumeRole %s", rp->role_arn);
	else
		rc = sts_parse(&resp, "AssumeRoleResult/Credentials",
		    rp->source, out, err);
	resp_wipe(&resp);
	secret_free(body);
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

/*
 * AssumeRoleWithWebIdentity needs no credentials: the token is the proof.
 * It goes unsigned to the regional endpoint (or AWS_ENDPOINT_URL[_STS]).
 */
static int
sts_web_identity(struct chain *ch, const char *token,
    struct role_params *rp, struct aws_creds **out, struct errbuf *err)
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
	const struct aws_service *svc;
	struct http_response resp;
	char *body, *base, *url;
	size_t len;
	int rc;

	if ((svc = aws_service_find("sts")) == NULL)
		fatalx("%s: no sts row in the service table", __func__);
	if (aws_endpoint_resolve(svc, rp->region, &base, err) == -1)
		return -1;
	url = xprintf("%s/", base);
	body = form_encode(f, CREDS_NITEMS(f), &len);
	memset(&resp, 0, sizeof(resp));
	log_debug("credentials: STS AssumeRoleWithWebIdentity %s at %s",
	    rp->role_arn, url);
	if (http_plain(chain_sts(ch), "POST", url, headers, body, &resp,
	    err) == -1)
		rc = sts_plain_failed(&resp, rp->role_arn, token, err);
	else
		rc = sts_parse(&resp, "AssumeRoleWithWebIdentityResult/"
		    "Credentials", rp->source, out, err);
	resp_wipe(&resp);
	secret_free(body);
	free(url);
	free(base);
	return rc;
}

/* Returns 1 with *out set, or -1; errors start with label (a variable). */
static int
web_identity(struct chain *ch, const char *label, const char *path,
    struct role_params *rp, struct aws_creds **out, struct errbuf *err)
{
	char *token;
	int rc;

	if ((token = token_read(path, err)) == NULL)
		return err_prefix(err, "%s", label);
	rc = sts_web_identity(ch, token, rp, out, err);
	secret_free(token);
	return rc == 0 ? 1 : -1;
}

/* --- providers: 1 yielded, 0 not configured (fall through), -1 error --- */

static int
env_creds(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	const char *id, *secret;

	id = chain_env(ch, "AWS_ACCESS_KEY_ID");
	secret = chain_env(ch, "AWS_SECRET_ACCESS_KEY");
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
	*out = creds_new(id, secret, chain_env(ch, "AWS_SESSION_TOKEN"), 0,
	    "environment");
	return 1;
}

static int
prov_env(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	int r;

	if ((r = env_creds(ch, out, err)) == 0)
		chain_skip(ch, "environment: AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY unset");
	return r;
}

static int
prov_web_identity(struct chain *ch, struct aws_creds **out,
    struct errbuf *err)
{
	struct role_params rp;
	const char *path;

	if ((path = chain_env(ch, "AWS_WEB_IDENTITY_TOKEN_FILE")) == NULL) {
		chain_skip(ch, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE unset");
		return 0;
	}
	memset(&rp, 0, sizeof(rp));
	if ((rp.role_arn = chain_env(ch, "AWS_ROLE_ARN")) == NULL)
		return err_set(err, "AWS_WEB_IDENTITY_TOKEN_FILE=%s is set but "
		    "AWS_ROLE_ARN is not: set the ARN of the role to assume",
		    path);
	rp.session_name = chain_env(ch, "AWS_ROLE_SESSION_NAME");
	rp.region = chain_region(ch, NULL);
	snprintf(rp.source, sizeof(rp.source), "web-identity");
	return web_identity(ch, "AWS_WEB_IDENTITY_TOKEN_FILE", path, &rp, out,
	    err);
}

/* GET a metadata document and read the credentials JSON out of it. */
static int
meta_json_creds(struct http_client *hc, const char *url,
    const char *const *headers, const char *source, struct aws_creds **out,
    struct errbuf *err)
{
	struct http_response resp;
	const char *v[4], *code;
	json_t *root = NULL;
	time_t exp = 0;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	if (http_plain(hc, "GET", url, headers, NULL, &resp, err) == -1 ||
	    (root = awsjson_parse(resp.body, resp.body_len, err)) == NULL)
		goto done;
	code = awsjson_string(root, "Code");
	v[0] = awsjson_string(root, "AccessKeyId");
	v[1] = awsjson_string(root, "SecretAccessKey");
	v[2] = awsjson_string(root, "Token");
	v[3] = awsjson_string(root, "Expiration");
	if (code != NULL && strcmp(code, "Success") != 0)
		err_set(err, "reply has Code \"%s\", not Success", code);
	else if (v[0] == NULL || *v[0] == '\0' || v[1] == NULL || *v[1] == '\0')
		err_set(err, "reply lacks AccessKeyId or SecretAccessKey");
	else if (v[3] == NULL || creds_parse_expiration(v[3], &exp, err) == 0) {
		*out = creds_new(v[0], v[1], v[2], exp, source);
		rc = 0;
	}
done:
	if (rc == -1)
		err_prefix(err, "%s", url);
	if (root != NULL) {
		json_wipe(root);
		json_decref(root);
	}
	resp_wipe(&resp);
	return rc;
}

/*
 * Hosts allowed for AWS_CONTAINER_CREDENTIALS_FULL_URI over plain http, as
 * the SDKs allow them: any loopback address, "localhost", and the ECS and
 * EKS Pod Identity agent addresses. https is allowed to any host.
 */
static const char *const container_hosts[] = {
	"169.254.170.2",	/* ECS */
	"169.254.170.23",	/* EKS Pod Identity, IPv4 */
	"fd00:ec2::23",		/* EKS Pod Identity, IPv6 */
	"::1",
};

static int
container_host_ok(const char *host)
{
	unsigned char a[16], b[16];
	int af;
	size_t i;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1) {
		if (a[0] == 127)
			return 1;
		af = AF_INET;
	} else if (inet_pton(AF_INET6, host, a) == 1)
		af = AF_INET6;
	else
		return 0;
	for (i = 0; i < CREDS_NITEMS(container_hosts); i++)
		if (inet_pton(af, container_hosts[i], b) == 1 &&
		    memcmp(a, b, af == AF_INET ? 4 : 16) == 0)
			return 1;
	return 0;
}

static int
container_full_uri_ok(const char *url, struct errbuf *err)
{
	char *scheme = NULL, *host = NULL, *h;
	CURLU *u;
	int rc = -1;

	if ((u = curl_url()) == NULL)
		fatalx("%s: out of memory", __func__);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		err_set(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s: not a "
		    "valid URL", url);
	else if (strcasecmp(scheme, "https") == 0)
		rc = 0;
	else if (strcasecmp(scheme, "http") != 0)
		err_set(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s: scheme "
		    "must be http or https", url);
	else {
		h = host;
		if (*h == '[') {
			h++;
			h[strcspn(h, "]%")] = '\0';
		}
		if (container_host_ok(h))
			rc = 0;
		else
			err_set(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s: "
			    "host %s is not allowed over http: use https, a "
			    "loopback address, 169.254.170.2, 169.254.170.23 "
			    "or fd00:ec2::23", url, h);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* 1 with *url set, 0 when neither variable is set, -1 on a bad URL. */
static int
container_url(struct chain *ch, char **url, struct errbuf *err)
{
	const char *rel, *full;

	if ((rel = chain_env(ch, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
	    != NULL) {
		*url = xprintf("%s%s%s", ECS_BASE, *rel == '/' ? "" : "/", rel);
		return 1;
	}
	if ((full = chain_env(ch, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) ==
	    NULL)
		return 0;
	if (container_full_uri_ok(full, err) == -1)
		return -1;
	*url = xstrdup(full);
	return 1;
}

/* The Authorization header line, or NULL when no token is configured. */
static int
container_auth(struct chain *ch, char **hdr, struct errbuf *err)
{
	const char *path, *tok;
	char *buf = NULL;

	*hdr = NULL;
	if ((path = chain_env(ch, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
	    != NULL) {
		if ((buf = token_read(path, err)) == NULL)
			return err_prefix(err,
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
		tok = buf;
	} else if ((tok = chain_env(ch, "AWS_CONTAINER_AUTHORIZATION_TOKEN"))
	    == NULL)
		return 0;
	else if (strpbrk(tok, "\r\n") != NULL)
		return err_set(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN holds a "
		    "line break: it must be a single header value");
	*hdr = xprintf("Authorization: %s", tok);
	secret_free(buf);
	return 0;
}

/* 1 yielded, 0 no container variables, -1 error. */
static int
container_fetch(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	const char *headers[3] = { "Accept: application/json", NULL, NULL };
	struct http_client *hc;
	char *url = NULL, *auth = NULL;
	int r;

	if ((r = container_url(ch, &url, err)) != 1)
		return r;
	if (container_auth(ch, &auth, err) == -1) {
		free(url);
		return -1;
	}
	headers[1] = auth;
	hc = chain_meta_client(ECS_CONNECT_MS, ECS_TOTAL_MS, ECS_ATTEMPTS);
	r = meta_json_creds(hc, url, headers, "container", out, err);
	if (r == -1)
		err_prefix(err, "container credentials");
	http_client_free(hc);
	secret_free(auth);
	free(url);
	return r == 0 ? 1 : -1;
}

static int
prov_container(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	int r;

	if ((r = container_fetch(ch, out, err)) == 0)
		chain_skip(ch, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
		    "and AWS_CONTAINER_CREDENTIALS_FULL_URI unset");
	return r;
}

static char *
imds_base(struct chain *ch)
{
	const char *v, *mode;
	size_t len;

	if ((v = chain_env(ch, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) == NULL) {
		mode = chain_env(ch, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
		v = mode != NULL && strcasecmp(mode, "IPv6") == 0 ?
		    IMDS_BASE_IPV6 : IMDS_BASE;
	}
	len = strlen(v);
	while (len > 0 && v[len - 1] == '/')
		len--;
	return xstrndup(v, len);
}

/*
 * IMDSv2 session token. Any failure here means "no usable metadata
 * service" (not on EC2, IMDS turned off, hop limit): 0, reason in err.
 */
static int
imds_token(struct http_client *hc, const char *base, char **token,
    struct errbuf *err)
{
	static const char *const headers[] = {
	    "X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL };
	struct http_response resp;
	char *url;
	size_t len;

	memset(&resp, 0, sizeof(resp));
	url = xprintf("%s/latest/api/token", base);
	*token = NULL;
	if (http_plain(hc, "PUT", url, headers, NULL, &resp, err) == 0 &&
	    resp.body != NULL) {
		len = resp.body_len;
		while (len > 0 && isspace((unsigned char)resp.body[len - 1]))
			len--;
		if (len > 0 && memchr(resp.body, '\n', len) == NULL &&
		    memchr(resp.body, '\0', len) == NULL)
			*token = xstrndup(resp.body, len);
		else
			err_set(err, "%s: empty or malformed token", url);
	}
	resp_wipe(&resp);
	free(url);
	return *token != NULL;
}

/* The instance profile's role: 1 found, 0 none attached, -1 error. */
static int
imds_role(struct http_client *hc, const char *base,
    const char *const *headers, char **role, struct errbuf *err)
{
	struct http_response resp;
	char *url;
	size_t len;
	int rc = 0;

	memset(&resp, 0, sizeof(resp));
	url = xprintf("%s" IMDS_CREDS_PATH, base);
	if (http_plain(hc, "GET", url, headers, NULL, &resp, err) == -1) {
		/* 404 is how IMDS says no instance profile is attached. */
		if (resp.status == 404)
			err_set(err, "no IAM role attached to the instance");
		else
			rc = -1;
	} else {
		/* IAM role names: letters, digits and +=,.@_- only. */
		len = resp.body == NULL ? 0 : strspn(resp.body,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+=,.@_-");
		if (len > 0) {
			*role = xstrndup(resp.body, len);
			rc = 1;
		} else
			err_set(err, "no IAM role attached to the instance");
	}
	resp_wipe(&resp);
	free(url);
	return rc;
}

/* 1 yielded, 0 no metadata service or no role (reason in err), -1 error. */
static int
imds_fetch(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	const char *headers[2] = { NULL, NULL };
	char *base, *token, *hdr = NULL, *role = NULL, *url;
	struct http_client *hc;
	int r;

	base = imds_base(ch);
	hc = chain_meta_client(IMDS_CONNECT_MS, IMDS_TOTAL_MS, IMDS_ATTEMPTS);
	if ((r = imds_token(hc, base, &token, err)) == 1) {
		hdr = xprintf("X-aws-ec2-metadata-token: %s", token);
		headers[0] = hdr;
		r = imds_role(hc, base, headers, &role, err);
	}
	if (r == 1) {
		url = xprintf("%s" IMDS_CREDS_PATH "%s", base, role);
		if (meta_json_creds(hc, url, headers, "imds", out, err) == -1)
			r = err_prefix(err, "EC2 instance metadata role %s",
			    role);
		free(url);
	}
	if (r == 0)
		err_prefix(err, "EC2 instance metadata at %s", base);
	http_client_free(hc);
	secret_free(hdr);
	secret_free(token);
	free(role);
	free(base);
	return r;
}

static int
imds_disabled(struct chain *ch)
{
	const char *v = chain_env(ch, "AWS_EC2_METADATA_DISABLED");

	return v != NULL && strcasecmp(v, "true") == 0;
}

static int
prov_imds(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	struct errbuf why;
	int r;

	if (imds_disabled(ch)) {
		chain_skip(ch, "EC2 instance metadata: disabled by "
		    "AWS_EC2_METADATA_DISABLED=true");
		return 0;
	}
	err_clear(&why);
	if ((r = imds_fetch(ch, out, &why)) == 0)
		chain_skip(ch, "%s", why.msg);
	else if (r == -1)
		err_set(err, "%s", why.msg);
	return r;
}

/* --- shared credentials and config files ----------------------------- */

enum prof_file {
	PF_CREDENTIALS,		/* wins over config for the same key */
	PF_CONFIG,
	PF_NFILES
};

struct prof_kv {
	char	*key;
	char	*value;		/* may be secret: wiped when freed */
	int	 file;		/* enum prof_file */
	int	 line;
};

struct prof {
	char		*name;
	struct prof_kv	*kv;
	size_t		 nkv;
};

struct prof_set {
	char		*path[PF_NFILES];
	struct prof	*prof;
	size_t		 nprof;
};

static void
prof_set_free(struct prof_set *set)
{
	size_t i, j;

	for (i = 0; i < set->nprof; i++) {
		for (j = 0; j < set->prof[i].nkv; j++) {
			free(set->prof[i].kv[j].key);
			secret_free(set->prof[i].kv[j].value);
		}
		free(set->prof[i].kv);
		free(set->prof[i].name);
	}
	free(set->prof);
	for (i = 0; i < PF_NFILES; i++)
		free(set->path[i]);
	memset(set, 0, sizeof(*set));
}

static const struct prof *
prof_find(const struct prof_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->nprof; i++)
		if (strcmp(set->prof[i].name, name) == 0)
			return &set->prof[i];
	return NULL;
}

static int
prof_index(struct prof_set *set, const char *name)
{
	const struct prof *p;

	if ((p = prof_find(set, name)) != NULL)
		return (int)(p - set->prof);
	set->prof = xreallocarray(set->prof, set->nprof + 1,
	    sizeof(*set->prof));
	memset(&set->prof[set->nprof], 0, sizeof(*set->prof));
	set->prof[set->nprof].name = xstrdup(name);
	return (int)set->nprof++;
}

/* Later lines of the same file win, as in configparser's last assignment. */
static void
prof_put(struct prof *p, const char *key, char *value, int file, int line)
{
	struct prof_kv *kv;
	size_t i;

	for (i = 0; i < p->nkv; i++) {
		kv = &p->kv[i];
		if (kv->file == file && strcasecmp(kv->key, key) == 0) {
			secret_free(kv->value);
			kv->value = value;
			kv->line = line;
			return;
		}
	}
	p->kv = xreallocarray(p->kv, p->nkv + 1, sizeof(*p->kv));
	kv = &p->kv[p->nkv++];
	kv->key = xstrdup(key);
	kv->value = value;
	kv->file = file;
	kv->line = line;
}

/*
 * A non-empty setting; file -1 looks in the credentials file first. Keys
 * compare without case, as configparser lowercases them.
 */
static const struct prof_kv *
prof_kv(const struct prof *p, const char *key, int file)
{
	const struct prof_kv *kv;
	size_t i;

	if (file == -1) {
		if ((kv = prof_kv(p, key, PF_CREDENTIALS)) != NULL)
			return kv;
		return prof_kv(p, key, PF_CONFIG);
	}
	for (i = 0; i < p->nkv; i++) {
		kv = &p->kv[i];
		if (kv->file == file && strcasecmp(kv->key, key) == 0 &&
		    *kv->value != '\0')
			return kv;
	}
	return NULL;
}

/*
 * Reading the AWS files with libinih. inih parses sections, "name = value"
 * and "name: value", ';' and '#' comment lines and indented continuation
 * lines, which covers the AWS format, except for three things handled in
 * the reader callback below, which feeds inih one line per call:
 *  - inih reads at most 200 bytes of a line (Debian's build) and parses the
 *    rest as another line, yet a session token alone is 400-1200 bytes. An
 *    over-long "name = value" line reaches inih as "name=" plus a one-byte
 *    stand-in, and the handler takes the real value from the reader.
 *  - inih treats every indented line after a setting as a continuation;
 *    the AWS CLI (Python configparser) only when it is indented deeper than
 *    that setting, so "  key = v" lines at one indentation are settings.
 *    The reader applies configparser's rule and strips the indentation of
 *    lines that are not continuations.
 *  - inih's handler gets no line number in this build, and errors must
 *    name the line; the reader counts lines.
 * Continuation lines belong to sub-sections ("s3 =" then indented
 * "max_concurrent_requests = 20"), which credentials never need; they are
 * skipped, unless they continue a setting read here: configparser would
 * make that a multi-line key or secret, which is an error. One difference stays: inih drops " ; comment" after a value,
 * configparser keeps it; no key id, secret or token contains a ';'.
 */
/* The settings read here; a continuation line must not extend them. */
static const char *const prof_keys[] = {
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
	"role_arn", "source_profile", "credential_source", "external_id",
	"role_session_name", "duration_seconds", "web_identity_token_file",
	"region", "credential_process", "sso_session", "sso_start_url",
};

static int
prof_key_read(const char *name)
{
	size_t i;

	for (i = 0; i < CREDS_NITEMS(prof_keys); i++)
		if (strcasecmp(name, prof_keys[i]) == 0)
			return 1;
	return 0;
}

#define INI_NO_SECTION	(-2)	/* before the first [section] */
#define INI_OTHER	(-1)	/* a config section that is not a profile */
#define INI_LONG	"\001"	/* stands in for an over-long value */

struct ini_src {
	struct prof_set	*set;
	int		 file;
	const char	*buf;
	size_t		 len;
	size_t		 off;
	int		 line;		/* of the line handed out last */
	long		 key_indent;	/* -1: no setting since the section */
	int		 cont;		/* that line continues a value */
	int		 cur;		/* profile index, or INI_* */
	const char	*long_val;	/* value of an over-long line */
	size_t		 long_len;
	int		 err_line;	/* first error found here, or 0 */
	struct errbuf	 err;
};

static void __attribute__((format(printf, 2, 3)))
ini_fail(struct ini_src *src, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	if (src->err_line != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	src->err_line = src->line;
	err_set(&src->err, "%s line %d: %s", src->set->path[src->file],
	    src->line, reason);
}

/*
 * The profile a section header names, or NULL when it names none. In the
 * credentials file the whole name is the profile; in the config file only
 * [default] and [profile NAME] are profiles (botocore's reading), other
 * sections (sso-session, services, plugins) are skipped.
 */
static char *
ini_profile_name(int file, const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (file == PF_CREDENTIALS)
		return len > 0 ? xstrndup(s, len) : NULL;
	if (len == 7 && memcmp(s, "default", 7) == 0)
		return xstrdup("default");
	if (len < 9 || memcmp(s, "profile", 7) != 0 ||
	    !isblank((unsigned char)s[7]))
		return NULL;
	for (s += 8, len -= 8; isblank((unsigned char)*s); s++, len--)
		;
	return xstrndup(s, len);
}

static void
ini_section(struct ini_src *src, const char *p, size_t len)
{
	const char *end;
	char *name;

	if ((end = memchr(p, ']', len)) == NULL)
		return;		/* inih reports the line */
	name = ini_profile_name(src->file, p + 1, (size_t)(end - p - 1));
	if (name == NULL && src->file == PF_CREDENTIALS)
		ini_fail(src, "empty section name []");
	src->cur = name != NULL ? prof_index(src->set, name) : INI_OTHER;
	free(name);
}

/* Copy for inih; only lines whose text is never used get cut. */
static void
ini_emit(char *str, size_t num, const char *lead, const char *p, size_t len)
{
	size_t l = strlen(lead);

	if (l + len >= num)
		len = num - 1 - l;
	memcpy(str, lead, l);
	memcpy(str + l, p, len);
	str[l + len] = '\0';
}

/* An over-long setting: split it as inih would, keep the value aside. */
static void
ini_long(struct ini_src *src, char *str, size_t num, const char *p,
    size_t len)
{
	const char *sep, *v, *ve, *q;
	size_t nlen;
	int was_space = 0;

	for (sep = p; sep < p + len && *sep != '=' && *sep != ':'; sep++)
		;
	if (sep == p + len) {
		ini_emit(str, num, "", p, len);	/* inih reports the line */
		return;
	}
	for (nlen = (size_t)(sep - p); nlen > 0 &&
	    isspace((unsigned char)p[nlen - 1]); nlen--)
		;
	if (nlen + 3 > num) {
		ini_fail(src, "setting name longer than %zu bytes", num - 3);
		ini_emit(str, num, "", "#", 1);
		return;
	}
	for (v = sep + 1, ve = p + len; v < ve && isspace((unsigned char)*v);)
		v++;
	for (q = v; q < ve; q++) {	/* inih's inline " ;comment" rule */
		if (was_space && *q == ';') {
			ve = q;
			break;
		}
		was_space = isspace((unsigned char)*q);
	}
	while (ve > v && isspace((unsigned char)ve[-1]))
		ve--;
	memcpy(str, p, nlen);
	memcpy(str + nlen, "=" INI_LONG, 3);
	src->long_val = v;
	src->long_len = (size_t)(ve - v);
}

static void
ini_classify(struct ini_src *src, char *str, size_t num, const char *p,
    size_t len, size_t indent)
{
	if (memchr(p, '\0', len) != NULL) {
		ini_fail(src, "NUL byte in the line");
		ini_emit(str, num, "", "#", 1);
	} else if (len == 0 || *p == '#' || *p == ';')
		ini_emit(str, num, "", p, len);
	else if (src->key_indent >= 0 && (long)indent > src->key_indent) {
		/* One leading blank is enough for inih to see a continuation. */
		src->cont = 1;
		ini_emit(str, num, " ", p, len);
	} else if (*p == '[') {
		src->key_indent = -1;
		ini_section(src, p, len);
		ini_emit(str, num, "", p, len);
	} else {
		src->key_indent = (long)indent;
		if (len < num)
			ini_emit(str, num, "", p, len);
		else
			ini_long(src, str, num, p, len);
	}
}

static char *
ini_read_line(char *str, int num, void *arg)
{
	struct ini_src *src = arg;
	const char *p, *e, *nl;
	size_t indent = 0;

	if (src->off >= src->len || num < 8)
		return NULL;
	p = src->buf + src->off;
	if ((nl = memchr(p, '\n', src->len - src->off)) != NULL) {
		e = nl;
		src->off = (size_t)(nl - src->buf) + 1;
	} else {
		e = src->buf + src->len;
		src->off = src->len;
	}
	src->line++;
	src->cont = 0;
	src->long_val = NULL;
	if (src->line == 1 && e - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < e && (*p == ' ' || *p == '\t'); p++)
		indent++;
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	ini_classify(src, str, (size_t)num, p, (size_t)(e - p), indent);
	return str;
}

static int
ini_setting(void *arg, const char *section, const char *name,
    const char *value)
{
	struct ini_src *src = arg;
	char *v;

	(void)section;		/* the reader tracked it already */
	if (src->cur == INI_OTHER)
		return 1;
	if (src->cont) {
		if (src->cur < 0 || !prof_key_read(name))
			return 1;
		ini_fail(src, "this indented line continues %s, whose value "
		    "must be one line: indent the settings of a section alike",
		    name);
		return 0;
	}
	if (src->cur == INI_NO_SECTION) {
		/* The name is not shown: a pasted secret could be there. */
		ini_fail(src, "setting outside any section: put it under "
		    "[default] or a profile's section");
		return 0;
	}
	if (src->long_val != NULL && strcmp(value, INI_LONG) == 0)
		v = xstrndup(src->long_val, src->long_len);
	else
		v = xstrdup(value);
	prof_put(&src->set->prof[src->cur], name, v, src->file, src->line);
	return 1;
}

/* Load one file into the set; a missing file is an empty one. */
static int
ini_load(struct prof_set *set, int file, struct errbuf *err)
{
	struct ini_src src;
	char *buf;
	size_t len;
	int r;

	if ((r = file_slurp(set->path[file], CREDS_FILE_MAX, &buf, &len,
	    err)) != 0)
		return r == 1 ? 0 : -1;
	memset(&src, 0, sizeof(src));
	src.set = set;
	src.file = file;
	src.buf = buf;
	src.len = len;
	src.key_indent = -1;
	src.cur = INI_NO_SECTION;
	r = ini_parse_stream(ini_read_line, &src, ini_setting, &src);
	explicit_bzero(buf, len);
	free(buf);
	if (r == -2)
		fatalx("%s: inih out of memory", __func__);
	if (r > 0 && (src.err_line == 0 || r < src.err_line))
		return err_set(err, "%s line %d: not a [section], a name = "
		    "value setting or a comment", set->path[file], r);
	if (src.err_line != 0)
		return err_set(err, "%s", src.err.msg);
	return 0;
}

static int
prof_load(struct chain *ch, struct prof_set *set, struct errbuf *err)
{
	int f;

	memset(set, 0, sizeof(*set));
	set->path[PF_CREDENTIALS] = chain_path(ch,
	    "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	set->path[PF_CONFIG] = chain_path(ch, "AWS_CONFIG_FILE", ".aws/config");
	for (f = 0; f < PF_NFILES; f++)
		if (ini_load(set, f, err) == -1)
			return -1;
	return 0;
}

/* Walking profiles for role_arn / source_profile chains. */
struct prof_walk {
	struct chain		*ch;
	const struct prof_set	*set;
	const char		*region;	/* first profile's, if any */
	const struct prof	*visited[PROF_MAX_DEPTH];
	size_t			 nvisited;
};

#define KV_PATH(w, kv)	((w)->set->path[(kv)->file])

/* Static keys from one file, credentials file first: 1, 0 none, -1. */
static int
prof_static(const struct prof_set *set, const struct prof *p,
    struct aws_creds **out, struct errbuf *err)
{
	const struct prof_kv *id, *sk, *tok;
	char source[64];
	int f;

	for (f = 0; f < PF_NFILES; f++) {
		id = prof_kv(p, "aws_access_key_id", f);
		sk = prof_kv(p, "aws_secret_access_key", f);
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
		tok = prof_kv(p, "aws_session_token", f);
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
prof_check_unsupported(const struct prof_walk *w, const struct prof *p,
    struct errbuf *err)
{
	const struct prof_kv *kv;
	size_t i;

	for (i = 0; i < CREDS_NITEMS(prof_unsupported); i++)
		if ((kv = prof_kv(p, prof_unsupported[i].key, -1)) != NULL)
			return err_set(err, "%s line %d: profile %s uses %s, "
			    "which tagwarden does not support: %s",
			    KV_PATH(w, kv), kv->line, p->name,
			    prof_unsupported[i].key, prof_unsupported[i].hint);
	return 0;
}

static int prof_assume(struct prof_walk *, const struct prof *,
    struct aws_creds **, struct errbuf *);

static int
cs_env(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	int r;

	if ((r = env_creds(ch, out, err)) == 0)
		return err_set(err, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
		    "are unset");
	return r;
}

static int
cs_imds(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	if (imds_disabled(ch))
		return err_set(err, "AWS_EC2_METADATA_DISABLED=true");
	return imds_fetch(ch, out, err) == 1 ? 1 : -1;
}

static int
cs_container(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	int r;

	if ((r = container_fetch(ch, out, err)) == 0)
		return err_set(err, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI are unset");
	return r;
}

/* credential_source values, as the AWS CLI spells them. */
static const struct {
	const char	*name;
	int		(*fetch)(struct chain *, struct aws_creds **,
			    struct errbuf *);
} cred_sources[] = {
	{ "Environment", cs_env },
	{ "Ec2InstanceMetadata", cs_imds },
	{ "EcsContainer", cs_container },
};

static int
prof_from_cs(struct prof_walk *w, const struct prof_kv *cs,
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
prof_cycle(const struct prof_walk *w, const struct prof_kv *src,
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
prof_from_source(struct prof_walk *w, const struct prof *p,
    const struct prof_kv *src, struct aws_creds **base, struct errbuf *err)
{
	const struct prof *sp;
	size_t i;
	int r;

	if ((sp = prof_find(w->set, src->value)) == NULL)
		return err_set(err, "%s line %d: source_profile %s: no such "
		    "profile in %s or %s", KV_PATH(w, src), src->line,
		    src->value, w->set->path[PF_CREDENTIALS],
		    w->set->path[PF_CONFIG]);
	for (i = 0; i < w->nvisited; i++)
		if (w->visited[i] == sp && (sp != p ||
		    prof_static(w->set, sp, NULL, NULL) != 1))
			return prof_cycle(w, src, err);
	if ((r = prof_static(w->set, sp, base, err)) != 0)
		return r;
	if (prof_kv(sp, "role_arn", -1) != NULL)
		return prof_assume(w, sp, base, err);
	if (prof_check_unsupported(w, sp, err) == -1)
		return -1;
	return err_set(err, "%s line %d: source_profile %s has no credentials: "
	    "give it aws_access_key_id and aws_secret_access_key, or a role_arn",
	    KV_PATH(w, src), src->line, src->value);
}

static int
prof_role_params(struct prof_walk *w, const struct prof *p,
    struct role_params *rp, struct errbuf *err)
{
	const struct prof_kv *kv;
	const char *errstr;

	memset(rp, 0, sizeof(*rp));
	rp->role_arn = prof_kv(p, "role_arn", -1)->value;
	if ((kv = prof_kv(p, "role_session_name", -1)) != NULL)
		rp->session_name = kv->value;
	if ((kv = prof_kv(p, "external_id", -1)) != NULL)
		rp->external_id = kv->value;
	if ((kv = prof_kv(p, "duration_seconds", -1)) != NULL) {
		(void)strnum(kv->value, 900, 43200, &errstr);
		if (errstr != NULL)
			return err_set(err, "%s line %d: duration_seconds = %s "
			    "is %s: must be 900..43200", KV_PATH(w, kv),
			    kv->line, kv->value, errstr);
		rp->duration = kv->value;
	}
	rp->region = chain_region(w->ch, w->region);
	snprintf(rp->source, sizeof(rp->source), "assume-role:%s", p->name);
	return 0;
}

/* role_arn with exactly one of source_profile, credential_source, token. */
static int
prof_assume(struct prof_walk *w, const struct prof *p,
    struct aws_creds **out, struct errbuf *err)
{
	const struct prof_kv *arn, *src, *cs, *wit;
	struct aws_creds *base = NULL;
	struct role_params rp;
	int r;

	arn = prof_kv(p, "role_arn", -1);
	src = prof_kv(p, "source_profile", -1);
	cs = prof_kv(p, "credential_source", -1);
	wit = prof_kv(p, "web_identity_token_file", -1);
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
		return web_identity(w->ch, "web_identity_token_file",
		    wit->value, &rp, out, err);
	}
	r = src != NULL ? prof_from_source(w, p, src, &base, err) :
	    prof_from_cs(w, cs, &base, err);
	if (r == 1 && sts_assume_role(w->ch, base, &rp, out, err) == -1)
		r = err_prefix(err, "profile %s", p->name);
	creds_free(base);
	return r;
}

static int
prof_resolve(struct prof_walk *w, const struct prof *p,
    struct aws_creds **out, struct errbuf *err)
{
	const struct prof_kv *kv;
	int r;

	if ((kv = prof_kv(p, "region", -1)) != NULL)
		w->region = kv->value;
	if (prof_kv(p, "role_arn", -1) != NULL)
		return prof_assume(w, p, out, err);
	if ((r = prof_static(w->set, p, out, err)) != 0)
		return r;
	return prof_check_unsupported(w, p, err);
}

static int
prov_profile(struct chain *ch, struct aws_creds **out, struct errbuf *err)
{
	struct prof_set set;
	struct prof_walk w;
	const struct prof *p;
	const char *name;
	int r;

	name = chain_env(ch, "AWS_PROFILE");
	if ((r = prof_load(ch, &set, err)) == 0) {
		p = prof_find(&set, name != NULL ? name : "default");
		if (p == NULL && name != NULL)
			r = err_set(err, "AWS_PROFILE=%s: no [%s] in %s and no "
			    "[profile %s] in %s", name, name,
			    set.path[PF_CREDENTIALS], name, set.path[PF_CONFIG]);
		else if (p == NULL)
			chain_skip(ch, "shared files: no default profile in %s "
			    "or %s", set.path[PF_CREDENTIALS],
			    set.path[PF_CONFIG]);
		else {
			memset(&w, 0, sizeof(w));
			w.ch = ch;
			w.set = &set;
			if ((r = prof_resolve(&w, p, out, err)) == 0)
				chain_skip(ch, "shared files: profile %s has no "
				    "credentials", p->name);
		}
	}
	prof_set_free(&set);
	return r;
}

/* --- the chain -------------------------------------------------------- */

/* The AWS SDKs' order; the first provider that yields wins. */
static const struct {
	const char	*name;
	int		(*fetch)(struct chain *, struct aws_creds **,
			    struct errbuf *);
} chain_providers[] = {
	{ "environment", prov_env },
	{ "web identity", prov_web_identity },
	{ "shared files", prov_profile },
	{ "container", prov_container },
	{ "EC2 instance metadata", prov_imds },
};

int
creds_resolve_chain_opts(struct http_client *http,
    const struct creds_chain_opts *opts, struct aws_creds **out,
    struct errbuf *err)
{
	struct chain ch;
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
