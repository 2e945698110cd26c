/*
 * Cost Explorer queries, run on the supervisor's event loop: one query is
 * GetCostAndUsageWithResources grouped by LINKED_ACCOUNT and RESOURCE_ID,
 * or GetCostAndUsage grouped by LINKED_ACCOUNT and one cost allocation tag,
 * over a date range, filtered to a list of linked accounts, followed page
 * by page (NextPageToken) to the end. The answer is one line per (account,
 * group key) with the amount summed over the periods and pages, held in
 * integer nano-dollars so that sums are exact.
 */
#ifndef CE_H
#define CE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct aws_creds;
struct errbuf;
struct evcurl;
struct http_client;

/* "YYYY-MM-DD" and its NUL. */
#define CE_DATE_SIZE		11
/* Cost Explorer's price per paid request, in USD cents. */
#define CE_REQUEST_PRICE_CENTS	1
/* A query that has not ended after this many pages is stopped (an error). */
#define CE_MAX_PAGES		100000
/* The metrics a query may ask for. */
#define CE_METRIC_UNBLENDED	"UnblendedCost"
#define CE_METRIC_AMORTIZED	"AmortizedCost"
/* AWS's answer when resource-level data is not enabled for the caller. */
#define CE_DATA_UNAVAILABLE	"DataUnavailableException"

struct ce_query {
	/*
	 * tag_key NULL: GetCostAndUsageWithResources, GroupBy
	 * [DIMENSION LINKED_ACCOUNT, DIMENSION RESOURCE_ID]. Else
	 * GetCostAndUsage, GroupBy [DIMENSION LINKED_ACCOUNT, TAG tag_key].
	 */
	const char		*tag_key;
	char			 start[CE_DATE_SIZE];	/* inclusive */
	char			 end[CE_DATE_SIZE];	/* exclusive */
	const char		*metric;		/* CE_METRIC_* */
	/* Filter: DIMENSION LINKED_ACCOUNT in these (at least one). */
	const char *const	*accounts;
	size_t			 naccounts;
};

/*
 * One group of the answer. key is the RESOURCE_ID group value as AWS
 * gives it (an instance, volume or bucket id, an ARN, or "NoResourceId"),
 * or for a tag query the tag value after "key$" ("" for spend without the
 * tag or with an empty value). Lines are unique per (account_id, key).
 */
struct ce_line {
	char		 account_id[13];
	char		*key;
	int64_t		 nanos;		/* USD x 1e9; negative for credits */
};

struct ce_lines {
	struct ce_line	*v;
	size_t		 count;
	/*
	 * ce.c's own: "account\x1fkey" -> index in v, kept across pages so
	 * that adding a group is O(1). Start from a zeroed struct; only
	 * ce_lines_free releases it.
	 */
	json_t		*index;
};

/*
 * How a query ended. rc 0: every page read, lines hold the answer. rc -1:
 * error is a sentence naming the operation, the AWS code and message (or
 * the transport failure), aws_code the AWS error code ("" when none), and
 * lines are empty. requests counts every page request sent, failed ones
 * and retries included (each is billed).
 */
struct ce_answer {
	int		 rc;
	const char	*error;
	const char	*aws_code;
	unsigned	 requests;
	struct ce_lines	 lines;
};

struct ce_fetch;

/*
 * Start a query. creds are copied (creds_dup); http is the client calls are
 * made with (the service row "ce", us-east-1 unless AWS_ENDPOINT_URL[_COST_
 * EXPLORER] says otherwise). done is called exactly once from the event
 * loop, never before ce_fetch_start returns, unless ce_fetch_cancel comes
 * first; the answer is valid during the call only, and the fetch is freed
 * after done returns.
 */
struct ce_fetch *ce_fetch_start(struct evcurl *, struct http_client *,
	    const struct aws_creds *, const struct ce_query *,
	    void (*done)(const struct ce_answer *, void *arg), void *arg);
/* Stop and free a fetch that has not called back; done is never called. */
void	ce_fetch_cancel(struct ce_fetch *);

/* Pure pieces, exposed for the unit tests. */

/* The request body of one page (next_token NULL for the first). */
json_t	*ce_request_json(const struct ce_query *, const char *next_token);
/*
 * Add one reply page's groups to lines (summing into an existing line of
 * the same account and key). *next_token is a new string, or NULL on the
 * last page. -1 with err naming the JSON path and the bad value when the
 * page is not what AWS sends (a group without two keys, an account that is
 * not 12 digits, a missing metric, an amount that is not a decimal).
 */
int	ce_parse_page(const json_t *reply, const struct ce_query *,
	    struct ce_lines *, char **next_token, struct errbuf *);
/*
 * A decimal string ("12.34", "-0.5", "3", "1.2345678901") to nano-dollars,
 * rounded half away from zero beyond nine decimals. -1 when it is not a
 * plain decimal or does not fit.
 */
int	ce_parse_amount(const char *, int64_t *nanos);
void	ce_lines_free(struct ce_lines *);

#endif
