/*
 * AWS Signature Version 4, header form: input checks, the canonical request
 * built byte for byte as botocore's SigV4Auth / S3SigV4Auth build it, the
 * string to sign, the HMAC-SHA256 key chain and the cache of derived keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "creds.h"
#include "errbuf.h"
#include "log.h"
#include "sigv4.h"
#include "xmalloc.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR	"aws4_request"
/* The caller's headers plus x-amz-date, x-amz-content-sha256, the token. */
#define SIGV4_MAX_SIGNED	(SIGV4_MAX_HEADERS + 3)
/*
 * A scan touches at most a few dozen (region, service) pairs a day; 64
 * entries keep all of them without letting a long run grow the cache.
 */
#define SIGV4_CACHE_SLOTS	64
#define SIGV4_SCOPE_MAX		63	/* region and service names */
#define SIGV4_AKID_MAX		128

/* botocore's SIGNED_HEADERS_BLACKLIST: proxies may rewrite these. */
static const char *const sigv4_unsigned_names[] = {
	"expect", "user-agent", "x-amzn-trace-id", NULL
};

/* Produced by sigv4_sign(); a caller's copy would be signed twice. */
static const char *const sigv4_reserved_names[] = {
	"authorization", "x-amz-date", "x-amz-security-token",
	"x-amz-content-sha256", NULL
};

struct sigv4_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

struct sigv4_hdr {
	const char	*name;		/* as given; written lowercased */
	const char	*value;
	size_t		 seq;		/* input order: keeps duplicates in order */
};

struct sigv4_param {
	char	*key;			/* both already in canonical encoding */
	char	*value;
};

/* Everything derived from one request before it is hashed. */
struct sigv4_ctx {
	struct sigv4_hdr	 hdrs[SIGV4_MAX_SIGNED];
	size_t			 nhdrs;
	char			 amz_date[17];
	char			 payload[65];
	char			 content_sha256[65];
	const char		*token;
	struct sigv4_buf	 creq;
	struct sigv4_buf	 signed_headers;
};

struct sigv4_cache_entry {
	unsigned long	used;		/* LRU tick; 0: empty */
	char		date[9];
	char		region[SIGV4_SCOPE_MAX + 1];
	char		service[SIGV4_SCOPE_MAX + 1];
	unsigned char	secret_id[32];	/* SHA-256 of the secret: a rotated key misses */
	unsigned char	key[32];
};

struct sigv4_cache {
	struct sigv4_cache_entry slots[SIGV4_CACHE_SLOTS];
	unsigned long	tick;
	unsigned long	hits;
	unsigned long	misses;
};

static void
buf_add(struct sigv4_buf *b, const void *data, size_t n)
{
	size_t need;

	need = b->len + n + 1;
	if (need > b->cap) {
		b->cap = need < 256 ? 256 : need * 2;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_adds(struct sigv4_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_addc(struct sigv4_buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* Hands the string over to the caller; an empty buffer yields "". */
static char *
buf_take(struct sigv4_buf *b)
{
	char *p;

	p = b->p != NULL ? b->p : xstrdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static void
buf_free(struct sigv4_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* RFC 3986 unreserved: the only bytes SigV4 leaves unencoded. */
static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* RFC 9110 tchar: what a header name may contain. */
static int
is_tchar(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL) &&
	    c != '\0';
}

/*
 * The ASCII bytes Python's str.split() treats as white space, which is how
 * botocore trims header values (CR and LF are rejected before this).
 */
static int
is_fold_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' ||
	    (c >= 0x1c && c <= 0x1f);
}

static unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* strcasecmp() follows the locale; header names must not (Turkish 'I'). */
static int
ascii_casecmp(const char *a, const char *b)
{
	unsigned char ca, cb;

	do {
		ca = ascii_lower((unsigned char)*a++);
		cb = ascii_lower((unsigned char)*b++);
	} while (ca == cb && ca != '\0');
	return (int)ca - (int)cb;
}

static int
name_in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (ascii_casecmp(name, *list) == 0)
			return 1;
	return 0;
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/*
 * Append s[0..n) with every byte outside the unreserved set as %XX. With
 * decode, valid %XX escapes in s are decoded first, so any encoding of the
 * same bytes comes out the same.
 */
static void
buf_encode(struct sigv4_buf *b, const char *s, size_t n, int decode)
{
	static const char digits[] = "0123456789ABCDEF";
	unsigned char c;
	char esc[3];
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (decode && c == '%' && i + 2 < n && is_hex(s[i + 1]) &&
		    is_hex(s[i + 2])) {
			c = (unsigned char)(hex_value(s[i + 1]) << 4 |
			    hex_value(s[i + 2]));
			i += 2;
		}
		if (is_unreserved(c)) {
			buf_addc(b, (char)c);
			continue;
		}
		esc[0] = '%';
		esc[1] = digits[c >> 4];
		esc[2] = digits[c & 0xf];
		buf_add(b, esc, 3);
	}
}

/*
 * OpenSSL 3 looks an algorithm up by name on every EVP_Digest() and HMAC()
 * call (EVP_sha256() is only a name); fetched once, with one context each
 * reinitialised per use, signing a request costs a tenth of the
 * instructions. They live as long as the process (one thread per process).
 */
static EVP_MD_CTX *
sha256_ctx(void)
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;

	if (ctx == NULL) {
		if ((md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
		    (ctx = EVP_MD_CTX_new()) == NULL)
			fatalx("sigv4: OpenSSL has no SHA-256");
	}
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1)
		fatalx("sigv4: OpenSSL SHA-256 failed");
	return ctx;
}

static EVP_MAC_CTX *
hmac_ctx(void)
{
	static EVP_MAC_CTX *ctx;
	EVP_MAC *mac;
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string("digest", "SHA256", 0),
		OSSL_PARAM_END
	};

	if (ctx != NULL)
		return ctx;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_CTX_set_params(ctx, params) != 1)
		fatalx("sigv4: OpenSSL has no HMAC-SHA256");
	EVP_MAC_free(mac);	/* the context holds its own reference */
	return ctx;
}

static void
sha256_raw(const void *data, size_t len, unsigned char out[32])
{
	EVP_MD_CTX *ctx = sha256_ctx();
	unsigned int mdlen = 0;

	if (EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &mdlen) != 1 || mdlen != 32)
		fatalx("sigv4: OpenSSL SHA-256 failed");
}

void
sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	sha256_raw(data, len, md);
	hex_encode(md, sizeof(md), out);
}

static void
hmac_sha256(const void *key, size_t keylen, const char *msg, size_t len,
    unsigned char out[32])
{
	EVP_MAC_CTX *ctx = hmac_ctx();
	size_t outlen = 0;

	if (EVP_MAC_init(ctx, key, keylen, NULL) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)msg, len) != 1 ||
	    EVP_MAC_final(ctx, out, &outlen, 32) != 1 || outlen != 32)
		fatalx("sigv4: OpenSSL HMAC-SHA256 failed");
}

void
sigv4_signing_key(const char *secret, const char *date, const char *region,
    const char *service, unsigned char out[32])
{
	unsigned char k_date[32], k_region[32], k_service[32];
	char *seed;

	xasprintf(&seed, "AWS4%s", secret);
	hmac_sha256(seed, strlen(seed), date, strlen(date), k_date);
	OPENSSL_cleanse(seed, strlen(seed));
	free(seed);
	hmac_sha256(k_date, 32, region, strlen(region), k_region);
	hmac_sha256(k_region, 32, service, strlen(service), k_service);
	hmac_sha256(k_service, 32, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR),
	    out);
	OPENSSL_cleanse(k_date, sizeof(k_date));
	OPENSSL_cleanse(k_region, sizeof(k_region));
	OPENSSL_cleanse(k_service, sizeof(k_service));
}

/* Cache */

struct sigv4_cache *
sigv4_cache_new(void)
{
	return xcalloc(1, sizeof(struct sigv4_cache));
}

void
sigv4_cache_free(struct sigv4_cache *cache)
{
	if (cache == NULL)
		return;
	explicit_bzero(cache, sizeof(*cache));
	free(cache);
}

unsigned long
sigv4_cache_hits(const struct sigv4_cache *cache)
{
	return cache != NULL ? cache->hits : 0;
}

unsigned long
sigv4_cache_misses(const struct sigv4_cache *cache)
{
	return cache != NULL ? cache->misses : 0;
}

static struct sigv4_cache_entry *
cache_find(struct sigv4_cache *cache, const unsigned char id[32],
    const char *date, const char *region, const char *service)
{
	struct sigv4_cache_entry *e;
	size_t i;

	for (i = 0; i < SIGV4_CACHE_SLOTS; i++) {
		e = &cache->slots[i];
		if (e->used != 0 && strcmp(e->date, date) == 0 &&
		    strcmp(e->region, region) == 0 &&
		    strcmp(e->service, service) == 0 &&
		    CRYPTO_memcmp(e->secret_id, id, 32) == 0)
			return e;
	}
	return NULL;
}

/* An empty slot, else the least recently used one. */
static struct sigv4_cache_entry *
cache_victim(struct sigv4_cache *cache)
{
	struct sigv4_cache_entry *victim;
	size_t i;

	victim = &cache->slots[0];
	for (i = 1; i < SIGV4_CACHE_SLOTS && victim->used != 0; i++)
		if (cache->slots[i].used < victim->used)
			victim = &cache->slots[i];
	return victim;
}

/*
 * The derived key for (secret, date, region, service). The entry is keyed
 * by a digest of the secret rather than the access key id, so credentials
 * refreshed under the same id can never reuse a stale key.
 */
static void
cache_signing_key(struct sigv4_cache *cache, const struct aws_creds *creds,
    const char *date, const char *region, const char *service,
    unsigned char key[32])
{
	struct sigv4_cache_entry *e;
	unsigned char id[32];
	const char *secret = creds->secret_access_key;

	if (cache == NULL) {
		sigv4_signing_key(secret, date, region, service, key);
		return;
	}
	sha256_raw(secret, strlen(secret), id);
	if ((e = cache_find(cache, id, date, region, service)) != NULL) {
		cache->hits++;
		memcpy(key, e->key, 32);
	} else {
		cache->misses++;
		sigv4_signing_key(secret, date, region, service, key);
		e = cache_victim(cache);
		snprintf(e->date, sizeof(e->date), "%s", date);
		snprintf(e->region, sizeof(e->region), "%s", region);
		snprintf(e->service, sizeof(e->service), "%s", service);
		memcpy(e->secret_id, id, 32);
		memcpy(e->key, key, 32);
	}
	e->used = ++cache->tick;
	OPENSSL_cleanse(id, sizeof(id));
}

/* Input checks: every message names the field, the value and the fix. */

static int
check_creds(const struct aws_creds *creds, struct errbuf *err)
{
	const char *src, *p;

	if (creds == NULL)
		return err_set(err, "sigv4: no credentials to sign with");
	src = creds->source[0] != '\0' ? creds->source : "an unnamed source";
	p = creds->access_key_id;
	if (p == NULL || *p == '\0')
		return err_set(err, "credentials from %.63s: the access key id "
		    "is empty", src);
	if (strlen(p) > SIGV4_AKID_MAX)
		return err_set(err, "credentials from %.63s: the access key id "
		    "is %zu characters long, at most %d", src, strlen(p),
		    SIGV4_AKID_MAX);
	for (; *p != '\0'; p++)
		if (!is_unreserved((unsigned char)*p) || *p == '.' || *p == '~')
			return err_set(err, "credentials from %.63s: access key "
			    "id \"%.32s\" contains 0x%02x; only letters, digits, "
			    "'-' and '_' are allowed", src, creds->access_key_id,
			    (unsigned char)*p);
	if (creds->secret_access_key == NULL ||
	    creds->secret_access_key[0] == '\0')
		return err_set(err, "credentials from %.63s: the secret access "
		    "key is empty", src);
	if (creds->session_token != NULL &&
	    strpbrk(creds->session_token, "\r\n") != NULL)
		return err_set(err, "credentials from %.63s: the session token "
		    "contains a line break", src);
	return 0;
}

static int
check_method(const char *method, struct errbuf *err)
{
	const char *p;

	if (method == NULL || *method == '\0')
		return err_set(err, "request method is empty: use GET, POST, "
		    "PUT, DELETE or HEAD");
	for (p = method; *p != '\0'; p++)
		if (*p < 'A' || *p > 'Z')
			return err_set(err, "request method \"%.16s\": must be "
			    "upper-case letters, e.g. GET", method);
	return 0;
}

/* Wire text: no control bytes, no stray '%', none of the bytes in "deny". */
static int
check_wire(const char *what, const char *s, const char *deny,
    struct errbuf *err)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return err_set(err, "request %s \"%.64s\": control "
			    "character 0x%02x at offset %td must be "
			    "percent-encoded", what, s, *p,
			    (const char *)p - s);
		if (strchr(deny, *p) != NULL)
			return err_set(err, "request %s \"%.64s\": '%c' at "
			    "offset %td must be percent-encoded", what, s, *p,
			    (const char *)p - s);
		if (*p == '%' && (!is_hex(p[1]) || !is_hex(p[2])))
			return err_set(err, "request %s \"%.64s\": '%%' at "
			    "offset %td is not followed by two hex digits; "
			    "write a literal '%%' as %%25", what, s,
			    (const char *)p - s);
	}
	return 0;
}

static int
check_target(const struct sigv4_request *req, struct errbuf *err)
{
	if (req->path == NULL)
		return err_set(err, "request path is NULL: use \"/\" for the "
		    "root");
	if (req->path[0] != '\0' && req->path[0] != '/')
		return err_set(err, "request path \"%.64s\": must start with "
		    "'/'", req->path);
	if (check_wire("path", req->path, "?#", err) == -1)
		return -1;
	if (req->query == NULL)
		return 0;
	if (req->query[0] == '?')
		return err_set(err, "request query \"%.64s\": give it without "
		    "the leading '?'", req->query);
	return check_wire("query", req->query, "#", err);
}

static int
check_scope_name(const char *what, const char *s, const char *example,
    struct errbuf *err)
{
	const char *p;

	if (s == NULL || *s == '\0')
		return err_set(err, "request %s is empty: set it, e.g. \"%s\"",
		    what, example);
	if (strlen(s) > SIGV4_SCOPE_MAX)
		return err_set(err, "request %s \"%.32s...\" is %zu characters "
		    "long, at most %d", what, s, strlen(s), SIGV4_SCOPE_MAX);
	for (p = s; *p != '\0'; p++)
		if (!is_unreserved((unsigned char)*p) || *p == '~')
			return err_set(err, "request %s \"%s\": character "
			    "0x%02x is not allowed; use letters, digits, '-', "
			    "'_' or '.'", what, s, (unsigned char)*p);
	return 0;
}

static int
check_header(const struct sigv4_header *h, size_t i, struct errbuf *err)
{
	const char *p;

	if (h->name == NULL || h->name[0] == '\0')
		return err_set(err, "request header #%zu has no name", i);
	for (p = h->name; *p != '\0'; p++)
		if (!is_tchar((unsigned char)*p))
			return err_set(err, "request header name \"%.64s\": "
			    "character 0x%02x is not allowed in a header name",
			    h->name, (unsigned char)*p);
	if (name_in(h->name, sigv4_reserved_names))
		return err_set(err, "request header %.64s: sigv4_sign() sets "
		    "it; remove it from the request", h->name);
	if (h->value == NULL)
		return err_set(err, "request header %.64s has a NULL value: use "
		    "\"\" for an empty one", h->name);
	if (strpbrk(h->value, "\r\n") != NULL)
		return err_set(err, "request header %.64s: the value contains a "
		    "line break; fold it into one line", h->name);
	return 0;
}

static int
check_headers(const struct sigv4_request *req, struct errbuf *err)
{
	const struct sigv4_header *h;
	size_t i;
	int host = 0;

	if (req->nheaders > SIGV4_MAX_HEADERS)
		return err_set(err, "request has %zu headers: at most %d can be "
		    "signed", req->nheaders, SIGV4_MAX_HEADERS);
	if (req->nheaders > 0 && req->headers == NULL)
		return err_set(err, "request nheaders is %zu but headers is "
		    "NULL", req->nheaders);
	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		if (check_header(h, i, err) == -1)
			return -1;
		if (ascii_casecmp(h->name, "host") != 0)
			continue;
		if (h->value[strspn(h->value, " \t")] == '\0')
			return err_set(err, "request Host header is empty: set "
			    "it to the endpoint's host[:port]");
		host = 1;
	}
	if (!host)
		return err_set(err, "request has no Host header: add it, it is "
		    "always signed");
	return 0;
}

static int
check_payload(const struct sigv4_request *req, struct errbuf *err)
{
	const char *h = req->payload_hash;
	size_t i;

	if (req->body == NULL && req->body_len > 0)
		return err_set(err, "request body is NULL but body_len is %zu",
		    req->body_len);
	if (h == NULL || strcmp(h, SIGV4_UNSIGNED_PAYLOAD) == 0)
		return 0;
	for (i = 0; i < 64; i++)
		if (!is_hex((unsigned char)h[i]) || (h[i] >= 'A' && h[i] <= 'F'))
			break;
	if (i == 64 && h[64] == '\0')
		return 0;
	return err_set(err, "request payload hash \"%.70s\": must be 64 "
	    "lowercase hex digits or " SIGV4_UNSIGNED_PAYLOAD, h);
}

static int
check_request(const struct sigv4_request *req, struct errbuf *err)
{
	if (req == NULL)
		return err_set(err, "sigv4: no request to sign");
	if (check_method(req->method, err) == -1 ||
	    check_target(req, err) == -1 ||
	    check_headers(req, err) == -1 ||
	    check_payload(req, err) == -1 ||
	    check_scope_name("region", req->region, "us-east-1", err) == -1 ||
	    check_scope_name("service", req->service, "tagging", err) == -1)
		return -1;
	return 0;
}

static int
format_date(time_t when, char out[17], struct errbuf *err)
{
	struct tm tm;

	if (when < 0 || gmtime_r(&when, &tm) == NULL ||
	    tm.tm_year + 1900 > 9999)
		return err_set(err, "request time %lld: must be a time between "
		    "1970 and 9999", (long long)when);
	if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return err_set(err, "request time %lld: cannot be formatted",
		    (long long)when);
	return 0;
}

/* Canonical request */

static void
buf_add_lower(struct sigv4_buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_addc(b, (char)ascii_lower((unsigned char)*s));
}

/* botocore's Trimall: strip both ends, fold inner runs to one space. */
static void
buf_add_trimmed(struct sigv4_buf *b, const char *v)
{
	int gap = 0, started = 0;

	for (; *v != '\0'; v++) {
		if (is_fold_space((unsigned char)*v)) {
			gap = started;
			continue;
		}
		if (gap)
			buf_addc(b, ' ');
		gap = 0;
		started = 1;
		buf_addc(b, *v);
	}
}

/*
 * botocore's remove_dot_segments() followed by quote(path, safe="/~"):
 * empty and "." segments go, ".." drops the previous one, a trailing '/'
 * stays unless nothing is left, and each remaining segment is encoded
 * again, so "%20" on the wire is signed as "%2520".
 */
static void
canon_path_normalised(const char *path, struct sigv4_buf *b)
{
	struct { const char *p; size_t n; } *segs;
	size_t nsegs = 0, n, i, len = strlen(path);
	const char *p;

	segs = xreallocarray(NULL, len + 1, sizeof(*segs));
	for (p = path; ; p += n + 1) {
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nsegs > 0)
				nsegs--;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			segs[nsegs].p = p;
			segs[nsegs++].n = n;
		}
		if (p[n] == '\0')
			break;
	}
	buf_addc(b, '/');
	for (i = 0; i < nsegs; i++) {
		if (i > 0)
			buf_addc(b, '/');
		buf_encode(b, segs[i].p, segs[i].n, 0);
	}
	if (nsegs > 0 && path[len - 1] == '/')
		buf_addc(b, '/');
	free(segs);
}

static void
canon_path(const struct sigv4_request *req, struct sigv4_buf *b)
{
	if (req->path[0] == '\0')
		buf_addc(b, '/');
	else if (req->s3)
		buf_adds(b, req->path);
	else
		canon_path_normalised(req->path, b);
}

static char *
encode_part(const char *s, size_t n)
{
	struct sigv4_buf b = { NULL, 0, 0 };

	buf_encode(&b, s, n, 1);
	return buf_take(&b);
}

/* Sorted by encoded key, then encoded value, as botocore's sorted(). */
static int
param_cmp(const void *a, const void *b)
{
	const struct sigv4_param *x = a, *y = b;
	int r;

	if ((r = strcmp(x->key, y->key)) != 0)
		return r;
	return strcmp(x->value, y->value);
}

/*
 * Every "k=v", "k=" or bare "k" becomes "k=v" in canonical encoding;
 * duplicates stay. Empty pieces ("a=1&&b=2") are not parameters and are
 * skipped.
 */
static void
canon_query(const char *query, struct sigv4_buf *b)
{
	struct sigv4_param *params = NULL;
	size_t n = 0, cap = 0, len, klen, i;
	const char *p, *eq;

	for (p = query != NULL ? query : ""; *p != '\0'; p += len) {
		if ((len = strcspn(p, "&")) == 0) {
			len = 1;
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			params = xreallocarray(params, cap, sizeof(*params));
		}
		eq = memchr(p, '=', len);
		klen = eq != NULL ? (size_t)(eq - p) : len;
		params[n].key = encode_part(p, klen);
		params[n].value = eq != NULL ?
		    encode_part(eq + 1, len - klen - 1) : xstrdup("");
		n++;
	}
	if (n > 1)
		qsort(params, n, sizeof(*params), param_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(b, '&');
		buf_adds(b, params[i].key);
		buf_addc(b, '=');
		buf_adds(b, params[i].value);
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
}

static int
hdr_cmp(const void *a, const void *b)
{
	const struct sigv4_hdr *x = a, *y = b;
	int r;

	if ((r = ascii_casecmp(x->name, y->name)) != 0)
		return r;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void
add_hdr(struct sigv4_ctx *ctx, const char *name, const char *value)
{
	ctx->hdrs[ctx->nhdrs].name = name;
	ctx->hdrs[ctx->nhdrs].value = value;
	ctx->hdrs[ctx->nhdrs].seq = ctx->nhdrs;
	ctx->nhdrs++;
}

/* The caller's signable headers plus ours, sorted by lowercase name. */
static void
collect_headers(const struct sigv4_request *req, struct sigv4_ctx *ctx)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (!name_in(req->headers[i].name, sigv4_unsigned_names))
			add_hdr(ctx, req->headers[i].name,
			    req->headers[i].value);
	add_hdr(ctx, "x-amz-date", ctx->amz_date);
	if (ctx->content_sha256[0] != '\0')
		add_hdr(ctx, "x-amz-content-sha256", ctx->content_sha256);
	if (ctx->token != NULL)
		add_hdr(ctx, "x-amz-security-token", ctx->token);
	qsort(ctx->hdrs, ctx->nhdrs, sizeof(ctx->hdrs[0]), hdr_cmp);
}

/* One "name:v1,v2" line per distinct name, and the SignedHeaders list. */
static void
canon_headers(struct sigv4_ctx *ctx)
{
	size_t i, j;

	for (i = 0; i < ctx->nhdrs; i = j) {
		if (i > 0)
			buf_addc(&ctx->signed_headers, ';');
		buf_add_lower(&ctx->signed_headers, ctx->hdrs[i].name);
		buf_add_lower(&ctx->creq, ctx->hdrs[i].name);
		buf_addc(&ctx->creq, ':');
		for (j = i; j < ctx->nhdrs && ascii_casecmp(ctx->hdrs[j].name,
		    ctx->hdrs[i].name) == 0; j++) {
			if (j > i)
				buf_addc(&ctx->creq, ',');
			buf_add_trimmed(&ctx->creq, ctx->hdrs[j].value);
		}
		buf_addc(&ctx->creq, '\n');
	}
}

/*
 * Checks everything, then fixes the date, the payload hash and the headers
 * we add: X-Amz-Content-SHA256 always for S3 (S3SigV4Auth) and for other
 * services when the payload is unsigned (SigV4Auth does the same).
 */
static int
sigv4_prepare(const struct aws_creds *creds, const struct sigv4_request *req,
    struct sigv4_ctx *ctx, struct errbuf *err)
{
	memset(ctx, 0, sizeof(*ctx));
	if (check_request(req, err) == -1 || check_creds(creds, err) == -1 ||
	    format_date(req->when, ctx->amz_date, err) == -1)
		return -1;
	if (req->payload_hash != NULL)
		snprintf(ctx->payload, sizeof(ctx->payload), "%s",
		    req->payload_hash);
	else
		sigv4_sha256_hex(req->body != NULL ? req->body : "",
		    req->body_len, ctx->payload);
	if (req->s3 || strcmp(ctx->payload, SIGV4_UNSIGNED_PAYLOAD) == 0)
		memcpy(ctx->content_sha256, ctx->payload,
		    sizeof(ctx->content_sha256));
	/* botocore tests the token for truth: "" means none. */
	if (creds->session_token != NULL && creds->session_token[0] != '\0')
		ctx->token = creds->session_token;
	collect_headers(req, ctx);
	return 0;
}

static void
sigv4_build(const struct sigv4_request *req, struct sigv4_ctx *ctx)
{
	struct sigv4_buf *b = &ctx->creq;

	buf_adds(b, req->method);
	buf_addc(b, '\n');
	canon_path(req, b);
	buf_addc(b, '\n');
	canon_query(req->query, b);
	buf_addc(b, '\n');
	canon_headers(ctx);
	buf_addc(b, '\n');
	buf_add(b, ctx->signed_headers.p, ctx->signed_headers.len);
	buf_addc(b, '\n');
	buf_adds(b, ctx->payload);
}

static void
sigv4_ctx_clear(struct sigv4_ctx *ctx)
{
	/* The canonical request carries the session token. */
	if (ctx->creq.p != NULL)
		OPENSSL_cleanse(ctx->creq.p, ctx->creq.len);
	buf_free(&ctx->creq);
	buf_free(&ctx->signed_headers);
}

int
sigv4_canonical_request(const struct aws_creds *creds,
    const struct sigv4_request *req, char **out, struct errbuf *err)
{
	struct sigv4_ctx ctx;

	if (out == NULL)
		return err_set(err, "sigv4: no place for the canonical request");
	*out = NULL;
	if (sigv4_prepare(creds, req, &ctx, err) == -1)
		return -1;
	sigv4_build(req, &ctx);
	*out = buf_take(&ctx.creq);
	sigv4_ctx_clear(&ctx);
	return 0;
}

/* HMAC of the string to sign under the (cached) derived key, in hex. */
static void
sigv4_signature(struct sigv4_cache *cache, const struct aws_creds *creds,
    const struct sigv4_request *req, struct sigv4_ctx *ctx, char sig[65])
{
	unsigned char key[32], mac[32];
	char date[9], creq_hash[65], *sts;

	memcpy(date, ctx->amz_date, 8);
	date[8] = '\0';
	sigv4_sha256_hex(ctx->creq.p, ctx->creq.len, creq_hash);
	xasprintf(&sts, "%s\n%s\n%s/%s/%s/%s\n%s", SIGV4_ALGORITHM,
	    ctx->amz_date, date, req->region, req->service, SIGV4_TERMINATOR,
	    creq_hash);
	cache_signing_key(cache, creds, date, req->region, req->service, key);
	hmac_sha256(key, sizeof(key), sts, strlen(sts), mac);
	hex_encode(mac, sizeof(mac), sig);
	OPENSSL_cleanse(key, sizeof(key));
	free(sts);
}

int
sigv4_sign(struct sigv4_cache *cache, const struct aws_creds *creds,
    const struct sigv4_request *req, struct sigv4_signed *out,
    struct errbuf *err)
{
	struct sigv4_ctx ctx;
	char sig[65];
	int n;

	if (out == NULL)
		return err_set(err, "sigv4: no place for the signed headers");
	memset(out, 0, sizeof(*out));
	if (sigv4_prepare(creds, req, &ctx, err) == -1)
		return -1;
	sigv4_build(req, &ctx);
	sigv4_signature(cache, creds, req, &ctx, sig);
	n = snprintf(out->authorization, sizeof(out->authorization),
	    "%s Credential=%s/%.8s/%s/%s/%s, SignedHeaders=%s, Signature=%s",
	    SIGV4_ALGORITHM, creds->access_key_id, ctx.amz_date, req->region,
	    req->service, SIGV4_TERMINATOR, ctx.signed_headers.p, sig);
	sigv4_ctx_clear(&ctx);
	if (n < 0 || (size_t)n >= sizeof(out->authorization)) {
		explicit_bzero(out, sizeof(*out));
		return err_set(err, "request headers: the Authorization header "
		    "would be %d bytes, at most %zu; sign fewer or shorter "
		    "headers", n, sizeof(out->authorization) - 1);
	}
	memcpy(out->amz_date, ctx.amz_date, sizeof(out->amz_date));
	memcpy(out->content_sha256, ctx.content_sha256,
	    sizeof(out->content_sha256));
	out->security_token = ctx.token;
	return 0;
}
