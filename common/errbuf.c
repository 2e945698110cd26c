/*
 * Error sentences for users. A NULL errbuf is allowed and discards the text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"

int
err_set(struct errbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Put context in front of an error already set: "file.json: <old text>". */
int
err_prefix(struct errbuf *err, const char *fmt, ...)
{
	char joined[2 * ERRBUF_SIZE + 2];
	va_list ap;
	size_t n;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	n = (size_t)vsnprintf(joined, ERRBUF_SIZE, fmt, ap);
	va_end(ap);
	if (n >= ERRBUF_SIZE)
		n = ERRBUF_SIZE - 1;
	n += (size_t)snprintf(joined + n, sizeof(joined) - n, ": %s", err->msg);
	/* Keep the head of the sentence when it no longer fits. */
	if (n >= sizeof(err->msg))
		n = sizeof(err->msg) - 1;
	memcpy(err->msg, joined, n);
	err->msg[n] = '\0';
	return -1;
}

void
err_clear(struct errbuf *err)
{
	if (err != NULL)
		err->msg[0] = '\0';
}
