/*
 * creds-probe: resolves the standard credentials chain from the real
 * environment and prints which provider won, the access key id, and SHA-256
 * digests of the secret and the session token (never the values), for
 * tests/integration/creds-chain.py. LOG_LEVEL sets the log level.
 * Exit 0 with the lines on stdout, or 1 with the error on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "sigv4.h"

int
main(void)
{
	struct http_client *http;
	struct aws_creds *c = NULL;
	struct errbuf err;
	enum log_level level = LOG_LEVEL_INFO;
	const char *lv;
	char secret[65], token[65];
	int rc;

	if ((lv = getenv("LOG_LEVEL")) != NULL && log_level_parse(lv, &level))
		fatalx("LOG_LEVEL=%s: must be DEBUG, INFO, WARNING or ERROR", lv);
	log_init("creds-probe", level);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	http = http_client_new(NULL);
	err_clear(&err);
	rc = creds_resolve_chain(http, &c, &err);
	if (rc == 0) {
		sigv4_sha256_hex(c->secret_access_key,
		    strlen(c->secret_access_key), secret);
		if (c->session_token != NULL)
			sigv4_sha256_hex(c->session_token,
			    strlen(c->session_token), token);
		else
			strcpy(token, "none");
		printf("source=%s\naccess_key_id=%s\nsecret_sha256=%s\n"
		    "token_sha256=%s\nexpiration=%lld\n", c->source,
		    c->access_key_id, secret, token, (long long)c->expiration);
	} else
		fprintf(stderr, "creds-probe: error: %s\n", err.msg);
	creds_free(c);
	http_client_free(http);
	curl_global_cleanup();
	return rc == 0 ? 0 : 1;
}
