/*
 * A curl multi handle driven by a libevent event_base: runs http_call
 * transfers (common/http.h) to their final verdict, waits out retry delays
 * on evtimers instead of sleeping, and calls back once per call from the
 * event loop. Used by STS and by anything else the supervisor asks of AWS.
 */
#ifndef EVCURL_H
#define EVCURL_H

#include <stddef.h>

struct aws_creds;
struct event_base;
struct evcurl;
struct evcurl_xfer;
struct http_call;

struct evcurl *evcurl_new(struct event_base *);
/*
 * Drops every transfer that has not called back (their callbacks are never
 * called; their http_calls still belong to the callers), then frees.
 */
void	evcurl_free(struct evcurl *);

/*
 * Run call (fresh from http_call_new) signed with creds on every attempt;
 * creds must stay valid until done is called or the transfer is cancelled.
 * done gets rc 0 for a 2xx reply, else -1 and error, the sentence of
 * http_call_error() (or of a signing failure); the response is in
 * http_call_response(call). done is called exactly once, from the event
 * loop and never before evcurl_run returns; it may free call, run new
 * transfers, cancel others or free the evcurl. The returned handle is
 * valid until done is called or the transfer is cancelled.
 */
struct evcurl_xfer *evcurl_run(struct evcurl *, struct http_call *,
	    const struct aws_creds *,
	    void (*done)(struct http_call *, int rc, const char *error,
	    void *arg), void *arg);
/* Stop a transfer that has not called back; done is never called. */
void	evcurl_cancel(struct evcurl_xfer *);
/* Transfers that have not called back yet. */
size_t	evcurl_pending(const struct evcurl *);

#endif
