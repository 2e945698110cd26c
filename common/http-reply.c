/*
 * http-reply reads what comes back for a call: the body (bounded by the
 * client's max_body) and the headers it needs, the AWS error decoded from
 * the body, the standard-mode verdict (done, or retry after a delay), and
 * the one sentence that describes a failed call.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "awsjson.h"
#include "awsxml.h"
#include "errbuf.h"
#include "http.h"
#include "http-internal.h"
#include "log.h"
#include "xmalloc.h"

/* Response capture. */

/*
 * Grow the body to hold at least need bytes. realloc could leave the old
 * block, holding an STS reply's secrets so far, unwiped in freed memory;
 * copying and wiping by hand leaves none.
 */
static void
reply_grow(struct http_call *c, size_t need)
{
	struct http_response *r = &c->resp;
	size_t want;
	char *body;

	want = c->body_cap < 4096 ? 4096 : c->body_cap;
	while (want < need)
		want *= 2;
	body = xmalloc(want);
	if (r->body != NULL) {
		memcpy(body, r->body, r->body_len);
		explicit_bzero(r->body, r->body_len);
		free(r->body);
	}
	r->body = body;
	c->body_cap = want;
}

size_t
http_reply_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_call *c = arg;
	struct http_response *r = &c->resp;
	size_t len = size * n;

	if (len > c->client->max_body - r->body_len) {
		c->too_large = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	if (r->body_len + len + 1 > c->body_cap)
		reply_grow(c, r->body_len + len + 1);
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

#define CALL_FIELD(f)	offsetof(struct http_call, f), \
	sizeof(((struct http_call *)NULL)->f)

static const struct {
	const char	*name;
	size_t		 offset;
	size_t		 size;
} captured_headers[] = {
	{ "x-amzn-RequestId", CALL_FIELD(resp.request_id) },
	{ "x-amz-request-id", CALL_FIELD(resp.request_id) },
	{ "Content-Type", CALL_FIELD(resp.content_type) },
	{ "x-amzn-ErrorType", CALL_FIELD(error_type) },
	{ "x-amz-retry-after", CALL_FIELD(retry_after) },
};

static void
call_clear_captures(struct http_call *c)
{
	size_t i;

	for (i = 0; i < HTTP_NELEM(captured_headers); i++)
		*((char *)c + captured_headers[i].offset) = '\0';
}

size_t
http_reply_header(char *buf, size_t size, size_t n, void *arg)
{
	struct http_call *c = arg;
	size_t len = size * n, namelen, vlen, i;
	const char *colon, *v, *end = buf + len;

	/* A new status line (after 100 Continue, say) starts a new set. */
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		call_clear_captures(c);
		return len;
	}
	if ((colon = memchr(buf, ':', len)) == NULL)
		return len;
	namelen = (size_t)(colon - buf);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (i = 0; i < HTTP_NELEM(captured_headers); i++) {
		if (strlen(captured_headers[i].name) != namelen ||
		    strncasecmp(buf, captured_headers[i].name, namelen) != 0)
			continue;
		vlen = (size_t)(end - v);
		if (vlen >= captured_headers[i].size)
			vlen = captured_headers[i].size - 1;
		memcpy((char *)c + captured_headers[i].offset, v, vlen);
		*((char *)c + captured_headers[i].offset + vlen) = '\0';
	}
	return len;
}

/* Each reply. */

static void
call_decode_error(struct http_call *c)
{
	struct http_response *r = &c->resp;
	const char *ct = r->content_type, *etype = NULL;
	char msg[4096], *colon;
	int json, rc;

	/* x-amzn-ErrorType is "Code:http://internal..." at times. */
	if ((colon = strchr(c->error_type, ':')) != NULL)
		*colon = '\0';
	if (c->error_type[0] != '\0')
		etype = c->error_type;
	json = strcasestr(ct, "json") != NULL || (strcasestr(ct, "xml") ==
	    NULL && (c->service->protocol == AWS_PROTO_JSON ||
	    c->service->protocol == AWS_PROTO_REST_JSON));
	msg[0] = '\0';
	if (json)
		rc = awsjson_error(r->body, r->body_len, etype, r->error_code,
		    sizeof(r->error_code), msg, sizeof(msg));
	else
		rc = awsxml_error(r->body, r->body_len, r->error_code,
		    sizeof(r->error_code), msg, sizeof(msg));
	if (rc == -1) {
		snprintf(r->error_code, sizeof(r->error_code), "%s",
		    etype != NULL ? etype : "");
		msg[0] = '\0';
	}
	http_redact_message(msg, sizeof(msg), c->creds);
	snprintf(r->error_message, sizeof(r->error_message), "%s", msg);
}

static void
call_collect(struct http_call *c, CURLcode cc)
{
	struct http_response *r = &c->resp;
	long status = 0;

	c->cc = cc;
	if (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		status = 0;
	r->status = status;
	r->attempts = c->attempt;
	if (r->body == NULL)
		r->body = xstrdup("");
	if (cc == CURLE_OK && status >= 300 && c->service != NULL)
		call_decode_error(c);
	http_trace_reply(c);
}

enum http_verdict
http_call_finish(struct http_call *c, CURLcode cc, long *retry_ms)
{
	struct http_client *cl = c->client;
	enum http_retry_kind kind;
	int cost;

	*retry_ms = 0;
	call_collect(c, cc);
	c->creds = NULL;
	if (cc == CURLE_OK && c->resp.status >= 200 && c->resp.status < 300) {
		http_quota_success(&cl->quota, c->last_cost);
		return HTTP_VERDICT_DONE;
	}
	kind = c->too_large ? HTTP_RETRY_NONE :
	    http_retry_classify(cc, c->resp.status, c->resp.error_code);
	if (!http_retry_decide(&cl->quota, kind, c->attempt, cl->max_attempts,
	    cl->hooks.random(cl->hooks.arg), c->retry_after, retry_ms, &cost))
		return HTTP_VERDICT_DONE;
	c->last_cost = cost;
	log_debug("http: %s: retry in %ld ms (quota %d left)", c->what,
	    *retry_ms, cl->quota.available);
	return HTTP_VERDICT_RETRY;
}

static int
call_error_curl(const struct http_call *c, struct errbuf *err)
{
	const struct http_client *cl = c->client;
	int n = c->resp.attempts;

	if (c->too_large && cl->max_body % (1024 * 1024) == 0)
		return err_set(err, "%s failed: response body larger than the "
		    "%zu MiB limit", c->what, cl->max_body / (1024 * 1024));
	if (c->too_large)
		return err_set(err, "%s failed: response body larger than the "
		    "%zu byte limit", c->what, cl->max_body);
	return err_set(err, "%s failed: %s (after %d attempt%s)", c->what,
	    c->curl_err[0] != '\0' ? c->curl_err : curl_easy_strerror(c->cc),
	    n, n == 1 ? "" : "s");
}

int
http_call_error(const struct http_call *c, struct errbuf *err)
{
	const struct http_response *r = &c->resp;
	char tail[256];
	int n;

	if (c->cc == CURLE_OK && r->status >= 200 && r->status < 300)
		return 0;
	if (c->cc != CURLE_OK)
		return call_error_curl(c, err);
	n = snprintf(tail, sizeof(tail), "HTTP %ld", r->status);
	if (r->request_id[0] != '\0')
		n += snprintf(tail + n, sizeof(tail) - (size_t)n,
		    ", request id %s", r->request_id);
	if (r->attempts > 1)
		snprintf(tail + n, sizeof(tail) - (size_t)n,
		    ", after %d attempts", r->attempts);
	if (r->error_code[0] == '\0')
		return err_set(err, "%s failed: %s", c->what, tail);
	if (r->error_message[0] == '\0')
		return err_set(err, "%s failed: %s (%s)", c->what,
		    r->error_code, tail);
	return err_set(err, "%s failed: %s: %s (%s)", c->what, r->error_code,
	    r->error_message, tail);
}
