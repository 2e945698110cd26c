/*
 * Requests to AWS over libcurl: endpoint resolution, SigV4 signing, AWS
 * standard retry mode and error decoding. A call can run blocking
 * (http_send) or be driven on a caller's curl multi handle (http_call_*).
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

/* One row per AWS service in http.c's service table. */
struct aws_service {
	const char	*id;		/* our name: "sts", "ec2", "s3", "tagging", ... */
	const char	*signing_name;	/* SigV4 credential scope service */
	const char	*endpoint_prefix; /* host label: "ec2", "tagging", "ce" */
	const char	*env_suffix;	/* AWS_ENDPOINT_URL_<env_suffix> */
	const char	*global_region;	/* non-NULL: signed for and served from this region */
	const char	*global_host;	/* non-NULL: fixed host, e.g. "iam.amazonaws.com" */
	enum aws_protocol protocol;
	const char	*json_version;	/* "1.1" for application/x-amz-json-1.1 */
};

const struct aws_service *aws_service_find(const char *id);
/* Base URL without trailing '/', honouring AWS_ENDPOINT_URL[_<SERVICE>]. */
char	*aws_endpoint_url(const struct aws_service *, const char *region);
/* Region to sign with: the global region for global services. */
const char *aws_signing_region(const struct aws_service *, const char *region);

struct http_options {
	long	connect_timeout_ms;	/* 0: default */
	long	request_timeout_ms;	/* 0: default */
	int	max_attempts;		/* 0: standard mode's 3 */
	const char *ca_bundle;		/* NULL: AWS_CA_BUNDLE or system default */
};

struct http_client;

struct http_client *http_client_new(const struct http_options *);
void	http_client_free(struct http_client *);

struct http_request {
	const struct aws_service *service;
	const char	*region;
	const char	*method;	/* "GET" or "POST" */
	const char	*path;		/* encoded path, "/" when empty */
	const char	*query;		/* encoded query without '?', or NULL */
	const char	*target;	/* X-Amz-Target for JSON protocols, or NULL */
	const char	*body;
	size_t		 body_len;
};

struct http_response {
	long	 status;		/* HTTP status, 0 if no response */
	char	*body;			/* NUL-terminated */
	size_t	 body_len;
	char	 request_id[128];
	char	 error_code[128];	/* AWS error code when status >= 300 */
	char	 error_message[512];
	int	 attempts;
};

void	http_response_clear(struct http_response *);

/*
 * Blocking: sign, send, retry per standard mode, decode the error. Returns 0
 * for a 2xx reply; -1 otherwise, with err naming the operation, the AWS code
 * and message (response is still filled when a reply arrived).
 */
int	http_send(struct http_client *, const struct aws_creds *,
	    const struct http_request *, struct http_response *,
	    struct errbuf *);

/* Unsigned request to a full URL (IMDS, container credentials). */
int	http_plain(struct http_client *, const char *method, const char *url,
	    const char *const *headers, const char *body,
	    struct http_response *, struct errbuf *);

/* Driving a call on the caller's multi handle. */
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

#endif
