/*
 * SigV4 verification of every signed request: the emulator recomputes the
 * signature with common/sigv4.c from what it received and the secret it
 * knows for the access key, and compares in constant time. Session keys
 * must come with their exact, unexpired token. Failures answer with the
 * service's own codes (autherr.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "creds.h"
#include "emulator.h"
#include "errbuf.h"
#include "sigv4.h"

#define AUTH_SKEW	(15 * 60)

/* The key's secret and account; base keys first, then issued sessions. */
static int
auth_lookup_key(struct emu_req *req, const char *akid, const char **secret)
{
	const struct emu_fixture *fx = req->srv->fx;
	const struct emu_session *s;
	size_t i;

	for (i = 0; i < fx->naccounts; i++)
		if (fx->accounts[i].access_key_id != NULL &&
		    strcmp(fx->accounts[i].access_key_id, akid) == 0) {
			req->account = &fx->accounts[i];
			*secret = fx->accounts[i].secret_access_key;
			return 0;
		}
	if ((s = session_find(req->srv, akid)) == NULL)
		return -1;
	req->session = s;
	req->account = s->account;
	*secret = s->secret_access_key;
	return 0;
}

static int
auth_token_ok(struct emu_req *req)
{
	const char *token = request_header(req, "X-Amz-Security-Token");
	const char *want;

	if (req->session == NULL)
		return token == NULL;
	want = req->session->session_token;
	return token != NULL && strlen(token) == strlen(want) &&
	    CRYPTO_memcmp(token, want, strlen(want)) == 0;
}

static void
auth_amz_date(time_t t, char out[17])
{
	struct tm tm;

	strftime(out, 17, "%Y%m%dT%H%M%SZ", gmtime_r(&t, &tm));
}

/* X-Amz-Date present, within 15 minutes, and the scope's day. */
static int
auth_clock(struct emu_req *req, const struct auth_header *h, time_t *when)
{
	const char *date = request_header(req, "X-Amz-Date");
	char now_s[17], limit_s[17], detail[256];
	time_t now = time(NULL);

	if (date == NULL || isotime_parse_amz(date, when) == -1) {
		autherr_reply(req, AUTHERR_INCOMPLETE, "Authorization header "
		    "requires existence of a valid 'X-Amz-Date' header.");
		return -1;
	}
	if (*when < now - AUTH_SKEW || *when > now + AUTH_SKEW) {
		auth_amz_date(now, now_s);
		auth_amz_date(*when < now ? now - AUTH_SKEW : now + AUTH_SKEW,
		    limit_s);
		snprintf(detail, sizeof(detail), *when < now ?
		    "Signature expired: %s is now earlier than %s (%s - 15 "
		    "min.)" : "Signature not yet current: %s is still later "
		    "than %s (%s + 15 min.)", date, limit_s, now_s);
		autherr_reply(req, AUTHERR_SKEW, detail);
		return -1;
	}
	if (strncmp(h->date, date, 8) != 0) {
		snprintf(detail, sizeof(detail), "Date in Credential scope does "
		    "not match YYYYMMDD from ISO-8601 version of date from "
		    "HTTP: '%s' != '%.8s', from '%s'.", h->date, date, date);
		autherr_reply(req, AUTHERR_BAD_SIGNATURE, detail);
		return -1;
	}
	return 0;
}

/* Scope service and region, and host among the signed headers. */
static int
auth_scope(struct emu_req *req, const struct auth_header *h)
{
	char detail[256], list[sizeof(h->signed_headers) + 2];

	if (strcmp(h->service, req->svc->signing_name) != 0) {
		snprintf(detail, sizeof(detail), "Credential should be scoped "
		    "to correct service: '%s'.", req->svc->signing_name);
		autherr_reply(req, AUTHERR_BAD_SIGNATURE, detail);
		return -1;
	}
	if (!regions_valid_name(h->region) || (req->svc->global &&
	    strcmp(h->region, "us-east-1") != 0)) {
		autherr_reply(req, AUTHERR_BAD_SIGNATURE, "Credential should "
		    "be scoped to a valid region.");
		return -1;
	}
	snprintf(list, sizeof(list), ";%s;", h->signed_headers);
	if (strstr(list, ";host;") == NULL) {
		autherr_reply(req, AUTHERR_INCOMPLETE, "'Host' or ':authority' "
		    "must be a 'SignedHeader' in the AWS Authorization.");
		return -1;
	}
	snprintf(req->region, sizeof(req->region), "%s", h->region);
	return 0;
}

/* Who signed: known key, matching token, not expired. */
static int
auth_identity(struct emu_req *req, const struct auth_header *h,
    const char **secret)
{
	if (auth_lookup_key(req, h->access_key_id, secret) == -1) {
		autherr_reply(req, AUTHERR_UNKNOWN_KEY, NULL);
		return -1;
	}
	if (!auth_token_ok(req)) {
		autherr_reply(req, AUTHERR_BAD_TOKEN, NULL);
		return -1;
	}
	if (req->session != NULL && req->session->expiration <= time(NULL)) {
		autherr_reply(req, AUTHERR_EXPIRED_TOKEN, NULL);
		return -1;
	}
	return 0;
}

/*
 * sigv4_sign adds X-Amz-Date, X-Amz-Security-Token and X-Amz-Content-SHA256
 * itself from the time, the credentials and the payload hash (and rejects
 * them as ordinary headers), so they are not passed on.
 */
static int
auth_signer_adds(const char *name)
{
	return strcmp(name, "x-amz-date") == 0 ||
	    strcmp(name, "x-amz-security-token") == 0 ||
	    strcmp(name, "x-amz-content-sha256") == 0 ||
	    strcmp(name, "authorization") == 0;
}

static int
auth_headers(struct emu_req *req, const struct auth_header *h, char *names,
    size_t namesz, struct sigv4_header *hdrs, size_t *n)
{
	char *name, *save = NULL;
	const char *value;

	*n = 0;
	snprintf(names, namesz, "%s", h->signed_headers);
	for (name = strtok_r(names, ";", &save); name != NULL;
	    name = strtok_r(NULL, ";", &save)) {
		if (auth_signer_adds(name))
			continue;
		if ((value = request_header(req, name)) == NULL ||
		    *n == SIGV4_MAX_HEADERS)
			return -1;	/* cannot match what the client signed */
		hdrs[*n].name = name;
		hdrs[(*n)++].value = value;
	}
	return 0;
}

/*
 * S3 states its payload hash in a header; others sign the body's hash, or
 * UNSIGNED-PAYLOAD stated the same way.
 */
static int
auth_payload(struct emu_req *req, int s3, const char **hash)
{
	const char *stated = request_header(req, "X-Amz-Content-SHA256");
	char actual[65];

	*hash = NULL;
	if (!s3) {
		if (stated != NULL && strcmp(stated,
		    SIGV4_UNSIGNED_PAYLOAD) == 0)
			*hash = SIGV4_UNSIGNED_PAYLOAD;
		return 0;
	}
	if (stated == NULL) {
		reply_error(req, 400, "InvalidRequest", "Missing required header "
		    "for this request: x-amz-content-sha256");
		return -1;
	}
	if (strcmp(stated, SIGV4_UNSIGNED_PAYLOAD) == 0) {
		*hash = SIGV4_UNSIGNED_PAYLOAD;
		return 0;
	}
	sigv4_sha256_hex(req->body, req->body_len, actual);
	if (strcmp(stated, actual) != 0) {
		reply_error(req, 400, "XAmzContentSHA256Mismatch", "The provided "
		    "'x-amz-content-sha256' header does not match what was "
		    "computed.");
		return -1;
	}
	return 0;
}

/* Same SignedHeaders list and, in constant time, the same signature. */
static int
auth_same(const char *ours, const struct auth_header *h)
{
	const char *sig = strstr(ours, "Signature="), *sh;
	size_t len = strlen(h->signed_headers);

	sh = strstr(ours, "SignedHeaders=");
	if (sig == NULL || sh == NULL || strlen(sig + 10) < 64)
		return 0;
	sh += strlen("SignedHeaders=");
	if (strncmp(sh, h->signed_headers, len) != 0 || sh[len] != ',')
		return 0;
	return CRYPTO_memcmp(sig + 10, h->signature, 64) == 0;
}

static int
auth_signature(struct emu_req *req, const struct auth_header *h,
    const char *secret, time_t when)
{
	int s3 = req->svc->proto == EMU_PROTO_REST_XML;
	struct sigv4_header hdrs[SIGV4_MAX_HEADERS];
	char names[sizeof(h->signed_headers)];
	struct sigv4_signed out;
	struct sigv4_request sr;
	struct aws_creds creds;
	struct errbuf err;

	memset(&sr, 0, sizeof(sr));
	if (auth_payload(req, s3, &sr.payload_hash) == -1)
		return -1;
	if (auth_headers(req, h, names, sizeof(names), hdrs,
	    &sr.nheaders) == 0) {
		sr.method = req->method;
		sr.path = req->path;
		sr.query = req->query;
		sr.headers = hdrs;
		sr.body = req->body;
		sr.body_len = req->body_len;
		sr.region = h->region;
		sr.service = h->service;
		sr.when = when;
		sr.s3 = s3;
		memset(&creds, 0, sizeof(creds));
		creds.access_key_id = (char *)h->access_key_id;
		creds.secret_access_key = (char *)secret;
		creds.session_token = req->session != NULL ?
		    req->session->session_token : NULL;
		if (sigv4_sign(NULL, &creds, &sr, &out, &err) == 0 &&
		    auth_same(out.authorization, h))
			return 0;
	}
	autherr_reply(req, AUTHERR_BAD_SIGNATURE, NULL);
	return -1;
}

static void
auth_region_disabled(struct emu_req *req)
{
	char detail[512], upper[64];
	size_t i;

	for (i = 0; req->svc->name[i] != '\0' && i < sizeof(upper) - 1; i++)
		upper[i] = (char)toupper((unsigned char)req->svc->name[i]);
	upper[i] = '\0';
	snprintf(detail, sizeof(detail), "%s is not activated in this region "
	    "for account:%s. Your account administrator can activate %s in "
	    "this region using the IAM Console.", upper, req->account->id,
	    upper);
	autherr_reply(req, AUTHERR_REGION_DISABLED,
	    req->svc->region_disabled_code != NULL ? detail : NULL);
}

int
auth_verify(struct emu_req *req)
{
	const char *authz = request_header(req, "Authorization"), *why;
	const char *secret;
	struct auth_header h;
	time_t when;

	if (authz == NULL) {
		autherr_reply(req, AUTHERR_MISSING, NULL);
		return -1;
	}
	if (auth_parse(authz, &h, &why) == -1) {
		autherr_reply(req, AUTHERR_INCOMPLETE, why);
		return -1;
	}
	if (auth_scope(req, &h) == -1 || auth_clock(req, &h, &when) == -1 ||
	    auth_identity(req, &h, &secret) == -1 ||
	    auth_signature(req, &h, secret, when) == -1)
		return -1;
	if (!fixture_region_enabled(req->account, req->region)) {
		auth_region_disabled(req);
		return -1;
	}
	return 0;
}
