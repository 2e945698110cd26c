/*
 * Parsing the SigV4 Authorization header into its credential scope, signed
 * header list and signature. Service detection uses the scope too, so this
 * is separate from the verification in auth.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "emulator.h"

#define AUTH_ALGORITHM	"AWS4-HMAC-SHA256 "

/* "AKID/20240501/us-east-1/sts/aws4_request" */
static int
auth_parse_credential(char *v, struct auth_header *h)
{
	char *parts[5], *save = NULL, *p;
	int n = 0;

	for (p = strtok_r(v, "/", &save); p != NULL && n < 5;
	    p = strtok_r(NULL, "/", &save))
		parts[n++] = p;
	if (n != 5 || p != NULL || strcmp(parts[4], "aws4_request") != 0 ||
	    strlen(parts[1]) != 8)
		return -1;
	if (snprintf(h->access_key_id, sizeof(h->access_key_id), "%s",
	    parts[0]) >= (int)sizeof(h->access_key_id) ||
	    snprintf(h->region, sizeof(h->region), "%s", parts[2]) >=
	    (int)sizeof(h->region) ||
	    snprintf(h->service, sizeof(h->service), "%s", parts[3]) >=
	    (int)sizeof(h->service))
		return -1;
	memcpy(h->date, parts[1], 9);
	return 0;
}

static int
auth_parse_signature(const char *v, struct auth_header *h)
{
	size_t i;

	if (strlen(v) != 64)
		return -1;
	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)v[i]) ||
		    isupper((unsigned char)v[i]))
			return -1;
	memcpy(h->signature, v, 65);
	return 0;
}

static int
auth_parse_part(char *part, struct auth_header *h, int *seen,
    const char **why)
{
	char *eq;

	while (*part == ' ')
		part++;
	if ((eq = strchr(part, '=')) == NULL) {
		*why = "Authorization header is malformed: a part lacks '='.";
		return -1;
	}
	*eq++ = '\0';
	if (strcmp(part, "Credential") == 0 && auth_parse_credential(eq,
	    h) == 0)
		*seen |= 1;
	else if (strcmp(part, "SignedHeaders") == 0 && eq[0] != '\0' &&
	    snprintf(h->signed_headers, sizeof(h->signed_headers), "%s", eq) <
	    (int)sizeof(h->signed_headers))
		*seen |= 2;
	else if (strcmp(part, "Signature") == 0 && auth_parse_signature(eq,
	    h) == 0)
		*seen |= 4;
	else {
		*why = "Authorization header is malformed: expected "
		    "Credential=KEY/DATE/REGION/SERVICE/aws4_request, "
		    "SignedHeaders=..., Signature=<64 hex digits>.";
		return -1;
	}
	return 0;
}

int
auth_parse(const char *authz, struct auth_header *h, const char **why)
{
	char buf[2048], *part, *save = NULL;
	int seen = 0;

	memset(h, 0, sizeof(*h));
	if (strncmp(authz, AUTH_ALGORITHM, strlen(AUTH_ALGORITHM)) != 0) {
		*why = "Authorization header must use AWS4-HMAC-SHA256.";
		return -1;
	}
	if (snprintf(buf, sizeof(buf), "%s", authz + strlen(AUTH_ALGORITHM)) >=
	    (int)sizeof(buf)) {
		*why = "Authorization header is too long.";
		return -1;
	}
	for (part = strtok_r(buf, ",", &save); part != NULL;
	    part = strtok_r(NULL, ",", &save))
		if (auth_parse_part(part, h, &seen, why) == -1)
			return -1;
	if (seen != 7) {
		*why = "Authorization header requires 'Credential', "
		    "'SignedHeaders' and 'Signature' parameters.";
		return -1;
	}
	return 0;
}
