/*
 * The fixture's bump allocator. Chunks of 1 MiB are carved front to back;
 * a request larger than a quarter chunk gets a chunk of its own so it does
 * not waste the tail of the current one. Interning keeps one copy of the
 * few strings that repeat on every resource (types, regions, tag keys).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "xmalloc.h"

#define POOL_CHUNK	(1024 * 1024)
#define POOL_ALIGN	16
#define POOL_INTERN_SLOTS 8192	/* power of two */
#define POOL_INTERN_MAX	(POOL_INTERN_SLOTS / 2)

struct chunk {
	struct chunk	*next;
	size_t		 used;
	size_t		 size;
	unsigned char	 data[];
};

struct pool {
	struct chunk	*head;
	const char	*interned[POOL_INTERN_SLOTS];	/* open addressing */
	size_t		 ninterned;
};

struct pool *
pool_new(void)
{
	return xcalloc(1, sizeof(struct pool));
}

void
pool_free(struct pool *p)
{
	struct chunk *c, *next;

	if (p == NULL)
		return;
	for (c = p->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(p);
}

static struct chunk *
pool_chunk(struct pool *p, size_t size, int front)
{
	struct chunk *c;

	c = xcalloc(1, sizeof(*c) + size);
	c->size = size;
	if (front || p->head == NULL) {
		c->next = p->head;
		p->head = c;
	} else {
		/* A dedicated big chunk goes behind the current one. */
		c->next = p->head->next;
		p->head->next = c;
	}
	return c;
}

void *
pool_alloc(struct pool *p, size_t n)
{
	struct chunk *c;
	size_t off;

	n = (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if (n == 0)
		n = POOL_ALIGN;
	if (n > POOL_CHUNK / 4) {
		c = pool_chunk(p, n, 0);
		c->used = n;
		return c->data;
	}
	c = p->head;
	if (c == NULL || c->size - c->used < n)
		c = pool_chunk(p, POOL_CHUNK, 1);
	off = c->used;
	c->used += n;
	/* xcalloc zeroed the chunk and nothing is ever reused. */
	return c->data + off;
}

char *
pool_strdup(struct pool *p, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;

	d = pool_alloc(p, n);
	memcpy(d, s, n);
	return d;
}

/* FNV-1a; the table stays at most half full, so probes are short. */
const char *
pool_intern(struct pool *p, const char *s)
{
	const unsigned char *u;
	uint32_t h = 2166136261u;
	size_t i;

	for (u = (const unsigned char *)s; *u != '\0'; u++)
		h = (h ^ *u) * 16777619u;
	for (i = h & (POOL_INTERN_SLOTS - 1); p->interned[i] != NULL;
	    i = (i + 1) & (POOL_INTERN_SLOTS - 1))
		if (strcmp(p->interned[i], s) == 0)
			return p->interned[i];
	if (p->ninterned == POOL_INTERN_MAX)
		return pool_strdup(p, s);	/* too many to share */
	p->ninterned++;
	return p->interned[i] = pool_strdup(p, s);
}
