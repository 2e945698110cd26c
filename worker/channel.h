/*
 * The worker's end of the protocol on fd 3 (the pair of supervisor/peer.c).
 * Blocking writes of whole frames; reads only where the protocol allows the
 * supervisor to speak (JOB, CREDENTIALS, CREDENTIALS_REFRESHED, CANCEL,
 * LIMITS).
 */
#ifndef CHANNEL_H
#define CHANNEL_H

#include <jansson.h>

#include "proto.h"

struct aws_creds;
struct errbuf;
struct channel;

struct channel *channel_open(int fd);
void	channel_free(struct channel *);

/* Read JOB then CREDENTIALS, exactly once each and in that order. */
int	channel_read_job(struct channel *, json_t **job,
	    struct aws_creds **creds, struct errbuf *);
int	channel_send(struct channel *, enum msg_type, json_t *body /* stolen */,
	    struct errbuf *);
/* A body already encoded as compact JSON, len bytes (not stolen). */
int	channel_send_text(struct channel *, enum msg_type, const char *body,
	    size_t len, struct errbuf *);
/* LOG frame, message cut to PROTO_MAX_LOG. */
void	channel_log(struct channel *, const char *level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Send CREDENTIALS_REQUEST and wait for CREDENTIALS_REFRESHED (a CANCEL
 * instead ends the process; a LIMITS before it is applied). Replaces *creds.
 */
int	channel_refresh_creds(struct channel *, struct aws_creds **,
	    struct errbuf *);
/*
 * Non-blocking: apply every LIMITS waiting; 1 when the supervisor said stop
 * (CANCEL, its end closed, a broken frame), else 0.
 */
int	channel_poll(struct channel *);
/* For poll(2) beside other descriptors. */
int	channel_fd(const struct channel *);
/* Requests the worker may have in flight now (LIMITS; PROTO_INFLIGHT). */
int	channel_max_inflight(const struct channel *);

#endif
