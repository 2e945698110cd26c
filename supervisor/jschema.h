/*
 * Tool arguments checked against the tool's own inputSchema, so that what
 * tools/list declares and what tools/call accepts cannot drift apart. Only
 * the JSON Schema keywords our schemas use are understood, and
 * jschema_check() refuses a schema with any other (tools.c checks every
 * schema at startup and the unit test does too).
 */
#ifndef JSCHEMA_H
#define JSCHEMA_H

#include <jansson.h>

struct errbuf;

/* Longest rendering of a wrong value quoted in an error, in bytes. */
#define JSCHEMA_QUOTE_MAX	80

/*
 * 0 when every keyword of schema (and of its nested schemas) is one of:
 * type, properties, required, additionalProperties (false), items,
 * minItems, maxItems, uniqueItems, enum, pattern, minLength, maxLength,
 * minimum, maximum, and the annotations title, description, default.
 */
int	jschema_check(const json_t *schema, struct errbuf *);

/*
 * 0 when value is valid. Otherwise -1 with err as "<field>: <value>:
 * expected <allowed form>" (field as a path such as filters.regions[2]),
 * "<field>: missing: expected ..." or "<field>: unknown field: expected
 * one of ...".
 */
int	jschema_validate(const json_t *schema, const json_t *value,
	    struct errbuf *);

#endif
