/*
 * Leveled logging to stderr. stdout belongs to the MCP protocol, so nothing
 * here ever writes there. Each line is "progname: LEVEL: text".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static const char *log_progname = "tagwarden";
static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "DEBUG",
	[LOG_LEVEL_INFO] = "INFO",
	[LOG_LEVEL_WARNING] = "WARNING",
	[LOG_LEVEL_ERROR] = "ERROR",
};

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_threshold = level;
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level
log_get_level(void)
{
	return log_threshold;
}

int
log_level_parse(const char *name, enum log_level *level)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char line[4096];

	if (level < log_threshold)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf per line keeps lines whole when processes share stderr. */
	fprintf(stderr, "%s: %s: %s\n", log_progname, level_names[level], line);
}

#define LOG_FORWARD(level, fmt) do {		\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_vwrite(level, fmt, ap);		\
	va_end(ap);				\
} while (0)

void
log_debug(const char *fmt, ...)
{
	LOG_FORWARD(LOG_LEVEL_DEBUG, fmt);
}

void
log_info(const char *fmt, ...)
{
	LOG_FORWARD(LOG_LEVEL_INFO, fmt);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_FORWARD(LOG_LEVEL_WARNING, fmt);
}

void
log_error(const char *fmt, ...)
{
	LOG_FORWARD(LOG_LEVEL_ERROR, fmt);
}

static void
log_vwrite_errno(enum log_level level, int saved, const char *fmt, va_list ap)
{
	char msg[3072];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (level >= log_threshold)
		fprintf(stderr, "%s: %s: %s: %s\n", log_progname,
		    level_names[level], msg, strerror(saved));
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite_errno(LOG_LEVEL_WARNING, saved, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite_errno(LOG_LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_FORWARD(LOG_LEVEL_ERROR, fmt);
	exit(1);
}
