/*
 * The result of one scan: per-account tallies fed from worker frames (or
 * from the cache), then ComplianceResult or MultiAccountComplianceResult
 * JSON exactly as DESIGN.md section 6 names the fields, with a data_quality
 * block that lists everything the result does not cover.
 *
 * Counting rules (the same for every account):
 * - a resource counts in total_resources when it is in scope (the policy
 *   applies to its type) and its tags could be read; compliant_resources
 *   are those among them with no error-severity violation;
 * - a resource whose tags could not be read (tags null) is never counted
 *   and never a violation: when in scope, it is listed under data_quality;
 * - violation_count counts every violation (errors and warnings);
 * - totals and the score sum successful accounts only; the score is
 *   compliant / total, and 1.0 when total is 0.
 */
#ifndef RESULT_H
#define RESULT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

struct errbuf;

/*
 * At most this many violations are listed (after the severity filter);
 * violations_truncated and violation_count_total say what was left out.
 * The full list is in SQLite.
 */
#define RESULT_MAX_VIOLATIONS	1000
/* At most this many unreadable-tag resources are listed in data_quality. */
#define RESULT_MAX_UNREADABLE	100
/*
 * How every answer prints its numbers: 15 significant digits print a
 * dollar amount as 12.34, where jansson's default 17 print
 * 12.339999999999999 (the same double).
 */
#define RESULT_JSON_REALS	JSON_REAL_PRECISION(15)
/* "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define RESULT_TIME_SIZE	21

enum result_status {
	RESULT_PENDING,		/* still scanning */
	RESULT_OK,
	RESULT_FAILED,
	RESULT_TIMEOUT,
	RESULT_SKIPPED,
	RESULT_CANCELLED
};

/* Which violations the list shows; counts never change with it. */
enum result_severity {
	RESULT_SEVERITY_ALL,
	RESULT_SEVERITY_ERRORS_ONLY,
	RESULT_SEVERITY_WARNINGS_ONLY
};

struct rowbuf;

/* One account of the scan. Read-only outside result.c. */
struct result_account {
	char			 account_id[13];
	enum result_status	 status;
	char			*error;		/* NULL when ok */
	char			*alias;		/* NULL: unknown */
	long long		 duration_ms;
	int			 from_cache;
	time_t			 cached_at;	/* when the cached scan ran */
	long long		 seen;		/* every resource received */
	long long		 total, compliant, violations;
	long long		 errors, warnings;	/* violations by severity */
	long long		 unreadable;
	int			 has_cost;	/* cost_cents is the gap */
	long long		 cost_cents;
	/* private */
	struct result		*res;
	struct rowbuf		*kept;		/* violations, bounded */
	long long		 kept_errors, kept_warnings;
	/* The ok accounts before this one keep the list's worth already. */
	int			 enough_errors, enough_warnings;
	json_t			*unreadable_list;
	json_t			*regions;	/* failed and skipped regions */
	json_t			*arns;		/* seen ARNs, while scanning */
};

struct result;

/* multi: MultiAccountComplianceResult (account IDs were given). */
struct result *result_new(int multi, time_t scan_time);
void	result_free(struct result *);

/* Accounts appear in the output in the order they are added. */
struct result_account *result_add_account(struct result *,
	    const char *account_id);
size_t	result_naccounts(const struct result *);
const struct result_account *result_account_at(const struct result *,
	    size_t);

/*
 * One resource of a RESOURCE_BATCH (proto shape). Checks what the shape
 * check cannot (non-empty ARN, region and type; known violation_type and
 * severity). Returns 0 when counted, 1 for a duplicate ARN (ignored), -1
 * with err naming the field when the resource is invalid.
 */
int	result_add_resource(struct result_account *, const json_t *resource,
	    struct errbuf *);
/* A REGION_DONE body; failed and skipped regions go to data_quality. */
void	result_add_region(struct result_account *, const json_t *region_done);
/*
 * The account is final. Anything but RESULT_OK drops its resources and
 * violations (a half-scanned account is never counted), keeping its
 * region reports and the error.
 */
void	result_finish_account(struct result_account *, enum result_status,
	    const char *error, const char *alias, long long duration_ms);
void	result_set_cached(struct result_account *, time_t scanned_at);
/*
 * The cost phase's answer: block (a new reference, stolen) becomes
 * cost_attribution, or NULL with why (e.g. "COST_EXPLORER_ENABLED=false")
 * when there is none. An account's gap is set with result_set_account_cost.
 */
void	result_set_cost(struct result *, json_t *block, const char *why_not);
void	result_set_account_cost(struct result_account *, long long cents);
/* Cents as the JSON number of dollars every answer shows (12.34). */
json_t	*result_usd(long long cents);
/* An extra data_quality note (e.g. the history could not be written). */
void	result_note(struct result *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

struct result_totals {
	long long	accounts, ok, total, compliant, violations;
	double		score;
	int		complete;
	/* The gap: summed over the ok accounts that have one. */
	long long	cost_cents, cost_accounts;
	int		cost_complete;	/* every ok account has one */
};
void	result_totals(const struct result *, struct result_totals *);

/*
 * The JSON result; a new reference. Beside the DESIGN.md fields it has
 * severity_filter, violation_count_total (every violation of the
 * successful accounts, whatever the filter), violation_count_filtered
 * (those the filter selects), violations_truncated (the list stopped at
 * RESULT_MAX_VIOLATIONS) and data_quality {complete, accounts_not_scanned,
 * regions_not_scanned, unreadable_tags, unreadable_tags_count,
 * cached_accounts, cost_data_collected, notes}. complete is false when an
 * account was not scanned, a region of a scanned account failed, or tags
 * could not be read; skipped regions (not enabled) are listed only.
 */
json_t	*result_json(const struct result *, enum result_severity);

const char *result_status_name(enum result_status);
/* "all", "errors_only", "warnings_only" -> 0, or -1. */
int	result_severity_parse(const char *, enum result_severity *);
const char *result_severity_name(enum result_severity);
/* compliant / total, 1.0 when total is 0. */
double	result_score(long long compliant, long long total);
void	result_format_time(time_t, char buf[RESULT_TIME_SIZE]);

#endif
