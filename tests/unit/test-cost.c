/*
 * The pure pieces of the cost phase: the period a request asks for, the
 * 14-day resource window inside it, and the one rounding from nano-dollars
 * to cents. Expected values are worked out by hand in the comments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cost.h"
#include "errbuf.h"

/* 2026-11-25T13:45:00Z: 1795614300 = 20782 days x 86400 + 49500 s. */
#define NOW	((time_t)20782 * 86400 + 49500)

static void
test_cost_period_default(void **state)
{
	struct cost_range r;
	struct errbuf err;

	(void)state;
	assert_int_equal(cost_period(NULL, NULL, NOW, &r, &err), 0);
	/* 30 full days before 2026-11-25: from 2026-10-26. */
	assert_string_equal(r.start, "2026-10-26");
	assert_string_equal(r.end, "2026-11-25");
	assert_int_equal(r.days, 30);
}

static void
test_cost_period_given(void **state)
{
	struct cost_range r;
	struct errbuf err;

	(void)state;
	assert_int_equal(cost_period("2026-02-01", "2026-03-01", NOW, &r,
	    &err), 0);
	assert_int_equal(r.days, 28);	/* 2026 is not a leap year */
	/* Only an end: the 30 days before it. */
	assert_int_equal(cost_period(NULL, "2026-11-01", NOW, &r, &err), 0);
	assert_string_equal(r.start, "2026-10-02");
}

static void
test_cost_period_errors(void **state)
{
	struct cost_range r;
	struct errbuf err;

	(void)state;
	assert_int_equal(cost_period("2026-02-30", NULL, NOW, &r, &err), -1);
	assert_non_null(strstr(err.msg, "time_period.start \"2026-02-30\""));
	assert_int_equal(cost_period(NULL, "2026/11/01", NOW, &r, &err), -1);
	assert_non_null(strstr(err.msg, "time_period.end"));
	assert_int_equal(cost_period(NULL, "2026-11-26", NOW, &r, &err), -1);
	assert_non_null(strstr(err.msg, "after today (2026-11-25"));
	assert_int_equal(cost_period("2026-11-10", "2026-11-10", NOW, &r,
	    &err), -1);
	assert_non_null(strstr(err.msg, "not before"));
}

static void
test_cost_window_clips(void **state)
{
	struct cost_range p, w;
	struct errbuf err;

	(void)state;
	assert_int_equal(cost_period(NULL, NULL, NOW, &p, &err), 0);
	assert_int_equal(cost_window(&p, NOW, &w), 1);
	/* 14 full days before 2026-11-25. */
	assert_string_equal(w.start, "2026-11-11");
	assert_string_equal(w.end, "2026-11-25");
	assert_int_equal(w.days, 14);
	/* A short period inside the window is the window. */
	assert_int_equal(cost_period("2026-11-20", "2026-11-23", NOW, &p,
	    &err), 0);
	assert_int_equal(cost_window(&p, NOW, &w), 1);
	assert_string_equal(w.start, "2026-11-20");
	assert_int_equal(w.days, 3);
	/* Wholly before the window: none. */
	assert_int_equal(cost_period("2026-09-01", "2026-10-01", NOW, &p,
	    &err), 0);
	assert_int_equal(cost_window(&p, NOW, &w), 0);
}

static void
test_cost_cents_rounding(void **state)
{
	(void)state;
	/* $12.345 = 12,345,000,000 nanos: half a cent rounds up. */
	assert_int_equal(cost_cents(12345000000LL, 1, 1), 1235);
	assert_int_equal(cost_cents(12344999999LL, 1, 1), 1234);
	/* Credits round away from zero too. */
	assert_int_equal(cost_cents(-12345000000LL, 1, 1), -1235);
	/* $1 over 14 days scaled to 30: 2.142857... -> 214 cents. */
	assert_int_equal(cost_cents(1000000000LL, 30, 14), 214);
	/* $7 x 30 / 14 = $15 exactly. */
	assert_int_equal(cost_cents(7000000000LL, 30, 14), 1500);
	/* No overflow: $9e9 x 30 / 14 = $19,285,714,285.714... */
	assert_int_equal(cost_cents(9000000000000000000LL, 30, 14),
	    1928571428571LL);
}

static void
test_cost_metric_names(void **state)
{
	struct errbuf err;

	(void)state;
	assert_int_equal(cost_metric_check("UnblendedCost", &err), 0);
	assert_int_equal(cost_metric_check("AmortizedCost", &err), 0);
	assert_int_equal(cost_metric_check("unblendedcost", &err), -1);
	assert_non_null(strstr(err.msg, "UnblendedCost or AmortizedCost"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cost_period_default),
		cmocka_unit_test(test_cost_period_given),
		cmocka_unit_test(test_cost_period_errors),
		cmocka_unit_test(test_cost_window_clips),
		cmocka_unit_test(test_cost_cents_rounding),
		cmocka_unit_test(test_cost_metric_names),
	};

	return cmocka_run_group_tests_name("cost", tests, NULL, NULL);
}
