/*
 * Internal to the fixture loader (fixture*.c, fxjson.c): strict, typed
 * access to the fixture's JSON with errors that name the path, the value
 * and what was expected.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <jansson.h>

#include "emulator.h"
#include "pool.h"

#define FX_PATH	256	/* longest path we print in an error */

struct errbuf;

/* Every key of obj must be one of allowed (NULL-terminated). */
int	fxjson_keys(const json_t *obj, const char *const allowed[],
	    const char *path, struct errbuf *);
int	fxjson_is_object(const json_t *, const char *path, struct errbuf *);
int	fxjson_is_array(const json_t *, const char *path, struct errbuf *);
/* *out is NULL when optional and absent; strings are copied to the pool. */
int	fxjson_str(struct pool *, const json_t *obj, const char *key,
	    int required, const char *path, const char **out, struct errbuf *);
int	fxjson_int(const json_t *obj, const char *key, long long min,
	    long long max, long long def, const char *path, long long *out,
	    struct errbuf *);
int	fxjson_bool(const json_t *obj, const char *key, int def,
	    const char *path, int *out, struct errbuf *);
int	fxjson_strlist(struct pool *, const json_t *obj, const char *key,
	    const char *path, const char *const **out, size_t *n,
	    struct errbuf *);
/* Tags as {"k": "v"} or [{"Key": "k", "Value": "v"}]; AWS limits checked. */
int	fxjson_tags(struct pool *, const json_t *, const char *path,
	    const struct emu_tag **out, size_t *n, struct errbuf *);
/* snprintf for paths; a path too long to print is cut, never an error. */
void	fxjson_path(char *out, size_t outsz, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A short rendering of a value for error messages. */
void	fxjson_show(const json_t *, char *out, size_t outsz);
int	fxjson_account_id(const char *);

int	fixture_account_load(struct emu_fixture *, struct emu_account *,
	    const json_t *, const char *path, struct errbuf *);
size_t	fixture_account_count_resources(const json_t *);
int	fixture_resources_load(struct emu_fixture *, struct emu_account *,
	    const json_t *, size_t *next, const char *path, struct errbuf *);
int	fixture_extra_load(struct emu_fixture *, const json_t *root,
	    struct errbuf *);

#endif
