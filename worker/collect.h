/*
 * The worker's scan of one account: the interface between worker/main.c
 * (protocol, sandbox) and the collectors. collect_account() runs every
 * region and service of the job on one curl multi handle and streams
 * results through the channel; it returns when the account is done.
 */
#ifndef COLLECT_H
#define COLLECT_H

#include <jansson.h>

struct aws_creds;
struct channel;
struct errbuf;
struct policy;

struct collect_job {
	const char		*job_id;
	const char		*account_id;
	const char		*home_region;
	const char *const	*regions;	/* NULL: every enabled region */
	size_t			 nregions;
	const char *const	*resource_types;
	size_t			 ntypes;
	const struct policy	*policy;
	int			 max_batch;	/* resources per RESOURCE_BATCH */
	int			 refresh_margin_s; /* ask for credentials this early */
};

/*
 * Scan the account. On success the ACCOUNT_DONE frame has been sent and 0 is
 * returned; on an account-level failure (e.g. DescribeRegions refused) -1
 * with err set, and main sends ERROR. *creds may be replaced after a
 * CREDENTIALS_REQUEST (the old one freed).
 */
int	collect_account(const struct collect_job *, struct aws_creds **creds,
	    struct channel *, struct errbuf *);

#endif
