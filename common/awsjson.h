/*
 * AWS JSON responses (JSON 1.0/1.1 and REST-JSON) on jansson, and the JSON
 * error format ("__type" or x-amzn-ErrorType, "message" or "Message").
 */
#ifndef AWSJSON_H
#define AWSJSON_H

#include <stddef.h>
#include <jansson.h>

struct errbuf;

/* Parse a body that must be a JSON object; a clear error otherwise. */
json_t	*awsjson_parse(const char *body, size_t len, struct errbuf *);

/* String member or NULL when absent or not a string. */
const char *awsjson_string(const json_t *obj, const char *key);

/*
 * Extract code and message from a JSON error body. "__type" may carry a
 * namespace ("com.amazon.coral.service#ExpiredTokenException") which is
 * stripped; errortype_header (x-amzn-ErrorType, may be NULL) wins when set.
 * Returns 0 when the body is an AWS error, -1 when it is not.
 */
int	awsjson_error(const char *body, size_t len,
	    const char *errortype_header, char *code, size_t codesz,
	    char *message, size_t messagesz);

#endif
