/*
 * Identifiers that look like AWS's: stable ids derived from a name (role
 * ids, user ids), random access key ids, secrets and session tokens from
 * OpenSSL's RNG, and request ids from the server's splitmix64 stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "emulator.h"
#include "log.h"
#include "xmalloc.h"

static const char ids_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint64_t
ids_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
ids_encode(const char *prefix, const unsigned char *bytes, size_t n, char *out,
    size_t outsz)
{
	size_t plen = strlen(prefix), i;

	if (plen + n + 1 > outsz)
		fatalx("ids_encode: %zu characters do not fit", plen + n);
	memcpy(out, prefix, plen);
	for (i = 0; i < n; i++)
		out[plen + i] = ids_alphabet[bytes[i] & 31];
	out[plen + n] = '\0';
}

void
ids_derive(const char *prefix, const char *seed, size_t n, char *out,
    size_t outsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	if (n > 32 || !EVP_Digest(seed, strlen(seed), md, &mdlen, EVP_sha256(),
	    NULL))
		fatalx("ids_derive: cannot hash");
	ids_encode(prefix, md, n, out, outsz);
}

/* Lowercase hex, as EC2 spells ids ("r-0123abcd...", "ami-..."). */
void
ids_derive_hex(const char *prefix, const char *seed, size_t n, char *out,
    size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t plen = strlen(prefix), i;

	if (n > 64 || plen + n + 1 > outsz || !EVP_Digest(seed, strlen(seed),
	    md, &mdlen, EVP_sha256(), NULL))
		fatalx("ids_derive_hex: cannot derive %zu digits", n);
	memcpy(out, prefix, plen);
	for (i = 0; i < n; i++)
		out[plen + i] = hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[plen + n] = '\0';
}

void
ids_random(const char *prefix, size_t n, char *out, size_t outsz)
{
	unsigned char bytes[64];

	if (n > sizeof(bytes) || RAND_bytes(bytes, (int)n) != 1)
		fatalx("ids_random: no randomness");
	ids_encode(prefix, bytes, n, out, outsz);
}

char *
ids_secret(size_t n)
{
	unsigned char bytes[192];
	size_t nbytes = n * 3 / 4;
	char *out;

	if (nbytes > sizeof(bytes) || RAND_bytes(bytes, (int)nbytes) != 1)
		fatalx("ids_secret: no randomness");
	out = xmalloc(4 * ((nbytes + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, bytes, (int)nbytes);
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return out;
}

void
ids_request_id(struct emu_server *srv, char out[40])
{
	uint64_t a = ids_next(&srv->rng), b = ids_next(&srv->rng);

	snprintf(out, 40, "%08x-%04x-4%03x-a%03x-%012llx",
	    (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
	    (unsigned)a & 0xfff, (unsigned)(b >> 52) & 0xfff,
	    (unsigned long long)(b & 0xffffffffffffULL));
}
