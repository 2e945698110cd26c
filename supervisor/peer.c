/*
 * One worker's channel as the supervisor sees it: frames reassembled from
 * a bufferevent with the size checked before the body is buffered, a
 * permission table per direction (OpenSSH's MON_ONCE, with MSG_FIRST and
 * MSG_LAST), exact-shape decoding, and the worker's logs re-logged under
 * its account id. Nothing a worker sends is trusted.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "errbuf.h"
#include "log.h"
#include "peer.h"
#include "proto.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Permission flags of a row. */
#define MSG_FIRST	0x01	/* must come first */
#define MSG_ONCE	0x02	/* at most once */
#define MSG_LAST	0x04	/* nothing may follow it */
#define MSG_EARLY	0x08	/* may also come before the first */
#define MSG_ASKED	0x10	/* only in answer to CREDENTIALS_REQUEST */

/* Bytes of stderr buffered while waiting for a newline. */
#define PEER_ERR_BUFFER	(4 * PROTO_MAX_LOG)

struct peer;

struct permit {
	enum msg_type	 type;
	int		 flags;
	void		(*handle)(struct peer *, uint32_t, const json_t *);
};

struct permit_table {
	const struct permit	*rows;
	size_t			 nrows;
	const char		*sender;	/* "worker", "supervisor" */
	const char		*first;		/* the MSG_FIRST type's name */
};

/* What one direction has carried so far. */
struct dir_state {
	int		 first_seen;
	int		 last_seen;
	uint32_t	 last_type;
	int		 asked;		/* a CREDENTIALS_REQUEST is open */
	unsigned char	 seen[16];	/* by permit row */
};

struct peer {
	struct bufferevent	*bev;
	struct bufferevent	*errbev;
	pid_t			 pid;
	char			 account[32];
	const struct peer_ops	*ops;
	void			*arg;
	struct dir_state	 in;	/* worker -> supervisor */
	struct dir_state	 out;	/* supervisor -> worker */
	int			 stopped;
};

static void	peer_hello(struct peer *, uint32_t, const json_t *);
static void	peer_forward(struct peer *, uint32_t, const json_t *);
static void	peer_request(struct peer *, uint32_t, const json_t *);
static void	peer_log(struct peer *, uint32_t, const json_t *);
static void	peer_final(struct peer *, uint32_t, const json_t *);

static const struct permit from_worker_rows[] = {
	{ MSG_HELLO, MSG_FIRST | MSG_ONCE, peer_hello },
	{ MSG_PROGRESS, 0, peer_forward },
	{ MSG_RESOURCE_BATCH, 0, peer_forward },
	{ MSG_REGION_DONE, 0, peer_forward },
	{ MSG_CREDENTIALS_REQUEST, 0, peer_request },
	{ MSG_LOG, MSG_EARLY, peer_log },
	{ MSG_ACCOUNT_DONE, MSG_ONCE | MSG_LAST, peer_final },
	/* A worker refusing its JOB says so before HELLO. */
	{ MSG_ERROR, MSG_ONCE | MSG_LAST | MSG_EARLY, peer_final },
};

static const struct permit to_worker_rows[] = {
	{ MSG_JOB, MSG_FIRST | MSG_ONCE, NULL },
	{ MSG_CREDENTIALS, MSG_ONCE, NULL },
	{ MSG_CREDENTIALS_REFRESHED, MSG_ASKED, NULL },
	{ MSG_CANCEL, MSG_EARLY, NULL },
	{ MSG_LIMITS, 0, NULL },
};

static const struct permit_table from_worker = {
	from_worker_rows, nitems(from_worker_rows), "worker", "HELLO"
};
static const struct permit_table to_worker = {
	to_worker_rows, nitems(to_worker_rows), "supervisor", "JOB"
};

/* The row for type if this direction may carry it now, else -1 and why. */
static int
permit_check(const struct permit_table *t, const struct dir_state *st,
    uint32_t type, char *why, size_t len)
{
	const char *name = msg_type_name(type);
	size_t i;
	int flags;

	for (i = 0; i < t->nrows && (uint32_t)t->rows[i].type != type; i++)
		;
	if (i == t->nrows)
		return snprintf(why, len, "%s is not a %s message", name,
		    t->sender), -1;
	flags = t->rows[i].flags;
	if (st->last_seen)
		return snprintf(why, len, "%s after %s", name,
		    msg_type_name(st->last_type)), -1;
	if (!st->first_seen && !(flags & (MSG_FIRST | MSG_EARLY)))
		return snprintf(why, len, "%s before %s", name, t->first), -1;
	if ((flags & MSG_ONCE) && st->seen[i])
		return snprintf(why, len, "%s sent twice", name), -1;
	if ((flags & MSG_ASKED) && !st->asked)
		return snprintf(why, len, "%s without a CREDENTIALS_REQUEST",
		    name), -1;
	return (int)i;
}

static void
permit_commit(const struct permit_table *t, struct dir_state *st, int row)
{
	int flags = t->rows[row].flags;

	st->seen[row] = 1;
	if (flags & MSG_FIRST)
		st->first_seen = 1;
	if (flags & MSG_LAST) {
		st->last_seen = 1;
		st->last_type = t->rows[row].type;
	}
	if (flags & MSG_ASKED)
		st->asked = 0;
}

/* ---- logging on behalf of the worker ---- */

static void	log_at(enum log_level, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
log_at(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

/* One bounded line: control characters cannot forge or split lines. */
static void
peer_relog(struct peer *p, enum log_level level, const char *text,
    size_t len)
{
	char line[PROTO_MAX_LOG + 1];
	size_t i;

	if (len > PROTO_MAX_LOG)
		len = PROTO_MAX_LOG;
	for (i = 0; i < len; i++) {
		line[i] = text[i];
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = line[i] == '\t' ? ' ' : '?';
	}
	line[len] = '\0';
	log_at(level, "worker %s: %s", p->account, line);
}

/* "tagwarden-worker: LEVEL: text" keeps its level; anything else warns. */
static void
peer_stderr_line(struct peer *p, const char *line, size_t len)
{
	static const char prefix[] = "tagwarden-worker: ";
	enum log_level level;
	char name[16];
	const char *colon;
	size_t n;

	if (len > sizeof(prefix) - 1 &&
	    memcmp(line, prefix, sizeof(prefix) - 1) == 0) {
		colon = memchr(line + sizeof(prefix) - 1, ':',
		    len - (sizeof(prefix) - 1));
		n = colon == NULL ? 0 : (size_t)(colon - line) -
		    (sizeof(prefix) - 1);
		if (n > 0 && n < sizeof(name) && colon[1] == ' ') {
			memcpy(name, line + sizeof(prefix) - 1, n);
			name[n] = '\0';
			if (log_level_parse(name, &level) == 0) {
				peer_relog(p, level, colon + 2,
				    len - (size_t)(colon + 2 - line));
				return;
			}
		}
	}
	peer_relog(p, LOG_LEVEL_WARNING, line, len);
}

/* Whole lines; a line longer than PROTO_MAX_LOG goes out in pieces. */
static void
peer_stderr_drain(struct peer *p, struct evbuffer *in, int flush)
{
	size_t n, len;
	char *line;

	for (;;) {
		if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
			peer_stderr_line(p, line, n);
			free(line);
			continue;
		}
		len = evbuffer_get_length(in);
		if (len == 0 || (len < PROTO_MAX_LOG && !flush))
			return;
		n = len < PROTO_MAX_LOG ? len : PROTO_MAX_LOG;
		peer_stderr_line(p, (const char *)evbuffer_pullup(in,
		    (ssize_t)n), n);
		evbuffer_drain(in, n);
	}
}

static void
peer_stderr_read(struct bufferevent *bev, void *arg)
{
	peer_stderr_drain(arg, bufferevent_get_input(bev), 0);
}

static void
peer_stderr_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		peer_stderr_drain(arg, bufferevent_get_input(bev), 1);
		bufferevent_disable(bev, EV_READ);
	}
}

/* ---- frames from the worker ---- */

static void
peer_stop(struct peer *p, const char *violation)
{
	if (p->stopped)
		return;
	p->stopped = 1;
	bufferevent_disable(p->bev, EV_READ);
	p->ops->closed(p->arg, violation);
}

static int	peer_violation(struct peer *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
peer_violation(struct peer *p, const char *fmt, ...)
{
	char why[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	peer_stop(p, why);
	return -1;
}

static void
peer_hello(struct peer *p, uint32_t type, const json_t *body)
{
	json_int_t proto, pid;

	(void)type;
	proto = json_integer_value(json_object_get(body, "proto"));
	pid = json_integer_value(json_object_get(body, "pid"));
	if (proto != PROTO_VERSION)
		peer_violation(p, "HELLO: proto %lld, expected %d",
		    (long long)proto, PROTO_VERSION);
	else if (pid != (json_int_t)p->pid)
		peer_violation(p, "HELLO: pid %lld is not the worker's pid %ld",
		    (long long)pid, (long)p->pid);
	else
		p->ops->hello(p->arg, body);
}

static void
peer_forward(struct peer *p, uint32_t type, const json_t *body)
{
	p->ops->frame(p->arg, type, body);
}

static void
peer_request(struct peer *p, uint32_t type, const json_t *body)
{
	p->out.asked = 1;
	p->ops->frame(p->arg, type, body);
}

static void
peer_log(struct peer *p, uint32_t type, const json_t *body)
{
	enum log_level level = LOG_LEVEL_INFO;
	const json_t *msg = json_object_get(body, "message");

	log_level_parse(json_string_value(json_object_get(body, "level")),
	    &level);
	peer_relog(p, level, json_string_value(msg), json_string_length(msg));
	/* Not for the job's callbacks, but proof the worker started. */
	p->ops->frame(p->arg, type, body);
}

static void
peer_final(struct peer *p, uint32_t type, const json_t *body)
{
	p->ops->final(p->arg, type, body);
}

/* 1: a frame was handled; 0: more bytes needed; -1: reading stopped. */
static int
peer_frame(struct peer *p, struct evbuffer *in)
{
	static const unsigned char empty[1];
	unsigned char hdr[PROTO_HEADER_SIZE];
	const unsigned char *raw;
	struct errbuf err;
	char why[256];
	uint32_t type, len;
	json_t *body;
	int row;

	if (evbuffer_get_length(in) < PROTO_HEADER_SIZE)
		return 0;
	evbuffer_copyout(in, hdr, sizeof(hdr));
	if (proto_header(hdr, &type, &len, &err) == -1)
		return peer_violation(p, "%s", err.msg);
	/* Refused on its header, before its body is even waited for. */
	if ((row = permit_check(&from_worker, &p->in, type, why,
	    sizeof(why))) == -1)
		return peer_violation(p, "%s", why);
	if (evbuffer_get_length(in) < PROTO_HEADER_SIZE + (size_t)len)
		return 0;
	evbuffer_drain(in, PROTO_HEADER_SIZE);
	raw = len > 0 ? evbuffer_pullup(in, len) : empty;
	body = proto_decode(type, raw, len, &err);
	evbuffer_drain(in, len);
	if (body == NULL)
		return peer_violation(p, "%s", err.msg);
	permit_commit(&from_worker, &p->in, row);
	from_worker.rows[row].handle(p, type, body);
	json_decref(body);
	return p->stopped ? -1 : 1;
}

static void
peer_read(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;

	while (!p->stopped && peer_frame(p, bufferevent_get_input(bev)) == 1)
		;
}

static void
peer_event(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;
	size_t left;

	/*
	 * A failed write means the worker is gone or closed its end, but
	 * frames it sent may still be waiting: keep reading until EOF.
	 */
	if (what & BEV_EVENT_WRITING)
		return;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if ((left = evbuffer_get_length(bufferevent_get_input(bev))) > 0)
		log_debug("worker %s: channel closed with %zu bytes of an "
		    "unfinished frame", p->account, left);
	peer_stop(p, NULL);
}

struct peer *
peer_new(struct event_base *base, int fd, int errfd, pid_t pid,
    const char *account_id, const struct peer_ops *ops, void *arg)
{
	struct peer *p;

	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	snprintf(p->account, sizeof(p->account), "%s", account_id);
	p->ops = ops;
	p->arg = arg;
	p->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (p->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	/* At most one whole frame is ever buffered. */
	bufferevent_setwatermark(p->bev, EV_READ, 0,
	    PROTO_HEADER_SIZE + PROTO_MAX_FRAME);
	bufferevent_setcb(p->bev, peer_read, NULL, peer_event, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	if (errfd == -1)
		return p;
	p->errbev = bufferevent_socket_new(base, errfd, BEV_OPT_CLOSE_ON_FREE);
	if (p->errbev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setwatermark(p->errbev, EV_READ, 0, PEER_ERR_BUFFER);
	bufferevent_setcb(p->errbev, peer_stderr_read, NULL, peer_stderr_event,
	    p);
	bufferevent_enable(p->errbev, EV_READ);
	return p;
}

/*
 * Whatever the worker wrote to stderr before it died is still logged. A
 * bufferevent's input only grows from its own callback, so the rest is
 * read into a buffer of our own, after what was already there.
 */
static void
peer_stderr_final(struct peer *p)
{
	struct evbuffer *in = bufferevent_get_input(p->errbev), *rest;
	evutil_socket_t fd = bufferevent_getfd(p->errbev);
	int n;

	if ((rest = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	evbuffer_remove_buffer(in, rest, evbuffer_get_length(in));
	do {
		n = evbuffer_read(rest, fd, PEER_ERR_BUFFER);
		peer_stderr_drain(p, rest, 0);
	} while (n > 0);
	peer_stderr_drain(p, rest, 1);
	evbuffer_free(rest);
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	if (p->errbev != NULL) {
		peer_stderr_final(p);
		bufferevent_free(p->errbev);
	}
	/* Unsent frames are freed through frame_wipe(). */
	bufferevent_free(p->bev);
	free(p);
}

static void
frame_wipe(const void *data, size_t len, void *arg)
{
	(void)arg;
	explicit_bzero((void *)data, len);
	free((void *)data);
}

int
peer_send(struct peer *p, enum msg_type type, const json_t *body,
    struct errbuf *err)
{
	unsigned char *frame;
	char why[256];
	size_t len;
	int row;

	if ((row = permit_check(&to_worker, &p->out, type, why,
	    sizeof(why))) == -1)
		return err_set(err, "not sent to worker %s: %s", p->account, why);
	if (proto_encode(type, body, &frame, &len, err) == -1)
		return -1;
	/* By reference: libevent hands the bytes back to be wiped. */
	if (evbuffer_add_reference(bufferevent_get_output(p->bev), frame, len,
	    frame_wipe, NULL) == -1) {
		frame_wipe(frame, len, NULL);
		return err_set(err, "not sent to worker %s: buffer error",
		    p->account);
	}
	permit_commit(&to_worker, &p->out, row);
	return 0;
}
