/*
 * sigv4-sign: test helper for tests/integration/sigv4-botocore.py. Reads
 * one JSON request description per line on stdin, signs it with one shared
 * sigv4 cache and prints one JSON line per request: the signed headers and
 * the canonical request, or {"error": ...}. A last line gives the cache
 * counters. The credentials are test data, so echoing the canonical request
 * (which holds the session token) is acceptable here and nowhere else.
 *
 * Input keys: method, path, query (string or null), headers ([[name,
 * value], ...]), body_hex, payload_hash (string or null), region, service,
 * when (seconds), s3 (bool), access_key, secret_key, token (string or null).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "creds.h"
#include "errbuf.h"
#include "sigv4.h"

struct sign_input {
	struct sigv4_request	 req;
	struct sigv4_header	 headers[SIGV4_MAX_HEADERS + 8];
	struct aws_creds	 creds;
	unsigned char		*body;
};

static void
emit(json_t *obj)
{
	char *line;

	if (obj == NULL)
		obj = json_pack("{s:s}", "error",
		    "sigv4-sign: cannot encode the result as JSON");
	line = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line == NULL) {
		printf("{\"error\":\"sigv4-sign: json_dumps failed\"}\n");
	} else {
		printf("%s\n", line);
		free(line);
	}
	json_decref(obj);
}

static int
read_headers(json_t *arr, struct sign_input *in, struct errbuf *err)
{
	json_t *pair;
	size_t i;

	if (!json_is_array(arr))
		return err_set(err, "headers: must be an array of pairs");
	if (json_array_size(arr) > sizeof(in->headers) / sizeof(in->headers[0]))
		return err_set(err, "headers: %zu pairs, at most %zu",
		    json_array_size(arr),
		    sizeof(in->headers) / sizeof(in->headers[0]));
	json_array_foreach(arr, i, pair) {
		if (json_unpack(pair, "[ss]", &in->headers[i].name,
		    &in->headers[i].value) != 0)
			return err_set(err, "headers[%zu]: must be [name, "
			    "value] strings", i);
	}
	in->req.headers = in->headers;
	in->req.nheaders = json_array_size(arr);
	return 0;
}

static int
read_body(const char *hex, struct sign_input *in, struct errbuf *err)
{
	long len = 0;

	if (hex == NULL || *hex == '\0')
		return 0;
	if ((in->body = OPENSSL_hexstr2buf(hex, &len)) == NULL)
		return err_set(err, "body_hex: not an even run of hex digits");
	in->req.body = in->body;
	in->req.body_len = (size_t)len;
	return 0;
}

/* A string or null (NULL); anything else is an error. */
static int
opt_string(json_t *v, const char *key, const char **out, struct errbuf *err)
{
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, "%s: must be a string or null", key);
	*out = json_string_value(v);
	return 0;
}

/* Strings point into root, which outlives the signing. */
static int
read_input(json_t *root, struct sign_input *in, struct errbuf *err)
{
	json_error_t jerr;
	json_t *headers, *query = NULL, *hash = NULL, *token = NULL;
	json_int_t when;
	const char *body_hex = NULL;
	int s3 = 0;

	memset(in, 0, sizeof(*in));
	if (json_unpack_ex(root, &jerr, JSON_STRICT,
	    "{s:s, s:s, s?o, s:o, s?s, s?o, s:s, s:s, s:I, s?b, s:s, s:s, "
	    "s?o}", "method", &in->req.method, "path", &in->req.path,
	    "query", &query, "headers", &headers, "body_hex", &body_hex,
	    "payload_hash", &hash, "region", &in->req.region,
	    "service", &in->req.service, "when", &when, "s3", &s3,
	    "access_key", &in->creds.access_key_id,
	    "secret_key", &in->creds.secret_access_key, "token", &token) != 0)
		return err_set(err, "input: %s", jerr.text);
	if (opt_string(query, "query", &in->req.query, err) == -1 ||
	    opt_string(hash, "payload_hash", &in->req.payload_hash, err) == -1 ||
	    opt_string(token, "token", (const char **)&in->creds.session_token,
	    err) == -1)
		return -1;
	in->req.when = (time_t)when;
	in->req.s3 = s3;
	snprintf(in->creds.source, sizeof(in->creds.source), "sigv4-sign");
	if (read_headers(headers, in, err) == -1)
		return -1;
	return read_body(body_hex, in, err);
}

static json_t *
sign_one(struct sigv4_cache *cache, json_t *root, struct errbuf *err)
{
	struct sign_input in;
	struct sigv4_signed out;
	json_t *res = NULL;
	char *cr = NULL;

	if (read_input(root, &in, err) == 0 &&
	    sigv4_sign(cache, &in.creds, &in.req, &out, err) == 0 &&
	    sigv4_canonical_request(&in.creds, &in.req, &cr, err) == 0)
		res = json_pack("{s:s, s:s, s:s, s:b, s:s}",
		    "authorization", out.authorization,
		    "amz_date", out.amz_date,
		    "content_sha256", out.content_sha256,
		    "security_token", out.security_token != NULL,
		    "canonical_request", cr);
	else
		res = json_pack("{s:s}", "error", err->msg);
	free(cr);
	OPENSSL_free(in.body);
	return res;
}

int
main(void)
{
	struct sigv4_cache *cache;
	struct errbuf err;
	json_error_t jerr;
	json_t *root;
	char *line = NULL;
	size_t cap = 0;

	cache = sigv4_cache_new();
	while (getline(&line, &cap, stdin) != -1) {
		err_clear(&err);
		if ((root = json_loads(line, JSON_REJECT_DUPLICATES,
		    &jerr)) == NULL) {
			emit(json_pack("{s:s}", "error", jerr.text));
			continue;
		}
		emit(sign_one(cache, root, &err));
		json_decref(root);
	}
	emit(json_pack("{s:I, s:I}", "cache_hits",
	    (json_int_t)sigv4_cache_hits(cache), "cache_misses",
	    (json_int_t)sigv4_cache_misses(cache)));
	sigv4_cache_free(cache);
	free(line);
	return ferror(stdin) || fflush(stdout) != 0 ? 1 : 0;
}
