/*
 * The worker's end of the protocol on fd 3, paired with supervisor/peer.c:
 * JOB and CREDENTIALS read once at start, whole frames written blocking,
 * LOG frames cut to size, and the credentials refresh round trip.
 */
#include <sys/types.h>

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "channel.h"
#include "creds.h"
#include "errbuf.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

/* Exit status when the supervisor cancels (tagwarden-worker.8). */
#define CHANNEL_EXIT_CANCELLED	4

struct channel {
	int	fd;
	int	broken;		/* a write failed: nobody is listening */
	int	max_inflight;	/* the latest LIMITS, or PROTO_INFLIGHT */
};

struct channel *
channel_open(int fd)
{
	struct channel *ch;

	ch = xcalloc(1, sizeof(*ch));
	ch->fd = fd;
	ch->max_inflight = PROTO_INFLIGHT;
	return ch;
}

void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	close(ch->fd);
	free(ch);
}

/*
 * jansson frees through channel_wipe_free while a frame is read, so the
 * copies its parser makes of the CREDENTIALS strings do not linger in
 * freed heap memory. Only then: frames are the only JSON that can hold a
 * secret, and wiping every block jansson freed (the AWS JSON pages, the
 * resources sent) cost the worker 7% of its instructions. Switching is
 * safe at any time because both free functions end in free(3).
 */
static void
channel_wipe_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static int
channel_read(struct channel *ch, uint32_t *type, json_t **body,
    struct errbuf *err)
{
	int rc;

	json_set_alloc_funcs(malloc, channel_wipe_free);
	rc = proto_read(ch->fd, type, body, err);
	json_set_alloc_funcs(malloc, free);
	return rc;
}

static int
read_expected(struct channel *ch, enum msg_type want, json_t **body,
    struct errbuf *err)
{
	uint32_t type;

	if (channel_read(ch, &type, body, err) == -1) {
		/* Decoding errors already start with the type they are about. */
		if (strncmp(err->msg, msg_type_name(want),
		    strlen(msg_type_name(want))) == 0)
			return -1;
		return err_prefix(err, "waiting for %s", msg_type_name(want));
	}
	if (type != (uint32_t)want) {
		proto_wipe(*body);
		json_decref(*body);
		*body = NULL;
		return err_set(err, "expected %s, got %s", msg_type_name(want),
		    msg_type_name(type));
	}
	return 0;
}

/* The body's strings are copied into creds, then wiped in the JSON. */
static struct aws_creds *
creds_from_body(json_t *body)
{
	struct aws_creds *creds;
	json_t *token;

	token = json_object_get(body, "session_token");
	creds = creds_new(json_string_value(json_object_get(body,
	    "access_key_id")), json_string_value(json_object_get(body,
	    "secret_access_key")), json_is_string(token) ?
	    json_string_value(token) : NULL,
	    (time_t)json_integer_value(json_object_get(body, "expiration")),
	    "supervisor");
	proto_wipe(body);
	json_decref(body);
	return creds;
}

int
channel_read_job(struct channel *ch, json_t **job, struct aws_creds **creds,
    struct errbuf *err)
{
	json_t *body;
	json_int_t proto;

	*job = NULL;
	*creds = NULL;
	if (read_expected(ch, MSG_JOB, job, err) == -1)
		return -1;
	proto = json_integer_value(json_object_get(*job, "proto"));
	if (proto != PROTO_VERSION) {
		json_decref(*job);
		*job = NULL;
		return err_set(err, "JOB: proto %lld does not match this "
		    "worker's %d; install matching tagwarden and "
		    "tagwarden-worker", (long long)proto, PROTO_VERSION);
	}
	if (read_expected(ch, MSG_CREDENTIALS, &body, err) == -1) {
		json_decref(*job);
		*job = NULL;
		return -1;
	}
	*creds = creds_from_body(body);
	return 0;
}

int
channel_send(struct channel *ch, enum msg_type type, json_t *body,
    struct errbuf *err)
{
	int rc;

	if (body == NULL)
		return err_set(err, "%s: no body to send", msg_type_name(type));
	rc = proto_write(ch->fd, type, body, err);
	json_decref(body);
	if (rc == -1)
		ch->broken = 1;
	return rc;
}

/* A body already encoded as compact JSON (proto_write_text). */
int
channel_send_text(struct channel *ch, enum msg_type type, const char *body,
    size_t len, struct errbuf *err)
{
	int rc = proto_write_text(ch->fd, type, body, len, err);

	if (rc == -1)
		ch->broken = 1;
	return rc;
}

/*
 * Cut to PROTO_MAX_LOG bytes on a character boundary; bytes that do not
 * form UTF-8 become '?', since a LOG body must be valid UTF-8.
 */
static json_t *
log_string(char *msg)
{
	size_t len = strlen(msg), i;
	json_t *s;

	if (len > PROTO_MAX_LOG) {
		len = PROTO_MAX_LOG;
		while (len > 0 && ((unsigned char)msg[len] & 0xc0) == 0x80)
			len--;
		msg[len] = '\0';
	}
	if ((s = json_stringn(msg, len)) != NULL)
		return s;
	for (i = 0; i < len; i++) {
		if ((unsigned char)msg[i] >= 0x80)
			msg[i] = '?';
	}
	return json_stringn(msg, len);
}

static void	log_at(enum log_level, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
log_at(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(lvl, fmt, ap);
	va_end(ap);
}

void
channel_log(struct channel *ch, const char *level, const char *fmt, ...)
{
	char msg[PROTO_MAX_LOG * 2];
	enum log_level lvl = LOG_LEVEL_INFO;
	struct errbuf err;
	va_list ap;

	/* The worker filters by its own LOG_LEVEL; the supervisor again. */
	log_level_parse(level, &lvl);
	if (lvl < log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ch == NULL || ch->broken) {
		log_at(lvl, "%s", msg);
		return;
	}
	if (channel_send(ch, MSG_LOG, json_pack("{s:s, s:o}", "level", level,
	    "message", log_string(msg)), &err) == -1)
		log_warnx("cannot send a LOG frame: %s", err.msg);
}

/* LIMITS is never answered: it only changes what the worker may do. */
static void
limits_apply(struct channel *ch, json_t *body)
{
	ch->max_inflight = (int)json_integer_value(json_object_get(body,
	    "max_inflight"));
	json_decref(body);
}

/* The next frame that is not a LIMITS, applying those before it. */
static int
read_past_limits(struct channel *ch, uint32_t *type, json_t **body,
    struct errbuf *err)
{
	for (;;) {
		if (channel_read(ch, type, body, err) == -1)
			return -1;
		if (*type != MSG_LIMITS)
			return 0;
		limits_apply(ch, *body);
	}
}

int
channel_refresh_creds(struct channel *ch, struct aws_creds **creds,
    struct errbuf *err)
{
	uint32_t type;
	json_t *body;

	if (channel_send(ch, MSG_CREDENTIALS_REQUEST, json_object(), err) == -1)
		return -1;
	if (read_past_limits(ch, &type, &body, err) == -1)
		return err_prefix(err, "waiting for CREDENTIALS_REFRESHED");
	if (type == MSG_CANCEL) {
		json_decref(body);
		log_info("cancelled by the supervisor");
		exit(CHANNEL_EXIT_CANCELLED);
	}
	if (type != MSG_CREDENTIALS_REFRESHED) {
		proto_wipe(body);
		json_decref(body);
		return err_set(err, "expected CREDENTIALS_REFRESHED or CANCEL, "
		    "got %s", msg_type_name(type));
	}
	creds_free(*creds);
	*creds = creds_from_body(body);
	return 0;
}

static int
channel_readable(const struct channel *ch)
{
	struct pollfd pfd;
	int n;

	pfd.fd = ch->fd;
	pfd.events = POLLIN;
	do {
		n = poll(&pfd, 1, 0);
	} while (n == -1 && errno == EINTR);
	return n > 0;
}

/*
 * Unasked, the supervisor sends only LIMITS, applied here, and CANCEL;
 * anything else readable here is its end of the channel closing or a
 * broken protocol, and like CANCEL means stop.
 */
int
channel_poll(struct channel *ch)
{
	struct errbuf err;
	uint32_t type;
	json_t *body;

	while (channel_readable(ch)) {
		if (channel_read(ch, &type, &body, &err) == -1) {
			log_warnx("%s", err.msg);
			return 1;
		}
		if (type == MSG_LIMITS) {
			limits_apply(ch, body);
			continue;
		}
		proto_wipe(body);
		json_decref(body);
		if (type != MSG_CANCEL)
			log_warnx("unexpected %s from the supervisor",
			    msg_type_name(type));
		return 1;
	}
	return 0;
}

int
channel_fd(const struct channel *ch)
{
	return ch->fd;
}

int
channel_max_inflight(const struct channel *ch)
{
	return ch->max_inflight;
}
