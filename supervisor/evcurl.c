/*
 * evcurl: one curl multi handle on the supervisor's event_base. curl tells
 * us which sockets to watch (an event per socket) and when to wake it (one
 * evtimer); each transfer has its own evtimer for retry delays and for the
 * deferred "done" callback, so the loop never sleeps and no callback runs
 * inside curl or inside evcurl_run.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "errbuf.h"
#include "evcurl.h"
#include "http.h"
#include "log.h"
#include "queue-compat.h"
#include "xmalloc.h"

enum evcurl_state {
	EVCURL_ACTIVE,		/* easy handle in the multi */
	EVCURL_WAIT,		/* retry delay on xfer->ev */
	EVCURL_DONE		/* final; done fires on xfer->ev */
};

struct evcurl_xfer {
	struct evcurl		*ec;
	struct http_call	*call;
	const struct aws_creds	*creds;
	void			(*done)(struct http_call *, int, const char *,
				    void *);
	void			*arg;
	struct event		*ev;
	enum evcurl_state	 state;
	int			 rc;
	struct errbuf		 err;
	TAILQ_ENTRY(evcurl_xfer) entry;
};

/* A socket curl asked us to watch. */
struct evcurl_sock {
	struct evcurl		*ec;
	curl_socket_t		 fd;
	struct event		*ev;
	LIST_ENTRY(evcurl_sock)	 entry;
};

struct evcurl {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	size_t			 nxfers;
	TAILQ_HEAD(, evcurl_xfer) xfers;
	LIST_HEAD(, evcurl_sock) socks;
};

static void	evcurl_check_done(struct evcurl *);

/* Sockets. */

static void
evcurl_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl_sock *sk = arg;
	struct evcurl *ec = sk->ec;	/* sk may be gone after the action */
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(ec->multi, fd, action, &running);
	evcurl_check_done(ec);
}

static void
evcurl_sock_free(struct evcurl_sock *sk)
{
	LIST_REMOVE(sk, entry);
	if (sk->ev != NULL)
		event_free(sk->ev);
	free(sk);
}

static int
evcurl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct evcurl *ec = userp;
	struct evcurl_sock *sk = socketp;
	short flags = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL)
			evcurl_sock_free(sk);
		return 0;
	}
	if (sk == NULL) {
		sk = xcalloc(1, sizeof(*sk));
		sk->ec = ec;
		sk->fd = fd;
		LIST_INSERT_HEAD(&ec->socks, sk, entry);
		curl_multi_assign(ec->multi, fd, sk);
	}
	if (what & CURL_POLL_IN)
		flags |= EV_READ;
	if (what & CURL_POLL_OUT)
		flags |= EV_WRITE;
	/* Cheaper to make a new event than to track the old flags. */
	if (sk->ev != NULL)
		event_free(sk->ev);
	if ((sk->ev = event_new(ec->base, fd, flags, evcurl_sock_event,
	    sk)) == NULL || event_add(sk->ev, NULL) == -1)
		fatalx("evcurl: cannot watch socket %d", (int)fd);
	return 0;
}

/* curl's own timeouts. */

static void
evcurl_timer_event(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl *ec = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(ec->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	evcurl_check_done(ec);
}

static int
evcurl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct evcurl *ec = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(ec->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(ec->timer, &tv);
	return 0;
}

struct evcurl *
evcurl_new(struct event_base *base)
{
	struct evcurl *ec;

	ec = xcalloc(1, sizeof(*ec));
	ec->base = base;
	TAILQ_INIT(&ec->xfers);
	LIST_INIT(&ec->socks);
	if ((ec->multi = curl_multi_init()) == NULL ||
	    (ec->timer = evtimer_new(base, evcurl_timer_event, ec)) == NULL)
		fatalx("evcurl: cannot create the multi handle");
	curl_multi_setopt(ec->multi, CURLMOPT_SOCKETFUNCTION, evcurl_socket_cb);
	curl_multi_setopt(ec->multi, CURLMOPT_SOCKETDATA, ec);
	curl_multi_setopt(ec->multi, CURLMOPT_TIMERFUNCTION, evcurl_timer_cb);
	curl_multi_setopt(ec->multi, CURLMOPT_TIMERDATA, ec);
	return ec;
}

/* Unhook a transfer from curl and from the list, without calling back. */
static void
evcurl_xfer_free(struct evcurl_xfer *x)
{
	struct evcurl *ec = x->ec;

	if (x->state == EVCURL_ACTIVE)
		curl_multi_remove_handle(ec->multi, http_call_easy(x->call));
	TAILQ_REMOVE(&ec->xfers, x, entry);
	ec->nxfers--;
	event_free(x->ev);
	explicit_bzero(x, sizeof(*x));
	free(x);
}

void
evcurl_free(struct evcurl *ec)
{
	struct evcurl_sock *sk;
	struct evcurl_xfer *x;

	if (ec == NULL)
		return;
	while ((x = TAILQ_FIRST(&ec->xfers)) != NULL)
		evcurl_xfer_free(x);
	curl_multi_cleanup(ec->multi);
	/* Normally curl has said CURL_POLL_REMOVE for each by now. */
	while ((sk = LIST_FIRST(&ec->socks)) != NULL)
		evcurl_sock_free(sk);
	event_free(ec->timer);
	free(ec);
}

size_t
evcurl_pending(const struct evcurl *ec)
{
	return ec->nxfers;
}

void
evcurl_cancel(struct evcurl_xfer *x)
{
	if (x != NULL)
		evcurl_xfer_free(x);
}

/* Transfers: finishing, retrying, calling back. */

/* Make done fire from the loop on the next pass. */
static void
evcurl_xfer_final(struct evcurl_xfer *x, int rc)
{
	static const struct timeval now = { 0, 0 };

	x->state = EVCURL_DONE;
	x->rc = rc;
	evtimer_add(x->ev, &now);
}

/* Sign the next attempt and hand it to curl. */
static void
evcurl_xfer_start(struct evcurl_xfer *x)
{
	CURLMcode mc;

	if (http_call_rearm(x->call, x->creds, &x->err) == -1) {
		evcurl_xfer_final(x, -1);
		return;
	}
	if ((mc = curl_multi_add_handle(x->ec->multi,
	    http_call_easy(x->call))) != CURLM_OK) {
		err_set(&x->err, "curl_multi_add_handle: %s",
		    curl_multi_strerror(mc));
		evcurl_xfer_final(x, -1);
		return;
	}
	x->state = EVCURL_ACTIVE;
}

/*
 * Copy what done needs, free the transfer, then call: the callback may
 * free the evcurl itself, so nothing of ours is touched after it.
 */
static void
evcurl_xfer_fire(struct evcurl_xfer *x)
{
	void (*done)(struct http_call *, int, const char *, void *) = x->done;
	struct http_call *call = x->call;
	void *arg = x->arg;
	struct errbuf err;
	int rc = x->rc;

	memcpy(&err, &x->err, sizeof(err));
	evcurl_xfer_free(x);
	done(call, rc, rc == 0 ? NULL : err.msg, arg);
	explicit_bzero(&err, sizeof(err));
}

static void
evcurl_xfer_event(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl_xfer *x = arg;

	(void)fd;
	(void)what;
	if (x->state == EVCURL_WAIT)
		evcurl_xfer_start(x);
	/* A failed rearm is final at once: we are in the loop already. */
	if (x->state == EVCURL_DONE)
		evcurl_xfer_fire(x);
}

struct evcurl_xfer *
evcurl_run(struct evcurl *ec, struct http_call *call,
    const struct aws_creds *creds,
    void (*done)(struct http_call *, int, const char *, void *), void *arg)
{
	struct evcurl_xfer *x;

	x = xcalloc(1, sizeof(*x));
	x->ec = ec;
	x->call = call;
	x->creds = creds;
	x->done = done;
	x->arg = arg;
	if ((x->ev = evtimer_new(ec->base, evcurl_xfer_event, x)) == NULL)
		fatalx("evcurl: cannot create a timer");
	TAILQ_INSERT_TAIL(&ec->xfers, x, entry);
	ec->nxfers++;
	evcurl_xfer_start(x);
	return x;
}

static struct evcurl_xfer *
evcurl_find(struct evcurl *ec, CURL *easy)
{
	struct evcurl_xfer *x;

	TAILQ_FOREACH(x, &ec->xfers, entry)
		if (x->state == EVCURL_ACTIVE && http_call_easy(x->call) == easy)
			return x;
	return NULL;
}

/* An attempt ended: retry after the delay http.c chose, or finish. */
static void
evcurl_attempt_done(struct evcurl_xfer *x, CURLcode cc)
{
	struct timeval tv;
	long ms;

	curl_multi_remove_handle(x->ec->multi, http_call_easy(x->call));
	if (http_call_finish(x->call, cc, &ms) == HTTP_VERDICT_RETRY) {
		x->state = EVCURL_WAIT;
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		evtimer_add(x->ev, &tv);
		return;
	}
	evcurl_xfer_final(x, http_call_error(x->call, &x->err));
}

static void
evcurl_check_done(struct evcurl *ec)
{
	struct evcurl_xfer *x;
	CURLMsg *msg;
	CURLcode cc;
	CURL *easy;
	int left;

	while ((msg = curl_multi_info_read(ec->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg dies with curl_multi_remove_handle: copy it first. */
		easy = msg->easy_handle;
		cc = msg->data.result;
		if ((x = evcurl_find(ec, easy)) == NULL)
			fatalx("evcurl: a finished transfer we do not know");
		evcurl_attempt_done(x, cc);
	}
}
