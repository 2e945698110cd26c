/*
 * What cost.c (the queries), cost-report.c (the answer) and cost-period.c
 * (dates and cents) share, and nothing else may use.
 */
#ifndef COST_INTERNAL_H
#define COST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "ce.h"
#include "cost.h"

/* The key index of the resource-level query (tag keys are 0..nkeys-1). */
#define COST_RESOURCE_KEY	(-1)

enum cost_method {
	COST_METHOD_RESOURCE,
	COST_METHOD_TAG
};

struct cost_acct {
	char			 id[13];
	enum cost_method	 method;
	int64_t			 resource_fetch;	/* 0: none */
	int64_t			*tag_fetch;		/* per key; 0: none */
	int			 fetched;	/* some data asked for now */
	char			*error;		/* no gap, and why */
	json_t			*block;		/* the answer's account entry */
	long long		 gap_cents;
	int			 has_gap;
};

struct cost_run_private;

struct cost_run {
	struct cost		*cost;
	struct cost_run_private	*p;
	int64_t			 scan_id;
	const struct policy	*policy;
	struct cost_range	 period;
	struct cost_range	 window;	/* days 0: no resource window */
	char			*metric;
	char			 day[CE_DATE_SIZE];	/* today, UTC */
	struct cost_acct	*accts;
	size_t			 naccts;
	const char		**keys;		/* required keys, error severity */
	size_t			 nkeys;
	unsigned		 requests;
	int			 finished;
};

/* cost-period.c */
void	cost_date(time_t now, int days_offset, char out[CE_DATE_SIZE]);
void	cost_acct_init(struct cost_acct *, const char *id, size_t nkeys);
void	cost_acct_clear(struct cost_acct *);
void	cost_acct_set_fetch(struct cost_acct *, int key, int64_t fetch_id);

/* cost-report.c: every account's block and gap, once the data is in. */
void	cost_report(struct cost_run *);

/* cost.c */
struct store *cost_store(const struct cost_run *);
const struct config *cost_run_config(const struct cost_run *);

#endif
