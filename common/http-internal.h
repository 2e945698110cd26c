/*
 * What the http*.c files share and nothing else may use: the client and
 * call structures, and the functions one part of a call's life hands to
 * another (endpoint lookup, reply capture, trace and redaction).
 */
#ifndef HTTP_INTERNAL_H
#define HTTP_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"

struct aws_creds;
struct errbuf;

#define HTTP_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct http_client {
	long			 connect_timeout_ms;
	long			 request_timeout_ms;
	int			 max_attempts;
	size_t			 max_body;
	char			*ca_bundle;
	/* DNS, TLS sessions and the connection pool outlive each call. */
	CURLSH			*share;
	struct sigv4_cache	*sigv4;
	struct http_retry_quota	 quota;
	struct http_hooks	 hooks;
};

struct http_call {
	struct http_client	*client;
	void			*arg;
	const struct aws_service *service;	/* NULL: unsigned plain call */
	char			*region;
	char			*method;
	char			*path;
	char			*query;
	char			*target;		/* full X-Amz-Target */
	char			*content_type;	/* NULL: none */
	char			*body;
	size_t			 body_len;
	char			**plain_headers;
	char			*url;			/* set at first rearm */
	char			*host;			/* Host header value */
	char			 what[256];		/* "sts AssumeRole" */
	CURL			*easy;
	struct curl_slist	*headers;
	const struct aws_creds	*creds;			/* rearm to finish */
	char			 curl_err[CURL_ERROR_SIZE];
	CURLcode		 cc;
	int			 too_large;
	size_t			 body_cap;
	struct http_response	 resp;
	char			 error_type[128];	/* x-amzn-ErrorType */
	char			 retry_after[32];	/* x-amz-retry-after */
	int			 attempt;
	int			 last_cost;
	struct timespec		 started;
};

/*
 * http-endpoint.c: scheme://host[:port] into *base and the Host header
 * value into *host (both the caller's to free), as aws_endpoint_resolve.
 */
int	http_endpoint_lookup(const struct aws_service *, const char *region,
	    char **base, char **host, struct errbuf *);

/* http-call.c: an unsigned call to a full URL (http_plain). */
struct http_call *http_call_new_plain(struct http_client *,
	    const char *method, const char *url, const char *const *headers,
	    const char *body);

/* http-reply.c: libcurl's write and header callbacks; arg is the call. */
size_t	http_reply_write(char *, size_t, size_t, void *);
size_t	http_reply_header(char *, size_t, size_t, void *);

/* http-trace.c: the debug trace, and secrets cut out of AWS messages. */
void	http_trace_request(const struct http_call *);
void	http_trace_reply(const struct http_call *);
void	http_redact_message(char *msg, size_t size, const struct aws_creds *);

#endif
