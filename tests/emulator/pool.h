/*
 * A bump allocator for the fixture: hundreds of thousands of small strings
 * and arrays that live exactly as long as the fixture, freed in one go.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

struct pool;

struct pool *pool_new(void);
void	pool_free(struct pool *);
/* Zeroed, 16-byte aligned; never NULL (fatalx on exhaustion). */
void	*pool_alloc(struct pool *, size_t);
char	*pool_strdup(struct pool *, const char *);
/* The same pointer for equal strings (types, regions, states, tag keys). */
const char *pool_intern(struct pool *, const char *);

#endif
