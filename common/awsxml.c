/*
 * awsxml owns reading AWS XML bodies: expat builds a small read-only tree
 * under fixed bounds (size, depth, element count, no DOCTYPE), and the three
 * AWS XML error shapes are recognised on top of it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "awsxml.h"
#include "errbuf.h"
#include "xmalloc.h"

/*
 * expat in namespace mode reports "uri|local"; '|' cannot occur in a local
 * name, so everything after the last one is the bare element name. This
 * also rejects unbound prefixes, which AWS never sends.
 */
#define AWSXML_NS_SEP	'|'

/* Shared text of every element without character data. */
static char awsxml_empty[] = "";

/* One open element: its node, its last child, its text so far. */
struct awsxml_frame {
	struct awsxml_node	*node;
	struct awsxml_node	*last;
	char			*buf;
	size_t			 len;
	size_t			 cap;
};

struct awsxml_parser {
	XML_Parser		 xp;
	struct errbuf		*err;
	struct awsxml_node	*root;
	struct awsxml_frame	 stack[AWSXML_MAX_DEPTH];
	int			 depth;
	size_t			 nodes;
	int			 failed;	/* a handler refused the input */
};

/*
 * Stop expat from a handler with our reason, at expat's current position.
 * Columns are reported from 1, like the line numbers, not from expat's 0.
 */
static void __attribute__((format(printf, 2, 3)))
awsxml_refuse(struct awsxml_parser *ps, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = 1;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	err_set(ps->err, "XML in AWS response refused at line %lu, "
	    "column %lu: %s", (unsigned long)XML_GetCurrentLineNumber(ps->xp),
	    (unsigned long)XML_GetCurrentColumnNumber(ps->xp) + 1, reason);
	XML_StopParser(ps->xp, XML_FALSE);
}

/* The node and its name share one allocation; text starts as the shared "". */
static struct awsxml_node *
awsxml_node_new(const char *qname)
{
	struct awsxml_node *n;
	const char *local;
	size_t len;

	if ((local = strrchr(qname, AWSXML_NS_SEP)) != NULL)
		local++;
	else
		local = qname;
	len = strlen(local);
	n = xmalloc(sizeof(*n) + len + 1);
	memset(n, 0, sizeof(*n));
	n->name = (char *)(n + 1);
	memcpy(n->name, local, len + 1);
	n->text = awsxml_empty;
	return n;
}

static void XMLCALL
awsxml_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	struct awsxml_parser *ps = arg;
	struct awsxml_frame *parent, *f;
	struct awsxml_node *n;

	(void)atts;
	if (ps->failed)
		return;
	if (ps->depth == AWSXML_MAX_DEPTH) {
		awsxml_refuse(ps, "elements nested deeper than %d levels "
		    "(AWSXML_MAX_DEPTH)", AWSXML_MAX_DEPTH);
		return;
	}
	if (ps->nodes == AWSXML_MAX_NODES) {
		awsxml_refuse(ps, "more than %d elements (AWSXML_MAX_NODES)",
		    AWSXML_MAX_NODES);
		return;
	}
	n = awsxml_node_new(name);
	ps->nodes++;
	if (ps->depth == 0)
		ps->root = n;
	else {
		parent = &ps->stack[ps->depth - 1];
		n->parent = parent->node;
		if (parent->last == NULL)
			parent->node->first_child = n;
		else
			parent->last->next = n;
		parent->last = n;
	}
	f = &ps->stack[ps->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
}

static int
awsxml_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (strchr(" \t\r\n", s[i]) == NULL)
			return 0;
	return 1;
}

/*
 * Whitespace-only text of an element with children is indentation and is
 * dropped; a leaf keeps its text exactly, since tag values may be " ".
 */
static void XMLCALL
awsxml_end(void *arg, const XML_Char *name)
{
	struct awsxml_parser *ps = arg;
	struct awsxml_frame *f;

	(void)name;
	if (ps->failed || ps->depth == 0)
		return;
	f = &ps->stack[--ps->depth];
	if (f->len == 0 || (f->node->first_child != NULL &&
	    awsxml_blank(f->buf, f->len))) {
		free(f->buf);
		return;
	}
	f->node->text = xreallocarray(f->buf, f->len + 1, 1);
	f->node->text[f->len] = '\0';
}

/* expat hands text in pieces (and per entity); append to the open element. */
static void XMLCALL
awsxml_chars(void *arg, const XML_Char *s, int len)
{
	struct awsxml_parser *ps = arg;
	struct awsxml_frame *f;
	size_t need;

	if (ps->failed || ps->depth == 0 || len <= 0)
		return;
	f = &ps->stack[ps->depth - 1];
	need = f->len + (size_t)len + 1;
	if (need > f->cap) {
		f->cap = f->cap == 0 ? 64 : f->cap;
		while (f->cap < need)
			f->cap *= 2;
		f->buf = xreallocarray(f->buf, f->cap, 1);
	}
	memcpy(f->buf + f->len, s, (size_t)len);
	f->len += (size_t)len;
}

/*
 * AWS never sends a DOCTYPE; refusing it at its start means no entity is
 * ever declared, so entity-expansion bombs cannot begin.
 */
static void XMLCALL
awsxml_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	awsxml_refuse(arg, "%s", "DOCTYPE declarations are not accepted "
	    "(AWS never sends them; entity definitions could expand without "
	    "bound)");
}

/* Release what a refused or malformed parse left open. */
static void
awsxml_abandon(struct awsxml_parser *ps)
{
	while (ps->depth > 0)
		free(ps->stack[--ps->depth].buf);
	awsxml_free(ps->root);
	ps->root = NULL;
}

static int
awsxml_run(struct awsxml_parser *ps, const char *body, size_t len)
{
	enum XML_Error code;

	XML_SetUserData(ps->xp, ps);
	XML_SetElementHandler(ps->xp, awsxml_start, awsxml_end);
	XML_SetCharacterDataHandler(ps->xp, awsxml_chars);
	XML_SetStartDoctypeDeclHandler(ps->xp, awsxml_doctype);
	if (XML_Parse(ps->xp, body, (int)len, XML_TRUE) == XML_STATUS_OK)
		return 0;
	if (ps->failed)
		return -1;
	code = XML_GetErrorCode(ps->xp);
	return err_set(ps->err, "malformed XML in AWS response at line %lu, "
	    "column %lu: %s", (unsigned long)XML_GetCurrentLineNumber(ps->xp),
	    (unsigned long)XML_GetCurrentColumnNumber(ps->xp) + 1,
	    XML_ErrorString(code));
}

struct awsxml_node *
awsxml_parse(const char *body, size_t len, struct errbuf *err)
{
	struct awsxml_parser ps;

	if (body == NULL || len == 0) {
		err_set(err, "empty AWS response body where an XML document "
		    "was expected");
		return NULL;
	}
	if (len > AWSXML_MAX_SIZE) {
		err_set(err, "AWS XML response of %zu bytes is larger than the "
		    "%d-byte limit (AWSXML_MAX_SIZE); request smaller pages",
		    len, AWSXML_MAX_SIZE);
		return NULL;
	}
	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	if ((ps.xp = XML_ParserCreateNS(NULL, AWSXML_NS_SEP)) == NULL) {
		err_set(err, "cannot create an XML parser: out of memory");
		return NULL;
	}
	if (awsxml_run(&ps, body, len) == -1)
		awsxml_abandon(&ps);
	XML_ParserFree(ps.xp);
	return ps.root;
}

/* Depth is bounded by AWSXML_MAX_DEPTH, so recursing on children is safe. */
void
awsxml_free(struct awsxml_node *n)
{
	struct awsxml_node *next;

	while (n != NULL) {
		next = n->next;
		awsxml_free(n->first_child);
		if (n->text != awsxml_empty)
			free(n->text);
		free(n);
		n = next;
	}
}

/* First child whose name is the len bytes at name. */
static const struct awsxml_node *
awsxml_child(const struct awsxml_node *n, const char *name, size_t len)
{
	const struct awsxml_node *c;

	for (c = n->first_child; c != NULL; c = c->next)
		if (strncmp(c->name, name, len) == 0 && c->name[len] == '\0')
			return c;
	return NULL;
}

const struct awsxml_node *
awsxml_find(const struct awsxml_node *n, const char *path)
{
	const char *slash;
	size_t len;

	if (n == NULL || path == NULL)
		return NULL;
	while (n != NULL && *path != '\0') {
		if ((slash = strchr(path, '/')) != NULL)
			len = (size_t)(slash - path);
		else
			len = strlen(path);
		if (len == 0)
			return NULL;
		n = awsxml_child(n, path, len);
		path += len;
		if (*path == '/' && *++path == '\0')
			return NULL;
	}
	return n;
}

const char *
awsxml_text(const struct awsxml_node *n, const char *path)
{
	if ((n = awsxml_find(n, path)) == NULL)
		return NULL;
	return n->text;
}

const struct awsxml_node *
awsxml_first(const struct awsxml_node *n, const char *name)
{
	if (n == NULL || name == NULL)
		return NULL;
	return awsxml_child(n, name, strlen(name));
}

const struct awsxml_node *
awsxml_next(const struct awsxml_node *n)
{
	const struct awsxml_node *s;

	if (n == NULL)
		return NULL;
	for (s = n->next; s != NULL; s = s->next)
		if (strcmp(s->name, n->name) == 0)
			return s;
	return NULL;
}

/* The error shapes AWS XML services send: document element, code, message. */
static const struct {
	const char	*root;
	const char	*code;
	const char	*message;
} awsxml_error_forms[] = {
	{ "ErrorResponse", "Error/Code", "Error/Message" },	/* Query */
	{ "Error", "Code", "Message" },				/* S3 */
	{ "Response", "Errors/Error/Code", "Errors/Error/Message" }, /* EC2 */
};

int
awsxml_error(const char *body, size_t len, char *code, size_t codesz,
    char *message, size_t messagesz)
{
	struct awsxml_node *root;
	const char *c, *m;
	size_t i;
	int rv = -1;

	if ((root = awsxml_parse(body, len, NULL)) == NULL)
		return -1;
	for (i = 0; i < sizeof(awsxml_error_forms) /
	    sizeof(awsxml_error_forms[0]); i++) {
		if (strcmp(root->name, awsxml_error_forms[i].root) != 0)
			continue;
		c = awsxml_text(root, awsxml_error_forms[i].code);
		if (c == NULL || *c == '\0')
			break;
		if ((m = awsxml_text(root, awsxml_error_forms[i].message)) ==
		    NULL)
			m = "";
		awsxml_errcpy(code, codesz, c);
		awsxml_errcpy(message, messagesz, m);
		rv = 0;
		break;
	}
	awsxml_free(root);
	return rv;
}

void
awsxml_errcpy(char *dst, size_t dstsz, const char *src)
{
	size_t i, n;

	if (dst == NULL || dstsz == 0)
		return;
	if (src == NULL)
		src = "";
	n = strlen(src);
	if (n >= dstsz) {
		/* Back off over continuation bytes to a character start. */
		n = dstsz - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
			dst[i] = ' ';
		else
			dst[i] = src[i];
	}
	dst[n] = '\0';
}
