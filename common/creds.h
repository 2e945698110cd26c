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

/* An empty session_token is stored as NULL; source is cut to fit. */
struct aws_creds *creds_new(const char *access_key_id,
	    const char *secret_access_key, const char *session_token,
	    time_t expiration, const char *source);
struct aws_creds *creds_dup(const struct aws_creds *);
void	creds_free(struct aws_creds *);
/* True when the credentials expire within margin seconds of now. */
int	creds_expiring(const struct aws_creds *, time_t now, time_t margin);

/*
 * ISO 8601 time as AWS sends it ("2024-05-01T12:00:00Z", with optional
 * fractional seconds, 'Z' or a +hh:mm offset) into a UTC time_t.
 */
int	creds_parse_expiration(const char *, time_t *, struct errbuf *);

/*
 * Walk the standard chain; the first provider that yields wins. A provider
 * that is configured but broken (unreadable file, bad profile) is an error
 * naming the file and line, not a silent fall-through.
 *
 * Sources set in struct aws_creds: "environment", "web-identity",
 * "profile:<name>", "assume-role:<name>", "web-identity:<name>" (a profile's
 * web_identity_token_file), "container", "imds".
 */
int	creds_resolve_chain(struct http_client *, struct aws_creds **,
	    struct errbuf *);

/*
 * The same chain with the environment supplied by the caller (unit tests).
 * getenv returns NULL for an unset variable; empty values count as unset.
 * A NULL opts or getenv means the process environment; now 0 means time().
 */
struct creds_chain_opts {
	const char	*(*getenv)(void *arg, const char *name);
	void		*getenv_arg;
	time_t		 now;		/* for default role session names */
};

int	creds_resolve_chain_opts(struct http_client *,
	    const struct creds_chain_opts *, struct aws_creds **,
	    struct errbuf *);

#endif
