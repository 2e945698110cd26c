/*
 * strnum: bounded decimal parsing with an error string.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <cmocka.h>

#include "strnum.h"

static void
test_strnum_accepts_in_range(void **state)
{
	const char *errstr;

	(void)state;
	assert_int_equal(strnum("5", 1, 20, &errstr), 5);
	assert_null(errstr);
	assert_int_equal(strnum("1", 1, 20, &errstr), 1);
	assert_null(errstr);
	assert_int_equal(strnum("20", 1, 20, &errstr), 20);
	assert_null(errstr);
	assert_int_equal(strnum("-3", -5, 5, &errstr), -3);
	assert_null(errstr);
}

static void
test_strnum_rejects_out_of_range(void **state)
{
	const char *errstr;

	(void)state;
	assert_int_equal(strnum("0", 1, 20, &errstr), 0);
	assert_string_equal(errstr, "too small");
	assert_int_equal(strnum("21", 1, 20, &errstr), 0);
	assert_string_equal(errstr, "too large");
	strnum("99999999999999999999999", 0, LLONG_MAX, &errstr);
	assert_string_equal(errstr, "too large");
	strnum("-99999999999999999999999", LLONG_MIN, 0, &errstr);
	assert_string_equal(errstr, "too small");
}

static void
test_strnum_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", " 5", "5 ", "+5", "5x", "x5", "0x10", "1e3", "-", "--1",
		"5.0", NULL,
	};
	const char *errstr;
	size_t i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_equal(strnum(bad[i], -100, 100, &errstr), 0);
		assert_non_null(errstr);
		assert_string_equal(errstr, "invalid");
	}
	strnum(NULL, 0, 1, &errstr);
	assert_string_equal(errstr, "invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strnum_accepts_in_range),
		cmocka_unit_test(test_strnum_rejects_out_of_range),
		cmocka_unit_test(test_strnum_rejects_malformed),
	};

	return cmocka_run_group_tests_name("strnum", tests, NULL, NULL);
}
