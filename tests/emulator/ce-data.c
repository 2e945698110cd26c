/*
 * Cost Explorer's numbers: cost lines from the fixture (costs[] rows and
 * resources' daily_cost), summed per group and time bucket in integer
 * micro-dollars so every printed amount is exact, and a small cache of
 * results so that following NextPageToken does not recompute a query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ce.h"
#include "xmalloc.h"

#define CE_CACHE_MAX	8	/* results kept: a few clients paging at once */
#define CE_KEY_MAX	4096	/* composite group key */
#define CE_KEY_SEP	'\x1f'	/* between the keys of two GroupBy entries */

/* Cost Explorer's SERVICE value of a resource type: first prefix wins. */
static const struct {
	const char	*type;
	const char	*service;
} ce_services[] = {
	{ "ec2:instance", "Amazon Elastic Compute Cloud - Compute" },
	{ "ec2:", "EC2 - Other" },
	{ "s3:", "Amazon Simple Storage Service" },
	{ "rds:", "Amazon Relational Database Service" },
	{ "lambda:", "AWS Lambda" },
	{ "ecs:", "Amazon Elastic Container Service" },
	{ "eks:", "Amazon Elastic Container Service for Kubernetes" },
	{ "dynamodb:", "Amazon DynamoDB" },
	{ "logs:", "AmazonCloudWatch" },
	{ "elasticloadbalancing:", "Amazon Elastic Load Balancing" },
	{ "elasticache:", "Amazon ElastiCache" },
	{ "sqs:", "Amazon Simple Queue Service" },
	{ "sns:", "Amazon Simple Notification Service" },
};

static TAILQ_HEAD(ce_cache_head, ce_result) ce_cache =
    TAILQ_HEAD_INITIALIZER(ce_cache);
static size_t ce_ncache;
static int ce_cache_registered;

static int64_t
ce_data_micros(double usd)
{
	return (int64_t)(usd * 1e6 + (usd >= 0 ? 0.5 : -0.5));
}

static const char *
ce_data_service(const struct emu_resource *r)
{
	const char *s = json_string_value(json_object_get(r->attrs,
	    "cost_service"));
	size_t i;

	if (s != NULL)
		return s;
	for (i = 0; i < sizeof(ce_services) / sizeof(ce_services[0]); i++)
		if (strncmp(r->type, ce_services[i].type,
		    strlen(ce_services[i].type)) == 0)
			return ce_services[i].service;
	return r->type;
}

/* EC2 and S3 bill under the plain id, other services under the ARN. */
static const char *
ce_data_resource_id(const struct emu_resource *r)
{
	if (strncmp(r->type, "ec2:", 4) == 0 ||
	    strcmp(r->type, "s3:bucket") == 0)
		return r->id;
	return r->arn;
}

/* Line i: costs[] rows first, then resources; 0 when i is no line. */
static int
ce_data_line(const struct emu_fixture *fx, size_t i, long today,
    struct ce_line *l)
{
	const struct emu_resource *r;
	const struct emu_cost *c;

	if (i < fx->ncosts) {
		c = &fx->costs[i];
		l->account = fixture_account(fx, c->account);
		l->service = c->service;
		l->resource_id = c->resource_id;
		l->region = c->region != NULL ? c->region : "global";
		l->tags = c->tags;
		l->ntags = c->ntags;
		l->first = l->last = c->day;
		l->micros = ce_data_micros(c->amount);
		return l->account != NULL;
	}
	r = &fx->resources[i - fx->ncosts];
	if (r->daily_cost <= 0)
		return 0;
	l->account = r->account;
	l->service = ce_data_service(r);
	l->resource_id = ce_data_resource_id(r);
	l->region = r->region;
	l->tags = r->tags;
	l->ntags = r->ntags;
	l->first = (long)(r->created / 86400);
	l->last = today;
	l->micros = ce_data_micros(r->daily_cost);
	return 1;
}

/* The payer (management) account sees every member's costs. */
static int
ce_data_visible(const struct ce_query *q, const struct ce_line *l)
{
	return l->account == q->caller || (q->caller->management &&
	    l->account->org_status != EMU_ORG_NONE);
}

static long
ce_data_next_month(long day)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_mon++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (long)(timegm(&tm) / 86400);
}

/* Bucket starts: each day, or calendar months clipped to the period. */
static void
ce_data_buckets(struct ce_result *res, const struct ce_query *q)
{
	size_t cap = 16;
	long d = q->start;

	res->starts = xreallocarray(NULL, cap, sizeof(*res->starts));
	res->nbuckets = 0;
	while (d < q->end) {
		if (res->nbuckets + 2 > cap) {
			cap *= 2;
			res->starts = xreallocarray(res->starts, cap,
			    sizeof(*res->starts));
		}
		res->starts[res->nbuckets++] = d;
		d = q->monthly ? ce_data_next_month(d) : d + 1;
	}
	res->starts[res->nbuckets] = q->end;
}

struct ce_build {
	const struct ce_query	*q;
	struct ce_result	*res;
	json_t			*index;		/* composite key -> group */
	size_t			 cap;
};

static long
ce_data_new_group(struct ce_build *b, const char *const keys[], size_t n)
{
	struct ce_result *res = b->res;
	struct ce_group *g;
	size_t i;

	if (res->ngroups == b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		res->groups = xreallocarray(res->groups, b->cap,
		    sizeof(*res->groups));
	}
	g = &res->groups[res->ngroups];
	memset(g, 0, sizeof(*g));
	for (i = 0; i < n; i++)
		g->keys[i] = xstrdup(keys[i]);
	g->micros = xcalloc(res->nbuckets, sizeof(*g->micros));
	g->usage = xcalloc(res->nbuckets, sizeof(*g->usage));
	g->present = xcalloc(res->nbuckets, 1);
	return (long)res->ngroups++;
}

/* "key$value" for tags ("key$" untagged), the value for dimensions. */
static void
ce_data_key(const struct ce_groupdef *gd, const struct ce_line *l, char *out,
    size_t outsz)
{
	const char *v = ce_filter_value(gd->dim, gd->key, l);

	if (gd->dim == NULL)
		snprintf(out, outsz, "%s$%s", gd->key, v != NULL ? v : "");
	else
		snprintf(out, outsz, "%s", v != NULL ? v : "NoResourceId");
}

static long
ce_data_group(struct ce_build *b, const struct ce_line *l)
{
	char keys[CE_MAX_GROUPS][CE_KEY_MAX / 2], composite[CE_KEY_MAX];
	const char *kp[CE_MAX_GROUPS];
	json_t *found;
	size_t i;
	long g;

	composite[0] = '\0';
	for (i = 0; i < b->q->ngroups; i++) {
		ce_data_key(&b->q->groups[i], l, keys[i], sizeof(keys[i]));
		kp[i] = keys[i];
		snprintf(composite + strlen(composite), sizeof(composite) -
		    strlen(composite), "%s%c", keys[i], CE_KEY_SEP);
	}
	if ((found = json_object_get(b->index, composite)) != NULL)
		return (long)json_integer_value(found);
	g = ce_data_new_group(b, kp, b->q->ngroups);
	json_object_set_new(b->index, composite, json_integer(g));
	return g;
}

/* Spread a line's days over the buckets it overlaps. */
static void
ce_data_add(struct ce_build *b, const struct ce_line *l)
{
	struct ce_result *res = b->res;
	const struct ce_query *q = b->q;
	long lo, hi, first = l->first > q->start ? l->first : q->start;
	struct ce_group *g;
	size_t n = res->nbuckets, bk = 0, top = n, mid;
	long gi;

	if (first > l->last || first >= q->end || !ce_data_visible(q, l) ||
	    !ce_filter_match(q->filter, l))
		return;
	gi = ce_data_group(b, l);	/* may move res->groups */
	g = &res->groups[gi];
	while (top - bk > 1) {	/* the last bucket starting <= first */
		mid = bk + (top - bk) / 2;
		if (res->starts[mid] <= first)
			bk = mid;
		else
			top = mid;
	}
	for (; bk < n && res->starts[bk] <= l->last; bk++) {
		lo = first > res->starts[bk] ? first : res->starts[bk];
		hi = l->last + 1 < res->starts[bk + 1] ? l->last + 1 :
		    res->starts[bk + 1];
		if (hi <= lo)
			continue;
		g->micros[bk] += l->micros * (hi - lo);
		g->usage[bk] += hi - lo;
		g->present[bk] = 1;
	}
}

static int
ce_data_group_cmp(const void *a, const void *b)
{
	const struct ce_group *ga = a, *gb = b;
	size_t i;
	int c;

	for (i = 0; i < CE_MAX_GROUPS && ga->keys[i] != NULL; i++)
		if ((c = strcmp(ga->keys[i], gb->keys[i])) != 0)
			return c;
	return 0;
}

/* Page items in bucket order, groups sorted by key within a bucket. */
static void
ce_data_entries(struct ce_result *res, int grouped)
{
	size_t b, g, n = 0, before;

	res->entries = xreallocarray(NULL, res->nbuckets * (res->ngroups + 1),
	    sizeof(*res->entries));
	for (b = 0; b < res->nbuckets; b++) {
		before = n;
		for (g = 0; g < res->ngroups; g++)
			if (res->groups[g].present[b] || !grouped) {
				res->entries[n].bucket = b;
				res->entries[n++].group = (long)g;
			}
		if (n == before) {
			res->entries[n].bucket = b;
			res->entries[n++].group = -1;
		}
	}
	res->nentries = n;
}

static struct ce_result *
ce_data_compute(const struct emu_fixture *fx, const struct ce_query *q,
    const char *key)
{
	struct ce_build b;
	struct ce_line l;
	size_t i;

	memset(&b, 0, sizeof(b));
	b.q = q;
	b.res = xcalloc(1, sizeof(*b.res));
	b.index = json_object();
	snprintf(b.res->key, sizeof(b.res->key), "%s", key);
	ce_data_buckets(b.res, q);
	if (q->ngroups == 0)	/* the Total: one group without keys */
		json_object_set_new(b.index, "", json_integer(
		    ce_data_new_group(&b, NULL, 0)));
	for (i = 0; i < fx->ncosts + fx->nresources; i++)
		if (ce_data_line(fx, i, q->today, &l))
			ce_data_add(&b, &l);
	json_decref(b.index);
	if (b.res->ngroups > 0)	/* qsort's base may not be NULL */
		qsort(b.res->groups, b.res->ngroups, sizeof(*b.res->groups),
		    ce_data_group_cmp);
	ce_data_entries(b.res, q->ngroups > 0);
	return b.res;
}

static void
ce_data_free(struct ce_result *res)
{
	size_t i, k;

	for (i = 0; i < res->ngroups; i++) {
		for (k = 0; k < CE_MAX_GROUPS; k++)
			free(res->groups[i].keys[k]);
		free(res->groups[i].micros);
		free(res->groups[i].usage);
		free(res->groups[i].present);
	}
	free(res->groups);
	free(res->entries);
	free(res->starts);
	free(res);
}

/* Runs at exit, so the cache never shows as a leak. */
static void
ce_data_cache_free(void)
{
	struct ce_result *res;

	while ((res = TAILQ_FIRST(&ce_cache)) != NULL) {
		TAILQ_REMOVE(&ce_cache, res, entry);
		ce_data_free(res);
	}
	ce_ncache = 0;
}

struct ce_result *
ce_data_result(const struct emu_fixture *fx, const struct ce_query *q,
    const char *key)
{
	struct ce_result *res;

	TAILQ_FOREACH(res, &ce_cache, entry)
		if (strcmp(res->key, key) == 0) {
			TAILQ_REMOVE(&ce_cache, res, entry);
			TAILQ_INSERT_HEAD(&ce_cache, res, entry);
			return res;
		}
	if (!ce_cache_registered) {
		atexit(ce_data_cache_free);
		ce_cache_registered = 1;
	}
	res = ce_data_compute(fx, q, key);
	TAILQ_INSERT_HEAD(&ce_cache, res, entry);
	if (++ce_ncache > CE_CACHE_MAX) {
		struct ce_result *old = TAILQ_LAST(&ce_cache, ce_cache_head);

		TAILQ_REMOVE(&ce_cache, old, entry);
		ce_data_free(old);
		ce_ncache--;
	}
	return res;
}

void
ce_data_amount(int64_t micros, char *out, size_t outsz)
{
	unsigned long long a = micros < 0 ? 0ULL - (unsigned long long)micros :
	    (unsigned long long)micros;
	size_t n;

	snprintf(out, outsz, "%s%llu.%06llu", micros < 0 ? "-" : "",
	    a / 1000000, a % 1000000);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
}
