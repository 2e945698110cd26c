/*
 * One region's resources, merged by ARN from the Tagging API and the
 * service enumerators, then evaluated against the policy and streamed in
 * bounded batches.
 */
#ifndef INVENTORY_H
#define INVENTORY_H

#include <stddef.h>

#include <jansson.h>

struct errbuf;
struct inventory;
struct inventory_resource;
struct policy;

/* Where a resource or its tags were seen. */
enum inventory_source {
	INVENTORY_ENUMERATOR,	/* the service's own listing or tag read */
	INVENTORY_TAGGING	/* Resource Groups Tagging API GetResources */
};

/*
 * Bounds on what AWS may send for one resource. AWS allows 50 user tags
 * (plus aws: system tags), keys of 128 and values of 256 characters (up
 * to 4 bytes each in UTF-8); anything past these is a malformed answer.
 */
#define INVENTORY_MAX_TAGS	256
#define INVENTORY_MAX_KEY	(128 * 4)
#define INVENTORY_MAX_VALUE	(256 * 4)
#define INVENTORY_MAX_ARN	2048
#define INVENTORY_MAX_ID	1024
#define INVENTORY_MAX_FIELD	64	/* type, state, created_at (proto.c) */
/* Far beyond real regions; stops endless pages from eating memory. */
#define INVENTORY_MAX_RESOURCES	500000

struct inventory *inventory_new(void);
void	inventory_free(struct inventory *);
size_t	inventory_count(const struct inventory *);

/*
 * The resource with this ARN, added when new. A second source for the same
 * ARN gets the same resource, so it is seen once. -1 with err when a field
 * is empty or beyond the bounds above.
 */
int	inventory_get(struct inventory *, enum inventory_source,
	    const char *type, const char *arn, const char *id,
	    struct inventory_resource **, struct errbuf *);
/* Optional fields; NULL or "" clears. Too long: -1 with err. */
int	inventory_set_state(struct inventory_resource *, const char *,
	    struct errbuf *);
int	inventory_set_created(struct inventory_resource *, const char *,
	    struct errbuf *);
/* The service lists it in a state where it no longer exists. */
void	inventory_set_gone(struct inventory_resource *);
/*
 * Tags as one source read them: inventory_tags_read() says that source's
 * read succeeded (even with no tags), inventory_tag() adds one. A repeated
 * key, an oversize key or value, or too many tags: -1 with err.
 */
void	inventory_tags_read(struct inventory_resource *, enum inventory_source);
/* 1 when that source's tags were read already (a resource listed twice). */
int	inventory_has_tags(const struct inventory_resource *,
	    enum inventory_source);
int	inventory_tag(struct inventory_resource *, enum inventory_source,
	    const char *key, const char *value, struct errbuf *);
/* The enumerator's tag read failed (why: "AccessDenied: ..."). */
void	inventory_tags_failed(struct inventory_resource *, const char *why);
/*
 * The region's Tagging API listing ended. why NULL: it was read to the end,
 * and since it shows every resource of the job's types that has or had
 * tags, a resource no source read tags for has none. why set (an AWS
 * refusal, "AccessDeniedException: ..."): such a resource's tags are
 * unknown, with why as the reason. Until this is called they are unknown.
 */
void	inventory_tagging_listed(struct inventory *, const char *why);

/*
 * What a region reports. sent: resources in RESOURCE_BATCH frames;
 * counted: in scope with readable tags (the score's denominator);
 * compliant: counted with no error-severity violation; violations: every
 * violation (both severities) of counted resources.
 */
struct inventory_totals {
	long long	sent;
	long long	counted;
	long long	compliant;
	long long	violations;
};

struct inventory_emit {
	const struct policy	*policy;
	const char		*region;
	size_t			 max_batch;	/* resources per batch */
	size_t			 max_bytes;	/* compact JSON per batch */
	/* Types an enumerator lists: a Tagging-API-only one is stale. */
	int			(*enumerated)(const char *type);
	/*
	 * Send one batch: the compact JSON text of its {resources:[...]}
	 * body, len bytes (NUL-terminated; the caller keeps it); -1 stops.
	 */
	int			(*send)(void *, const char *, size_t,
				    struct errbuf *);
	void			*arg;
};

/*
 * Evaluate every resource, in the order first seen, and send them in
 * batches; the resources are freed as they go. Totals are added to *t.
 */
int	inventory_emit(struct inventory *, const struct inventory_emit *,
	    struct inventory_totals *, struct errbuf *);

#endif
