/*
 * AWS Signature Version 4 for request headers, on OpenSSL's HMAC and SHA-256.
 * The canonical request is byte-identical to botocore's SigV4Auth (and
 * S3SigV4Auth when req->s3 is set). The signing key is cached per (secret,
 * date, region, service) in a struct sigv4_cache owned by the caller.
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

/*
 * Header rules: "host" is required; names are HTTP tokens in any case;
 * values must not contain CR or LF; a repeated name is signed as one
 * comma-joined value in the given order. Like botocore, "user-agent",
 * "expect" and "x-amzn-trace-id" are sent but never signed. "authorization",
 * "x-amz-date", "x-amz-security-token" and "x-amz-content-sha256" are
 * rejected: sigv4_sign() produces them.
 *
 * path is the wire path. For non-S3 services it is normalised (dot segments
 * and empty segments removed) and percent-encoded again, as AWS expects; for
 * S3 it is signed exactly as given. query is re-encoded per parameter (%XX
 * decoded, then everything outside A-Z a-z 0-9 - _ . ~ encoded; '+' is a
 * literal plus), so any equivalent encoding of it signs the same.
 */
struct sigv4_request {
	const char			*method;	/* "GET", "POST", ... */
	const char			*path;		/* as sent on the wire, e.g. "/a%20b" */
	const char			*query;		/* as sent, without '?'; NULL or "" for none */
	const struct sigv4_header	*headers;	/* must include "host" */
	size_t				 nheaders;
	const void			*body;
	size_t				 body_len;
	const char			*payload_hash;	/* NULL: SHA-256 of body; or SIGV4_UNSIGNED_PAYLOAD,
							   or 64 lowercase hex digits */
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
	char	content_sha256[65];		/* X-Amz-Content-SHA256: always for S3; for other
						   services only with UNSIGNED-PAYLOAD; else "" */
	const char *security_token;		/* X-Amz-Security-Token, or NULL; points into creds */
};

struct sigv4_cache;

/* Bounded (least recently used entry replaced); not thread-safe. */
struct sigv4_cache *sigv4_cache_new(void);
void	sigv4_cache_free(struct sigv4_cache *);
/* Counters for tests and statistics: key lookups served / derived. */
unsigned long sigv4_cache_hits(const struct sigv4_cache *);
unsigned long sigv4_cache_misses(const struct sigv4_cache *);

/* cache may be NULL (no caching). Returns 0, or -1 with err set. */
int	sigv4_sign(struct sigv4_cache *, const struct aws_creds *,
	    const struct sigv4_request *, struct sigv4_signed *,
	    struct errbuf *);

/*
 * The canonical request sigv4_sign() would hash, in a new string the caller
 * frees (for debugging and tests; it holds the session token). Returns 0, or
 * -1 with err set.
 */
int	sigv4_canonical_request(const struct aws_creds *,
	    const struct sigv4_request *, char **, struct errbuf *);

/* The SigV4 key chain for date "YYYYMMDD"; all strings NUL-terminated. */
void	sigv4_signing_key(const char *secret, const char *date,
	    const char *region, const char *service, unsigned char out[32]);

/* Lowercase hex SHA-256 of data into out[65]. */
void	sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
