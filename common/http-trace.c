/*
 * http-trace decides what of a call may be shown: header lines with secret
 * values redacted, AWS error messages with credentials cut out, and the
 * debug trace of each attempt and reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "creds.h"
#include "http.h"
#include "http-internal.h"
#include "log.h"
#include "xmalloc.h"

#define REDACTED	"[redacted]"

/* Redaction. */

static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "x-amz-security-token",
	"x-aws-ec2-metadata-token",
};

char *
http_redact_header(const char *line)
{
	const char *colon;
	size_t i, len;

	if ((colon = strchr(line, ':')) == NULL)
		return xstrdup(line);
	len = (size_t)(colon - line);
	for (i = 0; i < HTTP_NELEM(secret_headers); i++) {
		if (strlen(secret_headers[i]) == len &&
		    strncasecmp(line, secret_headers[i], len) == 0)
			return xprintf("%.*s: " REDACTED, (int)len, line);
	}
	return xstrdup(line);
}

/* Replace every copy of needle in s (in place, never growing s). */
static void
scrub_needle(char *s, const char *needle)
{
	size_t n, r = strlen(REDACTED);
	char *p;

	if (needle == NULL || (n = strlen(needle)) == 0)
		return;
	while ((p = strstr(s, needle)) != NULL) {
		if (n < r) {
			memset(p, '*', n);
			continue;
		}
		memcpy(p, REDACTED, r);
		memmove(p + r, p + n, strlen(p + n) + 1);
	}
}

/*
 * Query services answer SignatureDoesNotMatch with the canonical request in
 * the message, and that includes the session token header: cut it off.
 */
void
http_redact_message(char *msg, size_t size, const struct aws_creds *creds)
{
	char *p;

	if ((p = strcasestr(msg, "x-amz-security-token")) != NULL)
		snprintf(p, size - (size_t)(p - msg), "[rest redacted]");
	if (creds != NULL) {
		scrub_needle(msg, creds->session_token);
		scrub_needle(msg, creds->secret_access_key);
	}
}

/* The debug trace. */

void
http_trace_request(const struct http_call *c)
{
	const struct curl_slist *p;
	char *line;

	if (log_get_level() > LOG_LEVEL_DEBUG)
		return;
	log_debug("http: > %s %s (attempt %d)", c->method, c->url, c->attempt);
	for (p = c->headers; p != NULL; p = p->next) {
		line = http_redact_header(p->data);
		log_debug("http: >   %s", line);
		free(line);
	}
}

static long
call_elapsed_ms(const struct http_call *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - c->started.tv_sec) * 1000 +
	    (now.tv_nsec - c->started.tv_nsec) / 1000000;
}

void
http_trace_reply(const struct http_call *c)
{
	const struct http_response *r = &c->resp;

	if (log_get_level() > LOG_LEVEL_DEBUG)
		return;
	if (c->cc != CURLE_OK)
		log_debug("http: < %s %s: %s (attempt %d, %ld ms)", c->method,
		    c->url, c->curl_err[0] != '\0' ? c->curl_err :
		    curl_easy_strerror(c->cc), c->attempt, call_elapsed_ms(c));
	else
		log_debug("http: < %s %s: HTTP %ld%s%s (attempt %d, %ld ms, "
		    "%zu bytes, request id %s)", c->method, c->url, r->status,
		    r->error_code[0] != '\0' ? " " : "", r->error_code,
		    c->attempt, call_elapsed_ms(c), r->body_len,
		    r->request_id[0] != '\0' ? r->request_id : "none");
}
