/*
 * One log API for both processes: leveled lines on stderr, filtered by the
 * level set from LOG_LEVEL. Never pass a secret to any of these.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR
};

void	log_init(const char *progname, enum log_level level);
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);
int	log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);

void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	log_vwrite(enum log_level, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

#endif
