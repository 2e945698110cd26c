/*
 * The collectors' side of the account scan: the table of scannable AWS
 * services (one row each, implemented in svc-<name>.c), the resource types
 * they produce, and the calls collect.c offers them to issue requests on
 * the scan's curl multi handle and to record resources in a region's
 * inventory.
 */
#ifndef SERVICES_H
#define SERVICES_H

#include <stddef.h>

#include <jansson.h>

#include "inventory.h"

struct awsxml_node;
struct collect;
struct collect_call;
struct collect_region;
struct errbuf;
struct http_request;
struct http_response;
struct inventory;
struct inventory_resource;

/* ---- the service table (services.c) ---- */

enum services_scope {
	SERVICES_REGIONAL,	/* started once per scanned region */
	SERVICES_ACCOUNT	/* started once per account (S3, IAM) */
};

struct services_row {
	const char		*name;
	/* Types it enumerates, NULL-terminated; NULL: runs for any job. */
	const char *const	*types;
	enum services_scope	 scope;
	/*
	 * Queue the first calls; each call names the handler that continues
	 * it (next page, per-resource tag read). region is NULL for
	 * SERVICES_ACCOUNT rows. -1 with err fails the region (or account).
	 */
	int			(*start)(struct collect *,
				    struct collect_region *, struct errbuf *);
	/*
	 * Its first call always leads to another (ECS ListClusters, then
	 * DescribeClusters): started in every region before the other rows,
	 * so that the second calls overlap the rest instead of trailing it.
	 */
	int			 leads;
};

extern const struct services_row services_table[];

/* A row needed by the job: its types intersect the job's, or it has none. */
int	services_wanted(const struct services_row *, struct collect *);
/* 1 when some row of the table enumerates the type itself. */
int	services_enumerated(const char *type);
/*
 * The Tagging API's ResourceTypeFilters value for a type ("s3" for
 * buckets), or NULL when the type's own listing carries its tags.
 */
const char *services_tagging_filter(const char *type);
/*
 * A state in which the service still lists a resource that no longer
 * exists or costs (terminated instance, deleted volume, inactive cluster).
 */
int	services_gone_state(const char *type, const char *state);
/*
 * Resource type and id of an ARN ("arn:aws:ec2:r:a:instance/i-1" gives
 * ec2:instance and i-1; "arn:aws:s3:::b" gives s3:bucket and b). -1 when
 * the string is not an ARN of that shape.
 */
int	services_arn_type(const char *arn, char *type, size_t typesz,
	    const char **id);

/* Collectors, one file each. */
int	svc_tagging_start(struct collect *, struct collect_region *,
	    struct errbuf *);
int	svc_ec2_start(struct collect *, struct collect_region *,
	    struct errbuf *);
int	svc_s3_start(struct collect *, struct collect_region *,
	    struct errbuf *);
int	svc_rds_start(struct collect *, struct collect_region *,
	    struct errbuf *);
int	svc_lambda_start(struct collect *, struct collect_region *,
	    struct errbuf *);
int	svc_ecs_start(struct collect *, struct collect_region *,
	    struct errbuf *);
int	svc_iam_start(struct collect *, struct collect_region *,
	    struct errbuf *);
/* DescribeRegions in the home region; answers collect_region_offer(). */
int	svc_ec2_regions(struct collect *, struct errbuf *);

/* ---- what collect.c offers the collectors ---- */

/*
 * Calls. A handler sees a 2xx answer (or any final answer with
 * COLLECT_OWN_ERRORS) and returns 0, -1 with err (the region fails with
 * that text), or COLLECT_DEFAULT to treat the answer as an ordinary failed
 * call (the region fails with the AWS error sentence and code).
 */
#define COLLECT_DEFAULT		1
typedef int (*collect_done_fn)(struct collect *, struct collect_call *,
	    const struct http_response *, struct errbuf *);

#define COLLECT_OWN_ERRORS	0x1	/* the handler decides on errors */
#define COLLECT_BLOCKING	0x2	/* account call regions wait for (S3) */
#define COLLECT_FATAL		0x4	/* account call whose failure ends it */

/*
 * Requests are queued by the helpers below for region (NULL: an
 * account-level call); key and key2 are copied and handed back to the
 * handler (the page token sent, a bucket name, an ARN, ...).
 */
struct collect_region *collect_call_region(const struct collect_call *);
const char *collect_call_key(const struct collect_call *);
const char *collect_call_key2(const struct collect_call *);
/* The AWS error sentence of a failed call, as http_call_error gives it. */
void	collect_call_error(const struct collect_call *, struct errbuf *);
/* 1 when the call got no 2xx answer or its transfer broke. */
int	collect_call_failed(const struct collect_call *);

/* The job. */
const char *collect_account_id(const struct collect *);
const char *collect_home_region(const struct collect *);
int	collect_wants_type(const struct collect *, const char *type);
size_t	collect_types(const struct collect *, const char *const **);
void	collect_set_alias(struct collect *, const char *);
void	collect_log(struct collect *, const char *level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Regions. */
const char *collect_region_name(const struct collect_region *);
struct inventory *collect_region_inventory(struct collect_region *);
/* A region being scanned and not yet finished, or NULL. */
struct collect_region *collect_region_find(struct collect *, const char *);
/* DescribeRegions answers: one call per region, then the end. */
void	collect_region_offer(struct collect *, const char *name,
	    const char *opt_in_status);
int	collect_regions_listed(struct collect *, struct errbuf *);

/* ---- helpers for requests and answers (collect.c) ---- */

/*
 * The request's region is region's name, or the home region for an
 * account-level call (global services sign for their own region).
 * Query protocol: POST "Action=A&Version=V" plus params (encoded, or NULL).
 */
void	collect_query(struct collect *, struct collect_region *,
	    const char *service, const char *action, const char *version,
	    const char *params, int flags, collect_done_fn, const char *key,
	    const char *key2);
/* JSON protocol: POST body (stolen) to the bare operation name. */
void	collect_json(struct collect *, struct collect_region *,
	    const char *service, const char *operation, json_t *body,
	    int flags, collect_done_fn, const char *key, const char *key2);
/*
 * REST protocols: GET path (encoded) with query (encoded, or NULL);
 * operation names the call in messages.
 */
void	collect_get(struct collect *, struct collect_region *,
	    const char *service, const char *operation, const char *path,
	    const char *query, int flags, collect_done_fn, const char *key,
	    const char *key2);

/* An XML answer whose document element must be root; NULL with err. */
struct awsxml_node *collect_parse_xml(const struct http_response *,
	    const char *root, struct errbuf *);
/* A JSON object answer; NULL with err. */
json_t	*collect_parse_json(const struct http_response *, struct errbuf *);
/*
 * Tags of list (members named item, each with key and value children, or
 * JSON objects with those members) as a source's read of the resource; a
 * NULL list is no tags. Marks the read as done; a resource listed twice
 * keeps its first reading. -1 with err when malformed.
 */
int	collect_xml_tags(struct inventory_resource *,
	    const struct awsxml_node *list, const char *item, const char *key,
	    const char *value, struct errbuf *);
int	collect_json_tags(struct inventory_resource *, enum inventory_source,
	    const json_t *list, const char *key, const char *value,
	    struct errbuf *);

/* Percent-encoding of everything but A-Z a-z 0-9 - _ . ~ (new string). */
char	*collect_urlencode(const char *);
/* Pagination tokens and markers longer than this are refused as absurd. */
#define COLLECT_MAX_TOKEN	(64 * 1024)
/*
 * Check a next-page token: NULL or "" ends the listing (returns 0); the
 * token that was just sent again, or an absurd one, is an error (-1);
 * else 1: follow it.
 */
int	collect_next_token(const char *what, const char *sent,
	    const char *next, struct errbuf *);

#endif
