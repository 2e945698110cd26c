/*
 * Credentials for the accounts of a scan, obtained without blocking the
 * event loop: GetCallerIdentity for the local account (scanned with the base
 * credentials, no AssumeRole) and STS AssumeRole for every other account,
 * cached per (account, role) and refreshed within 5 minutes of expiry.
 * STS calls run on a curl multi handle driven by the supervisor's loop.
 */
#ifndef STS_H
#define STS_H

#include <stddef.h>
#include <time.h>

struct aws_creds;
struct config;
struct event_base;
struct sts;

/* Refresh cached credentials this close to their expiry. */
#define STS_REFRESH_MARGIN_S	300

/* RoleSessionName: AWS allows 2..64 characters of [\w+=,.@-]. */
#define STS_SESSION_NAME_MAX	64

/*
 * base is copied; the caller keeps its own. cfg is not copied: it must
 * outlive the sts. Base credentials that expire (web identity, IMDS) are
 * not renewed here yet: AssumeRole is signed with the copy taken now.
 */
struct sts *sts_new(struct event_base *, const struct config *,
	    const struct aws_creds *base);
/*
 * Cancels the STS calls in flight. Callbacks not yet called are never
 * called; sts_free may be called from inside any sts callback.
 */
void	sts_free(struct sts *);

/*
 * account_id is NULL on failure, with error a sentence naming the call, the
 * AWS code and message. Called exactly once (unless sts_free comes first),
 * from the event loop, never before sts_* returns. The answer is kept:
 * later calls make no request.
 */
void	sts_caller_identity(struct sts *,
	    void (*done)(const char *account_id, const char *arn,
	    const char *error, void *arg), void *arg);

/*
 * Credentials to scan account_id: the base credentials for the local
 * account (role_arn NULL; found with GetCallerIdentity first if not known
 * yet), else AssumeRole of the configured role. On failure creds is NULL and
 * error reads `AssumeRole failed for <role ARN>: <AWS code>: <AWS message>`
 * (or `...: <curl error> (after N attempts)`). creds is valid only during
 * the callback (copy it with creds_dup). force skips the cache. Requests
 * for an account whose AssumeRole is in flight share that call. Called
 * exactly once (unless sts_free comes first), from the event loop, never
 * before sts_credentials returns.
 */
void	sts_credentials(struct sts *, const char *account_id, int force,
	    void (*done)(const struct aws_creds *creds, const char *role_arn,
	    const char *error, void *arg), void *arg);

/* Number of AssumeRole calls made (for tests and the scan summary). */
unsigned long sts_assume_role_calls(const struct sts *);

/* Pure pieces, exposed for the unit tests. */

/*
 * "tagwarden-<account_id>" into buf: characters outside [\w+=,.@-] become
 * '-', and the name is cut to STS_SESSION_NAME_MAX (and to size - 1).
 */
void	sts_session_name(const char *account_id, char *buf, size_t size);

enum sts_cache_action {
	STS_CACHE_USE,		/* cached and not within the margin */
	STS_CACHE_FETCH,	/* nothing cached */
	STS_CACHE_REFRESH,	/* cached, within STS_REFRESH_MARGIN_S of expiry */
	STS_CACHE_FORCE		/* cached and valid, but the caller said force */
};

/* What to do with the cached credentials (NULL: none) at time now. */
enum sts_cache_action sts_cache_decide(const struct aws_creds *cached,
	    int force, time_t now);

#endif
