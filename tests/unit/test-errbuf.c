/*
 * errbuf: err_set returns -1 and keeps the formatted sentence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"

static void
test_errbuf_set_returns_minus_one_and_formats(void **state)
{
	struct errbuf err;

	(void)state;
	err_clear(&err);
	assert_string_equal(err.msg, "");
	assert_int_equal(err_set(&err, "%s=%d: must be %d..%d",
	    "MAX_CONCURRENT_ACCOUNTS", 0, 1, 20), -1);
	assert_string_equal(err.msg, "MAX_CONCURRENT_ACCOUNTS=0: must be 1..20");
}

static void
test_errbuf_null_is_allowed(void **state)
{
	(void)state;
	assert_int_equal(err_set(NULL, "ignored %d", 1), -1);
	assert_int_equal(err_prefix(NULL, "ignored"), -1);
	err_clear(NULL);
}

static void
test_errbuf_prefix_adds_context(void **state)
{
	struct errbuf err;

	(void)state;
	err_set(&err, "line 3: missing '='");
	assert_int_equal(err_prefix(&err, "%s", "/root/.aws/config"), -1);
	assert_string_equal(err.msg, "/root/.aws/config: line 3: missing '='");
}

static void
test_errbuf_truncates_long_text(void **state)
{
	struct errbuf err;
	char big[3 * ERRBUF_SIZE];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&err, "%s", big);
	assert_int_equal(strlen(err.msg), ERRBUF_SIZE - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errbuf_set_returns_minus_one_and_formats),
		cmocka_unit_test(test_errbuf_null_is_allowed),
		cmocka_unit_test(test_errbuf_prefix_adds_context),
		cmocka_unit_test(test_errbuf_truncates_long_text),
	};

	return cmocka_run_group_tests_name("errbuf", tests, NULL, NULL);
}
