/*
 * Requests to AWS over libcurl: endpoint resolution, SigV4 signing, AWS
 * standard retry mode and error decoding. A call can run blocking
 * (http_send) or be driven on a caller's curl multi handle (http_call_*).
 *
 * The program calls curl_global_init() before http_client_new() and
 * curl_global_cleanup() after the last http_client_free(). A client and its
 * calls belong to one thread.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <time.h>
#include <curl/curl.h>

struct aws_creds;
struct errbuf;

enum aws_protocol {
	AWS_PROTO_QUERY,	/* form POST, XML reply: STS, EC2, RDS, IAM */
	AWS_PROTO_JSON,		/* JSON 1.x with X-Amz-Target: tagging, ECS, CE, Orgs */
	AWS_PROTO_REST_XML,	/* S3 */
	AWS_PROTO_REST_JSON	/* Lambda */
};

/* One row per AWS service in http-endpoint.c's service table. */
struct aws_service {
	const char	*id;		/* our name: "sts", "ec2", "s3", "tagging", ... */
	const char	*signing_name;	/* SigV4 credential scope service */
	const char	*endpoint_prefix; /* host label: "ec2", "tagging", "ce" */
	const char	*env_suffix;	/* AWS_ENDPOINT_URL_<env_suffix> */
	const char	*global_region;	/* non-NULL: signed for and served from this region */
	const char	*global_host;	/* non-NULL: fixed host, e.g. "iam.amazonaws.com" */
	enum aws_protocol protocol;
	const char	*json_version;	/* "1.1" for application/x-amz-json-1.1 */
	const char	*target_prefix;	/* JSON: X-Amz-Target is "<prefix>.<operation>" */
	int		 s3_signing;	/* SigV4 with S3 rules (sigv4_request.s3) */
};

const struct aws_service *aws_service_find(const char *id);
/*
 * Base URL without trailing '/' into *url (caller frees), honouring
 * AWS_ENDPOINT_URL_<SUFFIX>, then AWS_ENDPOINT_URL (empty means unset), then
 * https://<prefix>.<region>.amazonaws.com or the global host. An override
 * must be http(s)://host[:port] with nothing after it; anything else, or a
 * malformed region, is -1 with err naming the variable and its value.
 */
int	aws_endpoint_resolve(const struct aws_service *, const char *region,
	    char **url, struct errbuf *);
/* The same, NULL when invalid (the reason logged): prefer the above. */
char	*aws_endpoint_url(const struct aws_service *, const char *region);
/* Region to sign with: the global region for global services. */
const char *aws_signing_region(const struct aws_service *, const char *region);

#define HTTP_CONNECT_TIMEOUT_MS	10000
#define HTTP_REQUEST_TIMEOUT_MS	60000
#define HTTP_MAX_ATTEMPTS	3
#define HTTP_MAX_BODY		((size_t)64 * 1024 * 1024)

struct http_options {
	long	connect_timeout_ms;	/* 0: HTTP_CONNECT_TIMEOUT_MS */
	long	request_timeout_ms;	/* 0: HTTP_REQUEST_TIMEOUT_MS (whole transfer) */
	int	max_attempts;		/* 0: standard mode's 3 */
	const char *ca_bundle;		/* NULL: AWS_CA_BUNDLE or system default */
	size_t	max_body;		/* 0: HTTP_MAX_BODY */
};

struct http_client;

struct http_client *http_client_new(const struct http_options *);
void	http_client_free(struct http_client *);
/* Tokens left in the client's retry quota (for diagnostics and tests). */
int	http_client_quota(const struct http_client *);

/*
 * Test seam: replace the jitter source (returns [0, 1)) and the sleep of the
 * blocking path. NULL restores the defaults (arc4random, nanosleep).
 */
struct http_hooks {
	double	(*random)(void *);
	void	(*sleep_ms)(void *, long);
	void	*arg;
};
void	http_client_set_hooks(struct http_client *, const struct http_hooks *);

struct http_request {
	const struct aws_service *service;
	const char	*region;	/* may be NULL for global services */
	const char	*method;	/* "GET", "POST", "PUT", "DELETE", "HEAD" */
	const char	*path;		/* encoded path, "/" when empty */
	const char	*query;		/* encoded query without '?', or NULL */
	/*
	 * JSON protocols: the operation ("GetResources"); the service's target
	 * prefix is put in front. A value containing '.' is sent as is.
	 */
	const char	*target;
	const char	*body;
	size_t		 body_len;
};

/* Pass a zeroed or cleared struct: the calls overwrite it. */
struct http_response {
	long	 status;		/* HTTP status, 0 if no response */
	char	*body;			/* NUL-terminated ("" when empty) */
	size_t	 body_len;
	char	 request_id[128];
	char	 error_code[128];	/* AWS error code when status >= 300 */
	char	 error_message[512];
	int	 attempts;
	char	 content_type[128];
};

void	http_response_clear(struct http_response *);

/*
 * Blocking: sign, send, retry per standard mode, decode the error. Returns 0
 * for a 2xx reply; -1 otherwise, with err reading
 * "<service> <operation> failed: <code>: <message> (HTTP <status>, request
 * id <id>)" or "... failed: <curl error> (after N attempts)"; the response
 * is still filled when a reply arrived.
 */
int	http_send(struct http_client *, const struct aws_creds *,
	    const struct http_request *, struct http_response *,
	    struct errbuf *);

/*
 * Unsigned request to a full http(s) URL (IMDS, container credentials);
 * headers is a NULL-terminated list of "Name: value" or NULL. Retried like
 * any call, so give IMDS probing a client with short timeouts and
 * max_attempts 1.
 */
int	http_plain(struct http_client *, const char *method, const char *url,
	    const char *const *headers, const char *body,
	    struct http_response *, struct errbuf *);

/*
 * Driving a call on the caller's multi handle:
 *	c = http_call_new(client, &req, arg);
 *	http_call_rearm(c, creds, err); curl_multi_add_handle(m, http_call_easy(c));
 *	... on CURLMSG_DONE: curl_multi_remove_handle(), then
 *	http_call_finish(c, msg->data.result, &ms): RETRY means wait ms, rearm,
 *	add again; DONE means read http_call_response() / http_call_error().
 * The credentials passed to rearm must stay valid until finish returns.
 * CURLINFO_PRIVATE of the easy handle is the struct http_call *; leave it.
 */
enum http_verdict {
	HTTP_VERDICT_DONE,	/* response final (success or error) */
	HTTP_VERDICT_RETRY	/* call http_call_rearm after retry_ms, then re-add */
};

struct http_call;

struct http_call *http_call_new(struct http_client *,
	    const struct http_request *, void *arg);
void	http_call_free(struct http_call *);
/* Sign (again) with these credentials; the easy handle is then ready to add. */
int	http_call_rearm(struct http_call *, const struct aws_creds *,
	    struct errbuf *);
CURL	*http_call_easy(struct http_call *);
void	*http_call_arg(struct http_call *);
enum http_verdict http_call_finish(struct http_call *, CURLcode,
	    long *retry_ms);
struct http_response *http_call_response(struct http_call *);
/* After DONE: 0 for a 2xx reply, else -1 with the sentence of http_send. */
int	http_call_error(const struct http_call *, struct errbuf *);
/* The request headers of the current attempt, as sent (for tests). */
const struct curl_slist *http_call_headers(const struct http_call *);

/*
 * AWS standard retry mode, as pure pieces (the SDKs' "Retry behavior"
 * reference; the numbers match botocore's retries/standard.py).
 */
enum http_retry_kind {
	HTTP_RETRY_NONE,	/* success or a final error */
	HTTP_RETRY_TRANSIENT,	/* connection failure, 5xx, transient code */
	HTTP_RETRY_TIMEOUT,	/* transient, but costs more quota */
	HTTP_RETRY_THROTTLE	/* throttling code or HTTP 429 */
};

#define HTTP_QUOTA_CAPACITY	500
#define HTTP_QUOTA_RETRY_COST	5
#define HTTP_QUOTA_TIMEOUT_COST	10
#define HTTP_QUOTA_NO_RETRY_REFUND 1
#define HTTP_MAX_BACKOFF_MS	20000

struct http_retry_quota {
	int	available;
	int	capacity;
};

enum http_retry_kind http_retry_classify(CURLcode, long status,
	    const char *error_code);
void	http_quota_init(struct http_retry_quota *);
/* Take the cost of one retry of this kind: the cost, or 0 when empty. */
int	http_quota_acquire(struct http_retry_quota *, enum http_retry_kind);
/* A 2xx reply: refund the last retry's cost, or 1 when none (capped). */
void	http_quota_success(struct http_retry_quota *, int last_cost);
/*
 * Delay before the next attempt after attempt (1-based) failed:
 * x-amz-retry-after milliseconds when that header is a valid number, else
 * min(rnd * 2^(attempt-1) s, 20 s); both capped at HTTP_MAX_BACKOFF_MS.
 */
long	http_retry_delay_ms(int attempt, double rnd, const char *retry_after);
/*
 * The whole decision: 1 to retry after *delay_ms having taken *cost from the
 * quota, 0 to stop (not retryable, attempts used up, or quota empty).
 */
int	http_retry_decide(struct http_retry_quota *, enum http_retry_kind,
	    int attempt, int max_attempts, double rnd, const char *retry_after,
	    long *delay_ms, int *cost);

/* "Name: value" with secret values (Authorization, tokens) as [redacted]. */
char	*http_redact_header(const char *line);

#endif
