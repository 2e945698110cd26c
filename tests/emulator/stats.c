/*
 * Counters behind GET /_emulator/stats: calls per operation and per
 * account, error codes returned, faults applied, and how many accounts had
 * requests in flight at the same moment (the scanner's concurrency cap is
 * proven with this and a latency fault).
 */
#include <stdio.h>
#include <stdlib.h>

#include "emulator.h"
#include "xmalloc.h"

struct tally {
	int	now, max;
};

struct stats {
	json_t		*operations;	/* "service:Operation" -> calls */
	json_t		*accounts;	/* id -> {"calls", "operations"} */
	json_t		*errors;	/* code -> replies */
	json_t		*faults;	/* kind -> applications */
	long long	 requests;
	/* Accounts with a request in progress; with one other than STS. */
	struct tally	 busy_accounts, scanning;
	int		 inflight_requests;
	int		 max_inflight_requests;
};

struct stats *
stats_new(void)
{
	struct stats *st = xcalloc(1, sizeof(*st));

	st->operations = json_object();
	st->accounts = json_object();
	st->errors = json_object();
	st->faults = json_object();
	return st;
}

void
stats_free(struct stats *st)
{
	if (st == NULL)
		return;
	json_decref(st->operations);
	json_decref(st->accounts);
	json_decref(st->errors);
	json_decref(st->faults);
	free(st);
}

static void
stats_bump(json_t *obj, const char *key)
{
	json_t *n = json_object_get(obj, key);

	if (n == NULL)
		json_object_set_new(obj, key, json_integer(1));
	else
		json_integer_set(n, json_integer_value(n) + 1);
}

void
stats_call(struct stats *st, const char *service, const char *op)
{
	char key[256];

	snprintf(key, sizeof(key), "%s:%s", service, op);
	stats_bump(st->operations, key);
	st->requests++;
}

void
stats_account(struct stats *st, const char *account, const char *service,
    const char *op)
{
	json_t *a = json_object_get(st->accounts, account);
	char key[256];

	if (a == NULL) {
		a = json_pack("{s:i, s:{}}", "calls", 0, "operations");
		json_object_set_new(st->accounts, account, a);
	}
	stats_bump(a, "calls");
	snprintf(key, sizeof(key), "%s:%s", service, op);
	stats_bump(json_object_get(a, "operations"), key);
}

void
stats_error(struct stats *st, const char *code)
{
	stats_bump(st->errors, code);
}

void
stats_fault(struct stats *st, const char *kind)
{
	stats_bump(st->faults, kind);
}

/*
 * The most non-STS requests the account had in progress at once, kept
 * in its entry of "accounts" (made when its request authenticated).
 */
static void
account_max(struct stats *st, const struct emu_account *a)
{
	json_t *entry = json_object_get(st->accounts, a->id);

	if (entry != NULL && a->scan_inflight > json_integer_value(
	    json_object_get(entry, "max_inflight")))
		json_object_set_new(entry, "max_inflight",
		    json_integer(a->scan_inflight));
}

/* One more or one fewer request of an account in progress. */
static void
tally_account(struct tally *t, int *account_inflight, int delta)
{
	if (delta > 0 && (*account_inflight)++ == 0)
		t->now++;
	else if (delta < 0 && --*account_inflight == 0)
		t->now--;
	if (t->now > t->max)
		t->max = t->now;
}

void
stats_inflight(struct stats *st, struct emu_account *a, int delta, int sts)
{
	st->inflight_requests += delta;
	if (st->inflight_requests > st->max_inflight_requests)
		st->max_inflight_requests = st->inflight_requests;
	if (a == NULL)
		return;
	tally_account(&st->busy_accounts, &a->inflight, delta);
	if (sts)
		return;
	tally_account(&st->scanning, &a->scan_inflight, delta);
	account_max(st, a);
}

json_t *
stats_json(const struct stats *st)
{
	return json_pack("{s:I, s:O, s:O, s:O, s:O, s:i, s:i, s:i, s:i, s:i, "
	    "s:i}",
	    "requests", (json_int_t)st->requests,
	    "operations", st->operations,
	    "accounts", st->accounts,
	    "errors", st->errors,
	    "faults", st->faults,
	    "inflight_accounts", st->busy_accounts.now,
	    "max_inflight_accounts", st->busy_accounts.max,
	    "inflight_scanning_accounts", st->scanning.now,
	    "max_inflight_scanning_accounts", st->scanning.max,
	    "inflight_requests", st->inflight_requests,
	    "max_inflight_requests", st->max_inflight_requests);
}
