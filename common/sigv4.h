/*
 * AWS Signature Version 4 for request headers, on OpenSSL's HMAC and SHA-256.
 * The signing key is cached per (date, region, service) in a struct
 * sigv4_cache owned by the caller.
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>
#include <time.h>

struct aws_creds;
struct errbuf;

#define SIGV4_UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"
#define SIGV4_MAX_HEADERS	32

struct sigv4_header {
	const char	*name;
	const char	*value;
};

struct sigv4_request {
	const char			*method;	/* "GET", "POST", ... */
	const char			*path;		/* as sent on the wire, e.g. "/a%20b" */
	const char			*query;		/* as sent, without '?'; NULL or "" for none */
	const struct sigv4_header	*headers;	/* must include "host" */
	size_t				 nheaders;
	const void			*body;
	size_t				 body_len;
	const char			*payload_hash;	/* NULL: SHA-256 of body; or SIGV4_UNSIGNED_PAYLOAD */
	const char			*region;
	const char			*service;	/* signing name, e.g. "s3", "tagging" */
	time_t				 when;
	int				 s3;		/* S3 rules: no normalisation, no double encoding,
							   X-Amz-Content-SHA256 header */
};

/*
 * What the caller adds to the request: every header below that is non-empty
 * was part of the signature and must be sent exactly as given.
 */
struct sigv4_signed {
	char	authorization[1024];
	char	amz_date[17];			/* X-Amz-Date: 20150830T123600Z */
	char	content_sha256[65];		/* X-Amz-Content-SHA256, S3 only, else "" */
	const char *security_token;		/* X-Amz-Security-Token, or NULL; points into creds */
};

struct sigv4_cache;

struct sigv4_cache *sigv4_cache_new(void);
void	sigv4_cache_free(struct sigv4_cache *);

/* cache may be NULL (no caching). Returns 0, or -1 with err set. */
int	sigv4_sign(struct sigv4_cache *, const struct aws_creds *,
	    const struct sigv4_request *, struct sigv4_signed *,
	    struct errbuf *);

/* Lowercase hex SHA-256 of data into out[65]. */
void	sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
