/*
 * Rows of SQL parameter values packed into one growing buffer: how an
 * account's resources wait, a few hundred bytes each, for the transaction
 * that stores them (a decoded JSON tree costs some kilobytes a resource).
 * A row is a kind, the caller's small number, then its values in order;
 * reading binds them to a prepared statement's parameters.
 */
#ifndef ROWBUF_H
#define ROWBUF_H

#include <stddef.h>

struct rowbuf;
struct sqlite3_stmt;

struct rowbuf *rowbuf_new(void);
void	rowbuf_free(struct rowbuf *);

/* Start a row of this kind (0..255); the values that follow belong to it. */
void	rowbuf_row(struct rowbuf *, int kind);
/* A text value (copied; NULL is SQL NULL), or the first len bytes of one. */
void	rowbuf_text(struct rowbuf *, const char *);
void	rowbuf_textn(struct rowbuf *, const char *, size_t len);
void	rowbuf_int(struct rowbuf *, long long);

/*
 * Reading, with *pos starting at 0: rowbuf_next() returns the kind of the
 * row at *pos and moves past its header, or -1 after the last row.
 * rowbuf_bind() binds the next n values at *pos to parameters first ..
 * first + n - 1 and moves past them. Text is bound SQLITE_STATIC: it stays
 * valid while the buffer is neither written nor freed.
 */
int	rowbuf_next(const struct rowbuf *, size_t *pos);
void	rowbuf_bind(const struct rowbuf *, size_t *pos, struct sqlite3_stmt *,
	    int first, int n);

/* One value read back: text (len bytes, NUL-terminated) or a number. */
struct rowbuf_value {
	const char	*text;		/* NULL: SQL NULL or a number */
	size_t		 len;
	int		 is_int;
	long long	 num;
};

/* The value at *pos, moving past it; text stays valid as for bind. */
void	rowbuf_value(const struct rowbuf *, size_t *pos,
	    struct rowbuf_value *);
/* Move *pos past the next n values. */
void	rowbuf_skip(const struct rowbuf *, size_t *pos, int n);
/* Append to dst a row of this kind with the next n values of src at *pos. */
void	rowbuf_copy_row(struct rowbuf *dst, int kind,
	    const struct rowbuf *src, size_t *pos, int n);

#endif
