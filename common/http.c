/*
 * http owns the client (timeouts, CA bundle, the connection and TLS session
 * share, the SigV4 key cache, the retry quota, test hooks) and the blocking
 * calls http_send and http_plain, which drive one struct http_call
 * (http-call.c, http-reply.c) with curl_easy_perform. A caller's curl multi
 * handle drives the same call object, so both paths behave alike.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "errbuf.h"
#include "http.h"
#include "http-internal.h"
#include "log.h"
#include "sigv4.h"
#include "xmalloc.h"

/* The client. */

static double
default_random(void *arg)
{
	(void)arg;
	return (double)arc4random() / 4294967296.0;
}

static void
default_sleep(void *arg, long ms)
{
	struct timespec ts;

	(void)arg;
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

struct http_client *
http_client_new(const struct http_options *opts)
{
	static const struct http_options none;
	struct http_client *cl;
	const char *ca;

	if (opts == NULL)
		opts = &none;
	cl = xcalloc(1, sizeof(*cl));
	cl->connect_timeout_ms = opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms : HTTP_CONNECT_TIMEOUT_MS;
	cl->request_timeout_ms = opts->request_timeout_ms > 0 ?
	    opts->request_timeout_ms : HTTP_REQUEST_TIMEOUT_MS;
	cl->max_attempts = opts->max_attempts > 0 ? opts->max_attempts :
	    HTTP_MAX_ATTEMPTS;
	cl->max_body = opts->max_body > 0 ? opts->max_body : HTTP_MAX_BODY;
	ca = opts->ca_bundle != NULL ? opts->ca_bundle :
	    getenv("AWS_CA_BUNDLE");
	if (ca != NULL && *ca != '\0')
		cl->ca_bundle = xstrdup(ca);
	if ((cl->share = curl_share_init()) == NULL)
		fatalx("curl_share_init failed");
	curl_share_setopt(cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(cl->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	cl->sigv4 = sigv4_cache_new();
	http_quota_init(&cl->quota);
	http_client_set_hooks(cl, NULL);
	return cl;
}

void
http_client_free(struct http_client *cl)
{
	if (cl == NULL)
		return;
	/* Fails only while a call still holds the share: a caller bug. */
	if (curl_share_cleanup(cl->share) != CURLSHE_OK)
		fatalx("http_client_free: calls still open");
	sigv4_cache_free(cl->sigv4);
	free(cl->ca_bundle);
	free(cl);
}

int
http_client_quota(const struct http_client *cl)
{
	return cl->quota.available;
}

void
http_client_set_hooks(struct http_client *cl, const struct http_hooks *h)
{
	cl->hooks.random = h != NULL && h->random != NULL ? h->random :
	    default_random;
	cl->hooks.sleep_ms = h != NULL && h->sleep_ms != NULL ? h->sleep_ms :
	    default_sleep;
	cl->hooks.arg = h != NULL ? h->arg : NULL;
}

/* The blocking form: the same call, driven by curl_easy_perform. */

static int
call_run(struct http_call *c, const struct aws_creds *creds,
    struct http_response *resp, struct errbuf *err)
{
	const struct http_hooks *h = &c->client->hooks;
	long ms;
	int rc;

	for (;;) {
		if (http_call_rearm(c, creds, err) == -1) {
			rc = -1;
			break;
		}
		if (http_call_finish(c, curl_easy_perform(c->easy), &ms) ==
		    HTTP_VERDICT_DONE) {
			rc = http_call_error(c, err);
			break;
		}
		h->sleep_ms(h->arg, ms);
	}
	*resp = c->resp;
	memset(&c->resp, 0, sizeof(c->resp));
	return rc;
}

int
http_send(struct http_client *cl, const struct aws_creds *creds,
    const struct http_request *req, struct http_response *resp,
    struct errbuf *err)
{
	struct http_call *c;
	int rc;

	memset(resp, 0, sizeof(*resp));
	c = http_call_new(cl, req, NULL);
	rc = call_run(c, creds, resp, err);
	http_call_free(c);
	return rc;
}

int
http_plain(struct http_client *cl, const char *method, const char *url,
    const char *const *headers, const char *body, struct http_response *resp,
    struct errbuf *err)
{
	struct http_call *c;
	int rc;

	memset(resp, 0, sizeof(*resp));
	c = http_call_new_plain(cl, method, url, headers, body);
	rc = call_run(c, NULL, resp, err);
	http_call_free(c);
	return rc;
}

/* A reply may carry credentials (STS, metadata): wiped before it is freed. */
void
http_response_clear(struct http_response *r)
{
	if (r->body != NULL)
		explicit_bzero(r->body, r->body_len);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
