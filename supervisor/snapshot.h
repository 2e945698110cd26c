/*
 * A recorded scan read back from the history database: its resources
 * (with their violations) as objects keyed by the names of the worker's
 * RESOURCE_BATCH row values, and its regions in the REGION_DONE shape
 * (common/proto.h), for the tools that need more than the scan's counts:
 * tag filters, untagged resources, and lookups by ARN. Read-only; the
 * rows are the ones store.c wrote.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stdint.h>

#include <jansson.h>

struct errbuf;
struct store;

/*
 * Call fn for every resource of account_id (NULL: every account) of scan
 * scan_id, in (account, ARN) order. The resource is a new object (fn
 * borrows it) with the proto keys plus age_days (whole days since
 * created_at, or null). fn returning -1 stops the walk and makes it
 * return -1 (fn sets err). -1 with err on a database error too.
 */
int	snapshot_resources(struct store *, int64_t scan_id,
	    const char *account_id,
	    int (*fn)(const char *account_id, const json_t *resource, void *),
	    void *arg, struct errbuf *);

/*
 * A snapshot resource as the RESOURCE_BATCH row result_add_resource()
 * takes (a new reference; age_days left out).
 */
json_t	*snapshot_row(const json_t *resource);

/* The same for the scan's region rows. */
int	snapshot_regions(struct store *, int64_t scan_id,
	    const char *account_id,
	    int (*fn)(const char *account_id, const json_t *region, void *),
	    void *arg, struct errbuf *);

#endif
