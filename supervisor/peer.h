/*
 * The supervisor's end of one worker's channel (the pair of
 * worker/channel.c): frames reassembled on a bufferevent, checked against
 * the permission table and the body shapes, then handed to jobs.c; the
 * worker's stderr lines and LOG frames re-logged under its account id.
 */
#ifndef PEER_H
#define PEER_H

#include <sys/types.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"

struct errbuf;
struct event_base;
struct peer;

/*
 * Called from the event loop. A body is only borrowed for the call. After
 * closed() the peer reads nothing more; it may still be freed later.
 */
struct peer_ops {
	/*
	 * PROGRESS, RESOURCE_BATCH, REGION_DONE, CREDENTIALS_REQUEST, and LOG
	 * (already re-logged).
	 */
	void	(*frame)(void *arg, uint32_t type, const json_t *body);
	/* HELLO, already checked against the worker's pid and PROTO_VERSION. */
	void	(*hello)(void *arg, const json_t *body);
	/* ACCOUNT_DONE or ERROR: the last frame the worker may send. */
	void	(*final)(void *arg, uint32_t type, const json_t *body);
	/*
	 * The channel ended: violation is NULL for end of file or a broken
	 * connection, else what the worker did wrong ("RESOURCE_BATCH before
	 * HELLO", "frame of 9999999 bytes exceeds 4194304").
	 */
	void	(*closed)(void *arg, const char *violation);
};

/* Takes ownership of both fds (errfd may be -1). */
struct peer *peer_new(struct event_base *, int fd, int errfd, pid_t pid,
	    const char *account_id, const struct peer_ops *, void *arg);
/* Logs what is left in the stderr pipe, wipes unsent frames, closes. */
void	peer_free(struct peer *);
/*
 * Queue a frame to the worker; the bytes are wiped once written (or when
 * the peer is freed). Sending out of order (JOB not first, CREDENTIALS
 * twice, CREDENTIALS_REFRESHED unasked) is refused with an error.
 */
int	peer_send(struct peer *, enum msg_type, const json_t *body,
	    struct errbuf *);

#endif
