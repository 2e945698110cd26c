/*
 * Dates and money for the cost phase: the period a request asks for, the
 * resource window inside it, UTC days as YYYY-MM-DD, and nano-dollars to
 * cents rounded once; plus the per-account state cost.c fills in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cost.h"
#include "cost-internal.h"
#include "errbuf.h"
#include "xmalloc.h"

#define DAY_S		86400

static time_t
day_start(time_t t)
{
	return t - t % DAY_S;
}

void
cost_date(time_t now, int days_offset, char out[CE_DATE_SIZE])
{
	time_t t = day_start(now) + (time_t)days_offset * DAY_S;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, CE_DATE_SIZE, "%Y-%m-%d", &tm);
}

/* A real calendar date: what strptime reads must print back the same. */
static int
date_parse(const char *s, time_t *t)
{
	char back[CE_DATE_SIZE];
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 10 || (end = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
	    *end != '\0')
		return -1;
	*t = timegm(&tm);
	cost_date(*t, 0, back);
	return strcmp(back, s) == 0 ? 0 : -1;
}

static void
range_set(struct cost_range *r, time_t start, time_t end)
{
	cost_date(start, 0, r->start);
	cost_date(end, 0, r->end);
	r->days = (int)((end - start) / DAY_S);
}

int
cost_period(const char *start, const char *end, time_t now,
    struct cost_range *r, struct errbuf *err)
{
	time_t today = day_start(now), s, e = today;
	char today_s[CE_DATE_SIZE];

	cost_date(now, 0, today_s);
	if (end != NULL && date_parse(end, &e) == -1)
		return err_set(err, "time_period.end \"%.32s\": expected a date "
		    "YYYY-MM-DD", end);
	s = e - (time_t)COST_PERIOD_DAYS * DAY_S;
	if (start != NULL && date_parse(start, &s) == -1)
		return err_set(err, "time_period.start \"%.32s\": expected a "
		    "date YYYY-MM-DD", start);
	if (e > today)
		return err_set(err, "time_period.end %s is after today (%s, "
		    "UTC): Cost Explorer has no costs for days to come; end is "
		    "exclusive, so %s covers up to yesterday", end, today_s,
		    today_s);
	if (s >= e)
		return err_set(err, "time_period.start %s is not before "
		    "time_period.end %s (end is exclusive)", start != NULL ?
		    start : "(default)", end != NULL ? end : today_s);
	range_set(r, s, e);
	return 0;
}

int
cost_window(const struct cost_range *period, time_t now,
    struct cost_range *w)
{
	time_t today = day_start(now), ps, pe, s, e;

	if (date_parse(period->start, &ps) == -1 ||
	    date_parse(period->end, &pe) == -1)
		return 0;
	s = today - (time_t)COST_WINDOW_DAYS * DAY_S;
	s = ps > s ? ps : s;
	e = pe < today ? pe : today;
	if (s >= e)
		return 0;
	range_set(w, s, e);
	return 1;
}

int
cost_metric_check(const char *m, struct errbuf *err)
{
	if (strcmp(m, CE_METRIC_UNBLENDED) == 0 ||
	    strcmp(m, CE_METRIC_AMORTIZED) == 0)
		return 0;
	return err_set(err, "metric \"%.32s\": expected %s or %s", m,
	    CE_METRIC_UNBLENDED, CE_METRIC_AMORTIZED);
}

/*
 * One rounding, at the end: nanos x num / den is exact in 128 bits, and
 * a cent is 1e7 nano-dollars; halves round away from zero.
 */
long long
cost_cents(int64_t nanos, int num, int den)
{
	__int128 x = (__int128)nanos * num, d = (__int128)den * 10000000;
	__int128 ax = x < 0 ? -x : x, q = (ax * 2 + d) / (d * 2);

	return (long long)(x < 0 ? -q : q);
}

/* --- per-account state --- */

void
cost_acct_init(struct cost_acct *a, const char *id, size_t nkeys)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->tag_fetch = xcalloc(nkeys + 1, sizeof(*a->tag_fetch));
}

void
cost_acct_clear(struct cost_acct *a)
{
	free(a->tag_fetch);
	free(a->error);
	json_decref(a->block);
	memset(a, 0, sizeof(*a));
}

void
cost_acct_set_fetch(struct cost_acct *a, int key, int64_t fetch_id)
{
	if (key == COST_RESOURCE_KEY)
		a->resource_fetch = fetch_id;
	else
		a->tag_fetch[key] = fetch_id;
}
