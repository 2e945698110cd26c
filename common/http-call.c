/*
 * http-call builds a call and each of its attempts: the request's copies,
 * protocol headers and description, then per attempt the endpoint, the
 * SigV4 signature and the libcurl options. The reply side is http-reply.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "http-internal.h"
#include "log.h"
#include "sigv4.h"
#include "xmalloc.h"

#define HTTP_USER_AGENT	"tagwarden/" PACKAGE_VERSION

/* Building a call. */

static struct http_call *
call_alloc(struct http_client *cl, const char *method, const char *body,
    size_t body_len, void *arg)
{
	struct http_call *c;

	c = xcalloc(1, sizeof(*c));
	c->client = cl;
	c->arg = arg;
	c->method = xstrdup(method);
	if (body != NULL) {
		c->body = xmalloc(body_len + 1);
		memcpy(c->body, body, body_len);
		c->body[body_len] = '\0';
		c->body_len = body_len;
	}
	if ((c->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	/* Until an attempt finishes there is nothing to report but this. */
	c->cc = CURLE_FAILED_INIT;
	snprintf(c->curl_err, sizeof(c->curl_err), "request not sent");
	return c;
}

/* Query protocol: the operation is the Action parameter of the form. */
static int
query_action(const char *form, char *out, size_t size)
{
	const char *p = form;
	size_t n;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, "Action=", 7) == 0) {
			p += 7;
			n = strcspn(p, "&");
			snprintf(out, size, "%.*s", (int)n, p);
			return n > 0 ? 0 : -1;
		}
		if ((p = strchr(p, '&')) != NULL)
			p++;
	}
	return -1;
}

/* What the user sees in messages: "<service> <operation>". */
static void
call_describe(struct http_call *c, const char *target)
{
	const struct aws_service *svc = c->service;
	const char *dot;
	char op[128];

	if (target != NULL) {
		dot = strrchr(target, '.');
		snprintf(op, sizeof(op), "%s", dot != NULL ? dot + 1 : target);
	} else if (svc->protocol != AWS_PROTO_QUERY ||
	    (query_action(c->body, op, sizeof(op)) == -1 &&
	    query_action(c->query, op, sizeof(op)) == -1))
		snprintf(op, sizeof(op), "%s %s", c->method, c->path);
	snprintf(c->what, sizeof(c->what), "%s %s", svc->id, op);
}

/* Content-Type per protocol; REST ones send it only with a body. */
static const struct {
	const char	*content_type;	/* NULL: JSON, built from the version */
	int		 body_only;
} protocol_rows[] = {
	[AWS_PROTO_QUERY] = {
	    "application/x-www-form-urlencoded; charset=utf-8", 0 },
	[AWS_PROTO_JSON] = { NULL, 0 },
	[AWS_PROTO_REST_XML] = { "application/xml", 1 },
	[AWS_PROTO_REST_JSON] = { "application/json", 1 },
};

static void
call_set_protocol(struct http_call *c, const char *target)
{
	const struct aws_service *svc = c->service;

	if (target != NULL && strchr(target, '.') == NULL &&
	    svc->target_prefix != NULL)
		c->target = xprintf("%s.%s", svc->target_prefix, target);
	else if (target != NULL)
		c->target = xstrdup(target);
	if (protocol_rows[svc->protocol].body_only && c->body == NULL)
		return;
	if (protocol_rows[svc->protocol].content_type != NULL)
		c->content_type = xstrdup(
		    protocol_rows[svc->protocol].content_type);
	else
		c->content_type = xprintf("application/x-amz-json-%s",
		    svc->json_version != NULL ? svc->json_version : "1.1");
}

struct http_call *
http_call_new(struct http_client *cl, const struct http_request *req,
    void *arg)
{
	struct http_call *c;

	if (req->service == NULL || req->method == NULL)
		fatalx("http_call_new: request without service or method");
	c = call_alloc(cl, req->method, req->body, req->body_len, arg);
	c->service = req->service;
	c->region = req->region != NULL ? xstrdup(req->region) : NULL;
	c->path = xstrdup(req->path != NULL && *req->path != '\0' ?
	    req->path : "/");
	if (req->query != NULL && *req->query != '\0')
		c->query = xstrdup(req->query);
	call_set_protocol(c, req->target);
	call_describe(c, req->target);
	return c;
}

struct http_call *
http_call_new_plain(struct http_client *cl, const char *method, const char *url,
    const char *const *headers, const char *body)
{
	struct http_call *c;
	size_t i, n = 0;

	c = call_alloc(cl, method, body, body != NULL ? strlen(body) : 0,
	    NULL);
	c->url = xstrdup(url);
	while (headers != NULL && headers[n] != NULL)
		n++;
	c->plain_headers = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		c->plain_headers[i] = xstrdup(headers[i]);
	snprintf(c->what, sizeof(c->what), "%s %s", method, url);
	return c;
}

/* The slist holds the token and signature: wipe before curl frees it. */
static void
headers_free(struct curl_slist *list)
{
	struct curl_slist *p;

	for (p = list; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(list);
}

static void
call_add_line(struct http_call *c, const char *line)
{
	struct curl_slist *l;

	if ((l = curl_slist_append(c->headers, line)) == NULL)
		fatalx("curl_slist_append: out of memory");
	c->headers = l;
}

static void
call_add_header(struct http_call *c, const char *name, const char *value)
{
	char *line;

	line = xprintf("%s: %s", name, value);
	call_add_line(c, line);
	explicit_bzero(line, strlen(line));
	free(line);
}

void
http_call_free(struct http_call *c)
{
	size_t i;

	if (c == NULL)
		return;
	curl_easy_cleanup(c->easy);
	headers_free(c->headers);
	http_response_clear(&c->resp);
	for (i = 0; c->plain_headers != NULL && c->plain_headers[i] != NULL;
	    i++) {
		explicit_bzero(c->plain_headers[i],
		    strlen(c->plain_headers[i]));
		free(c->plain_headers[i]);
	}
	free(c->plain_headers);
	free(c->region);
	free(c->method);
	free(c->path);
	free(c->query);
	free(c->target);
	free(c->content_type);
	/* The body may carry a secret: a web identity token, say. */
	if (c->body != NULL)
		explicit_bzero(c->body, c->body_len);
	free(c->body);
	free(c->url);
	free(c->host);
	free(c);
}

CURL *
http_call_easy(struct http_call *c)
{
	return c->easy;
}

void *
http_call_arg(struct http_call *c)
{
	return c->arg;
}

struct http_response *
http_call_response(struct http_call *c)
{
	return &c->resp;
}

const struct curl_slist *
http_call_headers(const struct http_call *c)
{
	return c->headers;
}

/* Each attempt. */

static int
call_resolve(struct http_call *c, struct errbuf *err)
{
	char *base;

	if (c->url != NULL)
		return 0;
	if (http_endpoint_lookup(c->service, c->region, &base, &c->host,
	    err) == -1)
		return err_prefix(err, "%s", c->what);
	c->url = xprintf("%s%s%s%s", base, c->path, c->query != NULL ? "?" :
	    "", c->query != NULL ? c->query : "");
	free(base);
	return 0;
}

static void
call_reset(struct http_call *c)
{
	http_response_clear(&c->resp);
	c->body_cap = 0;
	c->too_large = 0;
	c->error_type[0] = '\0';
	c->retry_after[0] = '\0';
	c->curl_err[0] = '\0';
	c->cc = CURLE_FAILED_INIT;
	headers_free(c->headers);
	c->headers = NULL;
	/* Keeps the share, so the pooled connection stays usable. */
	curl_easy_reset(c->easy);
}

static void
call_sigv4_request(const struct http_call *c, struct sigv4_header *h,
    size_t n, struct sigv4_request *sr)
{
	memset(sr, 0, sizeof(*sr));
	sr->method = c->method;
	sr->path = c->path;
	sr->query = c->query;
	sr->headers = h;
	sr->nheaders = n;
	sr->body = c->body != NULL ? c->body : "";
	sr->body_len = c->body_len;
	sr->payload_hash = NULL;
	sr->region = aws_signing_region(c->service, c->region);
	sr->service = c->service->signing_name;
	sr->when = time(NULL);
	sr->s3 = c->service->s3_signing;
}

static int
call_sign(struct http_call *c, const struct aws_creds *creds,
    struct errbuf *err)
{
	struct sigv4_header h[3];
	struct sigv4_request sr;
	struct sigv4_signed sig;
	size_t n = 0;

	h[n++] = (struct sigv4_header){ "host", c->host };
	if (c->content_type != NULL)
		h[n++] = (struct sigv4_header){ "content-type",
		    c->content_type };
	if (c->target != NULL)
		h[n++] = (struct sigv4_header){ "x-amz-target", c->target };
	call_sigv4_request(c, h, n, &sr);
	if (sigv4_sign(c->client->sigv4, creds, &sr, &sig, err) == -1)
		return err_prefix(err, "%s", c->what);
	call_add_header(c, "Host", c->host);
	/* Otherwise curl adds its form Content-Type to a bodiless POST. */
	if (c->content_type != NULL)
		call_add_header(c, "Content-Type", c->content_type);
	else
		call_add_line(c, "Content-Type:");
	if (c->target != NULL)
		call_add_header(c, "X-Amz-Target", c->target);
	call_add_header(c, "X-Amz-Date", sig.amz_date);
	if (sig.content_sha256[0] != '\0')
		call_add_header(c, "X-Amz-Content-SHA256", sig.content_sha256);
	if (sig.security_token != NULL)
		call_add_header(c, "X-Amz-Security-Token", sig.security_token);
	call_add_header(c, "Authorization", sig.authorization);
	explicit_bzero(&sig, sizeof(sig));
	return 0;
}

static void
call_set_method(struct http_call *c)
{
	CURL *e = c->easy;

	/* POST always carries a body, even empty, or curl would read stdin. */
	if (c->body != NULL || strcmp(c->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
		    c->body != NULL ? c->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)c->body_len);
		if (strcmp(c->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	} else if (strcmp(c->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(c->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
}

static void
call_set_options(struct http_call *c)
{
	const struct http_client *cl = c->client;
	CURL *e = c->easy;

	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_SHARE, cl->share);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)c);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cl->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cl->request_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_reply_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_reply_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)c);
	if (cl->ca_bundle != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, cl->ca_bundle);
	call_set_method(c);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
}

int
http_call_rearm(struct http_call *c, const struct aws_creds *creds,
    struct errbuf *err)
{
	size_t i;

	if (c->service != NULL && call_resolve(c, err) == -1)
		return -1;
	call_reset(c);
	if (c->service != NULL) {
		if (creds == NULL)
			return err_set(err, "%s: no AWS credentials", c->what);
		if (call_sign(c, creds, err) == -1)
			return -1;
	}
	for (i = 0; c->plain_headers != NULL && c->plain_headers[i] != NULL;
	    i++)
		call_add_line(c, c->plain_headers[i]);
	call_add_header(c, "User-Agent", HTTP_USER_AGENT);
	/* 100-continue buys nothing from AWS and costs a round trip. */
	call_add_line(c, "Expect:");
	call_set_options(c);
	c->attempt++;
	c->creds = creds;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	http_trace_request(c);
	return 0;
}
