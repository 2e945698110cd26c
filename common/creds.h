/*
 * AWS credentials: the one type that holds secrets, and the standard chain
 * that finds the base credentials (environment, web identity, shared files,
 * container, EC2 instance metadata).
 */
#ifndef CREDS_H
#define CREDS_H

#include <time.h>

struct errbuf;
struct http_client;

/*
 * Only creds_free() releases this, wiping every secret byte first. There is
 * deliberately no function that prints or serialises it.
 */
struct aws_creds {
	char	*access_key_id;
	char	*secret_access_key;
	char	*session_token;		/* NULL for long-term keys */
	time_t	 expiration;		/* 0: does not expire */
	char	 source[64];		/* where they came from; not secret */
};

struct aws_creds *creds_new(const char *access_key_id,
	    const char *secret_access_key, const char *session_token,
	    time_t expiration, const char *source);
struct aws_creds *creds_dup(const struct aws_creds *);
void	creds_free(struct aws_creds *);
/* True when the credentials expire within margin seconds of now. */
int	creds_expiring(const struct aws_creds *, time_t now, time_t margin);

/*
 * Walk the standard chain; the first provider that yields wins. A provider
 * that is configured but broken (unreadable file, bad profile) is an error
 * naming the file and line, not a silent fall-through.
 */
int	creds_resolve_chain(struct http_client *, struct aws_creds **,
	    struct errbuf *);

#endif
