/*
 * creds-meta fetches credentials from the link-local metadata services: the
 * ECS / EKS Pod Identity container endpoint and EC2 instance metadata
 * (IMDSv2, with a session token). Both answer the same JSON document.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "awsjson.h"
#include "creds.h"
#include "creds-internal.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

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

static struct http_client *
meta_client(long connect_ms, long total_ms, int attempts)
{
	struct http_options o;

	memset(&o, 0, sizeof(o));
	o.connect_timeout_ms = connect_ms;
	o.request_timeout_ms = total_ms;
	o.max_attempts = attempts;
	return http_client_new(&o);
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
	creds_resp_wipe(&resp);
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
container_url(struct creds_chain *ch, char **url, struct errbuf *err)
{
	const char *rel, *full;

	if ((rel = creds_env(ch, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
	    != NULL) {
		*url = xprintf("%s%s%s", ECS_BASE, *rel == '/' ? "" : "/", rel);
		return 1;
	}
	if ((full = creds_env(ch, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) ==
	    NULL)
		return 0;
	if (container_full_uri_ok(full, err) == -1)
		return -1;
	*url = xstrdup(full);
	return 1;
}

/* The Authorization header line, or NULL when no token is configured. */
static int
container_auth(struct creds_chain *ch, char **hdr, struct errbuf *err)
{
	const char *path, *tok;
	char *buf = NULL;

	*hdr = NULL;
	if ((path = creds_env(ch, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
	    != NULL) {
		if ((buf = creds_token_read(path, err)) == NULL)
			return err_prefix(err,
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
		tok = buf;
	} else if ((tok = creds_env(ch, "AWS_CONTAINER_AUTHORIZATION_TOKEN"))
	    == NULL)
		return 0;
	else if (strpbrk(tok, "\r\n") != NULL)
		return err_set(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN holds a "
		    "line break: it must be a single header value");
	*hdr = xprintf("Authorization: %s", tok);
	creds_secret_free(buf);
	return 0;
}

/* 1 yielded, 0 no container variables, -1 error. */
int
creds_container_fetch(struct creds_chain *ch, struct aws_creds **out,
    struct errbuf *err)
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
	hc = meta_client(ECS_CONNECT_MS, ECS_TOTAL_MS, ECS_ATTEMPTS);
	r = meta_json_creds(hc, url, headers, "container", out, err);
	if (r == -1)
		err_prefix(err, "container credentials");
	http_client_free(hc);
	creds_secret_free(auth);
	free(url);
	return r == 0 ? 1 : -1;
}

int
creds_prov_container(struct creds_chain *ch, struct aws_creds **out,
    struct errbuf *err)
{
	int r;

	if ((r = creds_container_fetch(ch, out, err)) == 0)
		creds_skip(ch, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
		    "and AWS_CONTAINER_CREDENTIALS_FULL_URI unset");
	return r;
}

static char *
imds_base(struct creds_chain *ch)
{
	const char *v, *mode;
	size_t len;

	if ((v = creds_env(ch, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) == NULL) {
		mode = creds_env(ch, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
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
	creds_resp_wipe(&resp);
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
	creds_resp_wipe(&resp);
	free(url);
	return rc;
}

/* 1 yielded, 0 no metadata service or no role (reason in err), -1 error. */
int
creds_imds_fetch(struct creds_chain *ch, struct aws_creds **out,
    struct errbuf *err)
{
	const char *headers[2] = { NULL, NULL };
	char *base, *token, *hdr = NULL, *role = NULL, *url;
	struct http_client *hc;
	int r;

	base = imds_base(ch);
	hc = meta_client(IMDS_CONNECT_MS, IMDS_TOTAL_MS, IMDS_ATTEMPTS);
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
	creds_secret_free(hdr);
	creds_secret_free(token);
	free(role);
	free(base);
	return r;
}

int
creds_imds_disabled(struct creds_chain *ch)
{
	const char *v = creds_env(ch, "AWS_EC2_METADATA_DISABLED");

	return v != NULL && strcasecmp(v, "true") == 0;
}

int
creds_prov_imds(struct creds_chain *ch, struct aws_creds **out,
    struct errbuf *err)
{
	struct errbuf why;
	int r;

	if (creds_imds_disabled(ch)) {
		creds_skip(ch, "EC2 instance metadata: disabled by "
		    "AWS_EC2_METADATA_DISABLED=true");
		return 0;
	}
	err_clear(&why);
	if ((r = creds_imds_fetch(ch, out, &why)) == 0)
		creds_skip(ch, "%s", why.msg);
	else if (r == -1)
		err_set(err, "%s", why.msg);
	return r;
}
