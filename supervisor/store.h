/*
 * The scan history in SQLite: opening and migrating the database, one row
 * per scan, and one transaction per finished account holding its result
 * row, regions, resources and violations. It also answers the result
 * cache: the latest fresh result of an account for the same request.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct errbuf;
struct sqlite3;
struct store;
struct store_account;

/* Waited for a lock held by another tagwarden before giving up. */
#define STORE_BUSY_TIMEOUT_MS	5000
/* What replaces credential-shaped text in every stored free-text value. */
#define STORE_REDACTED		"[redacted]"

/* The schema version this binary creates and understands. */
int	store_schema_version(void);

/*
 * Open (creating the file and its missing directories, mode 0700) and
 * migrate. A database written by a newer tagwarden is refused with both
 * version numbers named.
 */
struct store *store_open(const char *path, struct errbuf *);
void	store_close(struct store *);
/* The connection, for read-only queries (history tools, tests). */
struct sqlite3 *store_sqlite(struct store *);

/*
 * A new scan row with status "running". accounts, regions and types are
 * JSON arrays (regions NULL: every enabled region).
 */
struct store_scan {
	time_t		 started_at;
	int		 multi_account;
	const json_t	*accounts;
	const json_t	*regions;
	const json_t	*types;
	const char	*policy_hash;
};

int	store_scan_begin(struct store *, const struct store_scan *,
	    int64_t *scan_id, struct errbuf *);

/* The scan's final status ("complete", "partial", "failed", "cancelled"). */
struct store_scan_end {
	time_t		 finished_at;
	const char	*status;
	const char	*error;		/* NULL unless the whole scan failed */
	int		 cost_collected;
	long long	 accounts_total, accounts_ok;
	long long	 total_resources, compliant_resources, violations;
};

int	store_scan_finish(struct store *, int64_t scan_id,
	    const struct store_scan_end *, struct errbuf *);

/*
 * One account's rows, buffered in memory while its worker streams, so that
 * nothing of the account reaches the database until it is final. Resources
 * are RESOURCE_BATCH entries and regions REGION_DONE bodies (common/proto.h
 * shapes). A resource is copied out as the rows it will be, scrubbed, so
 * the caller may free it at once; a region is kept by reference.
 */
struct store_account *store_account_new(void);
void	store_account_free(struct store_account *);
void	store_account_add_resource(struct store_account *, const json_t *);
void	store_account_add_region(struct store_account *, json_t *);
size_t	store_account_nresources(const struct store_account *);

/* The account_results row; status is "ok", "failed", "timeout", ... */
struct store_account_row {
	const char	*account_id;
	const char	*status;
	const char	*error;
	time_t		 started_at, finished_at;
	long long	 duration_ms;
	const char	*account_alias;
	long long	 total_resources, compliant_resources, violations;
	long long	 unreadable_resources;
	const char	*assumed_role_arn;
	const char	*cache_key;
	int		 from_cache;
	int64_t		 cache_scan_id;	/* 0: none */
};

/*
 * Write the row, its regions and, only when status is "ok", its resources
 * and violations, in one transaction: all of it or (on error, rolled
 * back) none of it.
 */
int	store_account_commit(struct store *, int64_t scan_id,
	    const struct store_account_row *, const struct store_account *,
	    struct errbuf *);

/*
 * The result cache. Find the latest ok, freshly scanned (not itself cached)
 * result of account_id with this cache_key that finished at or after
 * not_before. Returns 1 and fills *hit (resources with their violations
 * nested and regions, in the proto shapes), 0 when there is none, -1 on
 * error. Release with store_cached_clear().
 */
struct store_cached {
	int64_t			 scan_id;
	time_t			 finished_at;
	char			*account_alias;
	char			*assumed_role_arn;
	json_t			*resources;	/* in arrival order */
	json_t			*regions;
};

int	store_cache_find(struct store *, const char *account_id,
	    const char *cache_key, time_t not_before, struct store_cached *hit,
	    struct errbuf *);
void	store_cached_clear(struct store_cached *);

/* Scrub credential-shaped substrings (new string; for tests and logs). */
char	*store_redact(const char *);

#endif
