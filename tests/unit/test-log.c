/*
 * log: level names, threshold filtering, and that lines go to stderr only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

/* Run fn with stderr pointed at a temporary file; return what it wrote. */
static char *
capture_stderr(void (*fn)(void))
{
	static char buf[8192];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static void
emit_all_levels(void)
{
	log_debug("d%d", 1);
	log_info("i%d", 2);
	log_warnx("w%d", 3);
	log_error("e%d", 4);
}

static void
test_log_level_parse_accepts_contract_names(void **state)
{
	enum log_level level;

	(void)state;
	assert_int_equal(log_level_parse("DEBUG", &level), 0);
	assert_int_equal(level, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("info", &level), 0);
	assert_int_equal(level, LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("WARNING", &level), 0);
	assert_int_equal(level, LOG_LEVEL_WARNING);
	assert_int_equal(log_level_parse("ERROR", &level), 0);
	assert_int_equal(level, LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("VERBOSE", &level), -1);
	assert_int_equal(log_level_parse("", &level), -1);
	assert_string_equal(log_level_name(LOG_LEVEL_WARNING), "WARNING");
}

static void
test_log_threshold_filters_lower_levels(void **state)
{
	char *out;

	(void)state;
	log_init("t", LOG_LEVEL_WARNING);
	out = capture_stderr(emit_all_levels);
	assert_null(strstr(out, "d1"));
	assert_null(strstr(out, "i2"));
	assert_non_null(strstr(out, "t: WARNING: w3\n"));
	assert_non_null(strstr(out, "t: ERROR: e4\n"));

	log_set_level(LOG_LEVEL_DEBUG);
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
	out = capture_stderr(emit_all_levels);
	assert_non_null(strstr(out, "t: DEBUG: d1\n"));
	assert_non_null(strstr(out, "t: INFO: i2\n"));
}

static void
emit_errno(void)
{
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
}

static void
test_log_warn_appends_errno_text(void **state)
{
	char *out;

	(void)state;
	log_init("t", LOG_LEVEL_INFO);
	out = capture_stderr(emit_errno);
	assert_non_null(strstr(out, "t: WARNING: open /nonexistent: "));
	assert_non_null(strstr(out, strerror(ENOENT)));
}

static void
test_log_fatalx_exits_nonzero(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		fatalx("broken invariant %d", 7);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_level_parse_accepts_contract_names),
		cmocka_unit_test(test_log_threshold_filters_lower_levels),
		cmocka_unit_test(test_log_warn_appends_errno_text),
		cmocka_unit_test(test_log_fatalx_exits_nonzero),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
