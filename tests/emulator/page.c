/*
 * Pagination as AWS does it: an opaque token that only the same operation,
 * account and region accept, and, per the fixture's "pagination" settings,
 * the occasional short page or empty page that still carries a token, so
 * clients that stop early or count pages get caught.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "emulator.h"
#include "errbuf.h"

#define PAGE_TOKEN_MAX	512

static void
page_binding(const struct emu_req *req, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s:%s:%s:%s", req->svc->name, req->op->name,
	    req->account != NULL ? req->account->id : "-", req->region);
}

static int
page_decode(const struct emu_req *req, const char *token, size_t *resume,
    unsigned *pageno)
{
	unsigned char plain[PAGE_TOKEN_MAX];
	char binding[256], *rest;
	size_t len = strlen(token);
	int n;

	if (len == 0 || len % 4 != 0 || len >= sizeof(plain))
		return -1;
	if ((n = EVP_DecodeBlock(plain, (const unsigned char *)token,
	    (int)len)) < 0)
		return -1;
	while (n > 0 && plain[n - 1] == '\0')
		n--;	/* EVP_DecodeBlock counts base64 padding as zeros */
	plain[n] = '\0';
	if (sscanf((char *)plain, "v1:%zu:%u:", resume, pageno) != 2)
		return -1;
	rest = strchr((char *)plain + 3, ':');
	rest = rest != NULL ? strchr(rest + 1, ':') : NULL;
	page_binding(req, binding, sizeof(binding));
	return rest != NULL && strcmp(rest + 1, binding) == 0 ? 0 : -1;
}

int
page_start(struct emu_req *req, const char *token, size_t page_size,
    struct page *p, struct errbuf *err)
{
	const struct emu_fixture *fx = req->srv->fx;

	memset(p, 0, sizeof(*p));
	if (token != NULL && token[0] != '\0' &&
	    page_decode(req, token, &p->resume, &p->pageno) == -1)
		return err_set(err, "the pagination token is not one this "
		    "operation issued for this account and region");
	p->limit = page_size;
	if (p->pageno == 0)
		return 0;
	if (fx->empty_page_every != 0 &&
	    p->pageno % fx->empty_page_every == fx->empty_page_every - 1)
		p->limit = 0;
	else if (fx->short_page_every != 0 &&
	    p->pageno % fx->short_page_every == fx->short_page_every - 1)
		p->limit = (page_size + 1) / 2;
	return 0;
}

void
page_finish(struct emu_req *req, const struct page *p, size_t next,
    size_t total, char *out, size_t outsz)
{
	char plain[PAGE_TOKEN_MAX], binding[256];
	int n;

	out[0] = '\0';
	if (next >= total)
		return;
	page_binding(req, binding, sizeof(binding));
	n = snprintf(plain, sizeof(plain), "v1:%zu:%u:%s", next, p->pageno + 1,
	    binding);
	if (n < 0 || (size_t)n >= sizeof(plain) ||
	    outsz < 4 * (((size_t)n + 2) / 3) + 1)
		return;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)plain, n);
}
