/*
 * One compliance scan over accounts x regions x resource types, for the
 * CLI (`tagwarden scan`) and the MCP tools alike: validate the request,
 * find the local account, reuse cached account results, run one worker
 * job per remaining account with its credentials, stream frames into the
 * result and the history, and report progress and the final result.
 */
#ifndef SCAN_H
#define SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

struct aws_creds;
struct config;
struct cost_run;
struct errbuf;
struct event_base;
struct scan;
struct scan_engine;
struct store;

/* Resources per RESOURCE_BATCH frame a worker may send. */
#define SCAN_MAX_BATCH		500
/* A worker asks for fresh credentials this long before they expire. */
#define SCAN_REFRESH_MARGIN_S	300
/* Environment variable naming the worker executable (tests, packaging). */
#define SCAN_WORKER_ENV		"TAGWARDEN_WORKER"

/*
 * What to scan. Empty lists mean the defaults: no account_ids scans the
 * local account only (and the result is a ComplianceResult; any account
 * ID gives a MultiAccountComplianceResult); no regions means
 * ALLOWED_REGIONS, or every enabled region when that is empty; no
 * resource_types, or the single entry "all", means the policy's types.
 */
struct scan_request {
	const char *const	*account_ids;
	size_t			 naccount_ids;
	const char *const	*regions;
	size_t			 nregions;
	const char *const	*resource_types;
	size_t			 ntypes;
	int			 force_refresh;	/* ignore the result cache */
	/*
	 * Record this scan in the history (needs the engine's store). Off,
	 * nothing is written, but a fresh stored result may still be reused.
	 */
	int			 store;
	/*
	 * The cost phase (docs/cost.md), run when COST_EXPLORER_ENABLED and
	 * the scan is recorded: no_cost skips it; metric NULL means
	 * COST_METRIC; cost_start/cost_end NULL mean the last 30 full days.
	 */
	int			 no_cost;
	const char		*cost_metric;
	const char		*cost_start, *cost_end;
};

enum scan_outcome {
	SCAN_OK,	/* every account was scanned */
	SCAN_PARTIAL,	/* some accounts failed, timed out or were cancelled */
	SCAN_FAILED,	/* nothing scanned: error says why (e.g. no identity) */
	SCAN_REFUSED	/* the request is not allowed (error says how to fix) */
};

struct scan_progress {
	size_t		accounts_done, accounts_total;
	long long	resources;	/* received so far, cached included */
	long long	elapsed_ms;
};

struct scan_callbacks {
	/* Often: after every batch, region and finished account. */
	void	(*progress)(struct scan *, const struct scan_progress *,
		    void *arg);
	/*
	 * Once, from the event loop, never inside scan_start. The result
	 * stays valid until scan_free, which may be called from here.
	 */
	void	(*done)(struct scan *, enum scan_outcome, const char *error,
		    const struct result *, void *arg);
};

/*
 * Long-lived: STS with its credential cache, the job queue (one cap on
 * workers across all scans), the store (borrowed; NULL: no history and no
 * cache; close it after scan_engine_free). base_creds is copied.
 */
struct scan_engine *scan_engine_new(struct event_base *,
	    const struct config *, const struct aws_creds *base_creds,
	    struct store *, const char *worker_path);
/* Kills live workers; free the scans first. */
void	scan_engine_free(struct scan_engine *);

/*
 * Validate the request (account IDs, regions, types against the policy at
 * POLICY_PATH, read now) and start. NULL with err naming the field, the
 * value and the fix when the request or the policy is invalid.
 */
struct scan *scan_start(struct scan_engine *, const struct scan_request *,
	    const struct scan_callbacks *, void *arg, struct errbuf *);
/*
 * Stop: kill this scan's workers, record unfinished accounts as
 * cancelled; done follows from the event loop.
 */
void	scan_cancel(struct scan *);
/* Safe at any time; a scan still running is cancelled without a report. */
void	scan_free(struct scan *);

const struct result *scan_result(const struct scan *);
/* The cost phase's run (per-resource costs), or NULL when it did not run. */
const struct cost_run *scan_cost_run(const struct scan *);
/* The scans row id, 0 when not recorded. */
int64_t	scan_history_id(const struct scan *);

/*
 * The tagwarden-worker to run: $TAGWARDEN_WORKER, else worker/ beside the
 * build tree's supervisor/ (found through /proc/self/exe), else
 * LIBEXECDIR/tagwarden-worker. A new string, or NULL with err.
 */
char	*scan_worker_path(struct errbuf *);

#endif
