/*
 * Writing XML responses into an evbuffer. Text is escaped here and only
 * here; element names are constants from the handlers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "emulator.h"
#include "log.h"

/* XML 1.0 cannot carry control characters other than tab, LF and CR. */
static const char *
xml_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case '\t':
		return "&#9;";
	case '\n':
		return "&#10;";
	case '\r':
		return "&#13;";
	default:
		return "?";
	}
}

static const char xml_special[] =
    "&<>\"'\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
    "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f";

void
xml_escaped(struct evbuffer *b, const char *s)
{
	const char *rep;
	size_t n;

	for (;;) {
		n = strcspn(s, xml_special);
		evbuffer_add(b, s, n);
		if (s[n] == '\0')
			return;
		rep = xml_entity(s[n]);
		evbuffer_add(b, rep, strlen(rep));
		s += n + 1;
	}
}

void
xml_open(struct evbuffer *b, const char *name)
{
	evbuffer_add_printf(b, "<%s>", name);
}

void
xml_close(struct evbuffer *b, const char *name)
{
	evbuffer_add_printf(b, "</%s>", name);
}

void
xml_text(struct evbuffer *b, const char *name, const char *text)
{
	evbuffer_add_printf(b, "<%s>", name);
	xml_escaped(b, text);
	evbuffer_add_printf(b, "</%s>", name);
}

void
xml_textf(struct evbuffer *b, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		fatalx("xml_textf: out of memory");
	va_end(ap);
	xml_text(b, name, text);
	free(text);
}
