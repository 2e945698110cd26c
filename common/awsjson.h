/*
 * AWS JSON responses (JSON 1.0/1.1 and REST-JSON) on jansson, and the JSON
 * error format ("__type" or x-amzn-ErrorType, "message" or "Message").
 */
#ifndef AWSJSON_H
#define AWSJSON_H

#include <stddef.h>
#include <jansson.h>

struct errbuf;

/* Bodies larger than this are refused before jansson sees them. */
#define AWSJSON_MAX_SIZE	(16 * 1024 * 1024)

/*
 * Parse a body that must be a JSON object; a clear error otherwise. The
 * caller owns the result (json_decref). Error texts carry jansson's line,
 * column and reason but never the text near the error, which could be part
 * of a secret in a credentials response.
 */
json_t	*awsjson_parse(const char *body, size_t len, struct errbuf *);

/* String member or NULL when absent or not a string (obj may be NULL). */
const char *awsjson_string(const json_t *obj, const char *key);
/*
 * Object / array member or NULL when absent or of another type; borrowed,
 * valid as long as obj.
 */
/*
 * A new array of vals[0..n) (stolen): a row of common/proto.h, built
 * without json_pack's format parsing (hot paths build one per resource).
 * NULL, every value released, when any value is NULL (a json_string of
 * invalid UTF-8).
 */
json_t	*awsjson_row(json_t **vals, size_t n);
json_t	*awsjson_object(const json_t *obj, const char *key);
json_t	*awsjson_array(const json_t *obj, const char *key);
/*
 * Integer member into *out. -1 with err naming the key when absent or not a
 * JSON integer (a number sent as a string is refused, not converted).
 */
int	awsjson_int(const json_t *obj, const char *key, long long *out,
	    struct errbuf *);

/*
 * Extract code and message from a JSON error body. "__type" may carry a
 * namespace ("com.amazon.coral.service#ExpiredTokenException") which is
 * stripped; errortype_header (x-amzn-ErrorType, may be NULL) wins when set.
 * Returns 0 when the body is an AWS error, -1 when it is not.
 * Code sources in order: the header, body "code"/"Code", body "__type"; each
 * is cut at the first ':' and then everything through '#' is dropped (the
 * Smithy awsJson rules). The message is "message" or "Message", else "".
 * With the header set, an empty or non-JSON body still yields the code.
 */
int	awsjson_error(const char *body, size_t len,
	    const char *errortype_header, char *code, size_t codesz,
	    char *message, size_t messagesz);

#endif
