/*
 * xmalloc: allocations succeed, formatting helpers work, and misuse
 * (zero size, overflow) ends the process instead of returning NULL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "xmalloc.h"

static void
test_xmalloc_allocates_and_copies(void **state)
{
	char *s, *t, *u;
	int *v;

	(void)state;
	s = xstrdup("tagwarden");
	assert_string_equal(s, "tagwarden");
	t = xstrndup("tagwarden", 3);
	assert_string_equal(t, "tag");
	v = xcalloc(4, sizeof(*v));
	assert_int_equal(v[0] + v[1] + v[2] + v[3], 0);
	v = xreallocarray(v, 8, sizeof(*v));
	v[7] = 7;
	assert_int_equal(xasprintf(&u, "%s-%d", "acct", 12), 7);
	assert_string_equal(u, "acct-12");
	free(u);
	u = xprintf("%03d", 5);
	assert_string_equal(u, "005");
	free(s);
	free(t);
	free(u);
	free(v);
}

/* Returns the exit status of a child that ran fn with stderr silenced. */
static int
child_status(void (*fn)(void))
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
zero_malloc(void)
{
	free(xmalloc(0));
}

static void
overflowing_array(void)
{
	free(xreallocarray(NULL, SIZE_MAX / 2, 4));
}

static void
test_xmalloc_misuse_is_fatal(void **state)
{
	(void)state;
	assert_int_equal(child_status(zero_malloc), 1);
	assert_int_equal(child_status(overflowing_array), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xmalloc_allocates_and_copies),
		cmocka_unit_test(test_xmalloc_misuse_is_fatal),
	};

	return cmocka_run_group_tests_name("xmalloc", tests, NULL, NULL);
}
