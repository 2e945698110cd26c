/*
 * Cost Explorer answers in the history database (sql/002-cost.sql): the
 * per-day cache (a fetch is reused all the UTC day it was made, so a second
 * scan that day sends no paid request) and the joins of cost lines with a
 * scan's resources and violations that give the cost attribution gap.
 * Amounts are integer nano-dollars (ce.h), summed by SQLite exactly.
 */
#ifndef COSTDB_H
#define COSTDB_H

#include <stdint.h>

#include <jansson.h>

struct ce_lines;
struct errbuf;
struct store;

/* What one cached fetch answers: one linked account, one query. */
struct costdb_key {
	const char	*day;		/* UTC date the data was fetched */
	const char	*caller_account; /* whose credentials asked CE */
	const char	*account_id;	/* the linked account the lines cover */
	const char	*tag_key;	/* NULL: resource-level (RESOURCE_ID) */
	const char	*start, *end;	/* YYYY-MM-DD, end exclusive */
	const char	*metric;
};

enum costdb_status {
	COSTDB_OK,		/* lines are the answer (maybe none) */
	COSTDB_UNAVAILABLE	/* DataUnavailableException: no lines */
};

/*
 * The fetch cached for exactly this key: 1 with *fetch_id and *status,
 * 0 when there is none, -1 on a database error.
 */
int	costdb_find(struct store *, const struct costdb_key *,
	    int64_t *fetch_id, enum costdb_status *, struct errbuf *);
/*
 * Record one account's answer in one transaction: the fetch row (with the
 * requests its query made, shared by the accounts of one query) and the
 * lines of lines whose account_id is key->account_id (others are skipped).
 */
int	costdb_put(struct store *, const struct costdb_key *,
	    enum costdb_status, unsigned requests, const struct ce_lines *,
	    int64_t *fetch_id, struct errbuf *);

/*
 * The resource-level gap of one account of a scan, joining the scan's
 * resources rows (scan_id, account_id) with the lines of fetch_id by the
 * Cost Explorer RESOURCE_ID (costdb_ce_resource_id). All nano-dollars:
 * - violating: resources with at least one error-severity violation;
 * - unreadable: in-scope resources whose tags could not be read;
 * - matched: every scanned resource that has a line;
 * - total: every line of the fetch; total - matched is spend on nothing
 *   the scan saw (other services and types, deleted resources,
 *   NoResourceId);
 * - by_region, by_type: {name: nanos} of violating + unreadable;
 * - by_tag_key: {tag key: nanos} of the resources with an error-severity
 *   violation on that key (a resource counts under each of its keys).
 * The objects are new references; costdb_gap_clear releases them.
 */
struct costdb_gap {
	int64_t		 violating, unreadable, matched, total;
	json_t		*by_region, *by_type, *by_tag_key;
};

int	costdb_resource_gap(struct store *, int64_t scan_id,
	    const char *account_id, int64_t fetch_id, struct costdb_gap *,
	    struct errbuf *);
void	costdb_gap_clear(struct costdb_gap *);

/* Every line of a fetch, in key order; fn returning -1 stops (and fails). */
int	costdb_lines(struct store *, int64_t fetch_id,
	    int (*fn)(const char *key, int64_t nanos, void *), void *arg,
	    struct errbuf *);

/* One resource's cost in a fetch: 0 nanos when it has no line. */
int	costdb_resource_cost(struct store *, int64_t fetch_id,
	    const char *ce_resource_id, int64_t *nanos, struct errbuf *);

/*
 * How Cost Explorer names a resource in RESOURCE_ID: the resource id for
 * ec2:* types and s3:bucket (instance, volume, bucket name), the ARN for
 * every other type. Borrowed: one of the arguments.
 */
const char *costdb_ce_resource_id(const char *resource_type,
	    const char *resource_id, const char *arn);

#endif
