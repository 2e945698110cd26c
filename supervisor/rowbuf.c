/*
 * One byte buffer of tagged values. A row header is ROW then the kind byte;
 * a value is NUL, INT then 8 bytes, or TEXT then a 4-byte length, the bytes
 * and a terminating NUL (so SQLite can be given -1 or the length). Numbers
 * are copied with memcpy: nothing in the buffer is aligned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "rowbuf.h"
#include "xmalloc.h"

enum rowbuf_tag { TAG_ROW = 1, TAG_NULL, TAG_INT, TAG_TEXT };

struct rowbuf {
	unsigned char	*data;
	size_t		 len, cap;
};

struct rowbuf *
rowbuf_new(void)
{
	return xcalloc(1, sizeof(struct rowbuf));
}

void
rowbuf_free(struct rowbuf *rb)
{
	if (rb == NULL)
		return;
	free(rb->data);
	free(rb);
}

static unsigned char *
rowbuf_grow(struct rowbuf *rb, size_t n)
{
	unsigned char *at;

	if (n > rb->cap - rb->len) {
		if (n > SIZE_MAX / 2 - rb->len)
			fatalx("%s: %zu bytes is too many", __func__, n);
		rb->cap = (rb->len + n) * 2 < 4096 ? 4096 : (rb->len + n) * 2;
		rb->data = xreallocarray(rb->data, rb->cap, 1);
	}
	at = rb->data + rb->len;
	rb->len += n;
	return at;
}

void
rowbuf_row(struct rowbuf *rb, int kind)
{
	unsigned char *at = rowbuf_grow(rb, 2);

	at[0] = TAG_ROW;
	at[1] = (unsigned char)kind;
}

void
rowbuf_textn(struct rowbuf *rb, const char *s, size_t len)
{
	unsigned char *at;
	uint32_t n32;

	if (len > UINT32_MAX - 1)
		fatalx("%s: a value of %zu bytes", __func__, len);
	at = rowbuf_grow(rb, 1 + sizeof(n32) + len + 1);
	n32 = (uint32_t)len;
	at[0] = TAG_TEXT;
	memcpy(at + 1, &n32, sizeof(n32));
	memcpy(at + 1 + sizeof(n32), s, len);
	at[1 + sizeof(n32) + len] = '\0';
}

void
rowbuf_text(struct rowbuf *rb, const char *s)
{
	if (s == NULL)
		*rowbuf_grow(rb, 1) = TAG_NULL;
	else
		rowbuf_textn(rb, s, strlen(s));
}

void
rowbuf_int(struct rowbuf *rb, long long v)
{
	unsigned char *at = rowbuf_grow(rb, 1 + sizeof(v));

	at[0] = TAG_INT;
	memcpy(at + 1, &v, sizeof(v));
}

int
rowbuf_next(const struct rowbuf *rb, size_t *pos)
{
	int kind;

	if (*pos >= rb->len)
		return -1;
	if (rb->data[*pos] != TAG_ROW || *pos + 2 > rb->len)
		fatalx("%s: no row at offset %zu", __func__, *pos);
	kind = rb->data[*pos + 1];
	*pos += 2;
	return kind;
}

void
rowbuf_value(const struct rowbuf *rb, size_t *pos, struct rowbuf_value *v)
{
	const unsigned char *at;
	uint32_t n32;

	if (*pos >= rb->len)
		fatalx("%s: row ends at offset %zu", __func__, *pos);
	memset(v, 0, sizeof(*v));
	at = rb->data + *pos;
	switch (at[0]) {
	case TAG_NULL:
		*pos += 1;
		break;
	case TAG_INT:
		v->is_int = 1;
		memcpy(&v->num, at + 1, sizeof(v->num));
		*pos += 1 + sizeof(v->num);
		break;
	case TAG_TEXT:
		memcpy(&n32, at + 1, sizeof(n32));
		v->text = (const char *)at + 1 + sizeof(n32);
		v->len = n32;
		*pos += 1 + sizeof(n32) + n32 + 1;
		break;
	default:
		fatalx("%s: no value at offset %zu", __func__, *pos);
	}
}

void
rowbuf_skip(const struct rowbuf *rb, size_t *pos, int n)
{
	struct rowbuf_value v;

	while (n-- > 0)
		rowbuf_value(rb, pos, &v);
}

void
rowbuf_bind(const struct rowbuf *rb, size_t *pos, sqlite3_stmt *s,
    int first, int n)
{
	struct rowbuf_value v;
	int i;

	for (i = first; i < first + n; i++) {
		rowbuf_value(rb, pos, &v);
		if (v.is_int)
			sqlite3_bind_int64(s, i, v.num);
		else if (v.text == NULL)
			sqlite3_bind_null(s, i);
		else
			sqlite3_bind_text(s, i, v.text, (int)v.len,
			    SQLITE_STATIC);
	}
}

void
rowbuf_copy_row(struct rowbuf *dst, int kind, const struct rowbuf *src,
    size_t *pos, int n)
{
	struct rowbuf_value v;
	int i;

	rowbuf_row(dst, kind);
	for (i = 0; i < n; i++) {
		rowbuf_value(src, pos, &v);
		if (v.is_int)
			rowbuf_int(dst, v.num);
		else if (v.text == NULL)
			rowbuf_text(dst, NULL);
		else
			rowbuf_textn(dst, v.text, v.len);
	}
}
