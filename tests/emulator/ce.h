/*
 * Shared by the Cost Explorer files: cost lines (a fixture costs[] row, or a
 * resource's daily_cost over its days), the parsed query, filter
 * expressions and the aggregated result that pages are cut from.
 */
#ifndef CE_H
#define CE_H

#include <stdint.h>

#include "emulator.h"
#include "queue-compat.h"

#define CE_MAX_GROUPS	2	/* AWS groups by at most two keys */
#define CE_MAX_METRICS	7

/* One source of cost: the same amount on every day first..last. */
struct ce_line {
	const struct emu_account	*account;
	const char			*service;
	const char			*resource_id;	/* NULL: none */
	const char			*region;	/* "global": none */
	const struct emu_tag		*tags;
	size_t				 ntags;
	long				 first;		/* days since 1970 */
	long				 last;		/* inclusive */
	int64_t				 micros;	/* USD 1e-6 per day */
};

struct ce_dim;		/* a dimension row of ce-filter.c */

/* A GroupBy entry: a dimension, or a tag key when dim is NULL. */
struct ce_groupdef {
	const struct ce_dim	*dim;
	const char		*key;		/* dimension name or tag key */
};

struct ce_expr;

struct ce_query {
	int			 with_resources;
	long			 start;		/* days; end exclusive */
	long			 end;
	int			 monthly;
	long			 today;
	const char		*metrics[CE_MAX_METRICS];
	size_t			 nmetrics;
	struct ce_groupdef	 groups[CE_MAX_GROUPS];
	size_t			 ngroups;
	struct ce_expr		*filter;	/* NULL: everything */
	const struct emu_account *caller;
	const struct emu_fixture *fx;
};

/* Sums of one group (one combination of keys) per time bucket. */
struct ce_group {
	char		*keys[CE_MAX_GROUPS];
	int64_t		*micros;
	int64_t		*usage;		/* line-days */
	unsigned char	*present;	/* some line fell in the bucket */
};

/* A page item: a group in a bucket, or an empty bucket (group -1). */
struct ce_entry {
	size_t		 bucket;
	long		 group;
};

struct ce_result {
	char			 key[65];	/* hash of query and caller */
	long			*starts;	/* nbuckets + 1 day numbers */
	size_t			 nbuckets;
	struct ce_group		*groups;	/* sorted by keys */
	size_t			 ngroups;
	struct ce_entry		*entries;
	size_t			 nentries;
	TAILQ_ENTRY(ce_result)	 entry;
};

/* ce-filter.c */
struct errbuf;
const struct ce_dim *ce_filter_dim(const char *name, int group,
	    int with_resources, struct errbuf *);
int	ce_filter_parse(const json_t *, int with_resources, struct ce_expr **,
	    struct errbuf *);
void	ce_filter_free(struct ce_expr *);
int	ce_filter_match(const struct ce_expr *, const struct ce_line *);
/* 1 when the expression filters on the dimension named. */
int	ce_filter_mentions(const struct ce_expr *, const char *dim);
/* A line's value of a dimension or tag key (dim NULL); NULL: none. */
const char *ce_filter_value(const struct ce_dim *, const char *tag_key,
	    const struct ce_line *);

/* ce-data.c */
/* The result for the query, computed or from the cache; the cache owns it. */
struct ce_result *ce_data_result(const struct emu_fixture *,
	    const struct ce_query *, const char *key);
/* Micro-dollars as a decimal string, exact: "12.34", "-0.5", "0". */
void	ce_data_amount(int64_t micros, char *out, size_t outsz);

#endif
