/*
 * One request's path through the emulator: control endpoints, service and
 * operation detection, SigV4, stats, faults (latency defers on an evtimer,
 * hang keeps the request open), the handler, then the reply.
 *
 * libevent stops reading a connection while its request awaits the reply,
 * so it never notices a client that leaves a delayed or hung request. A
 * parked request therefore watches the socket itself (MSG_PEEK); on EOF it
 * frees the connection, whose close callback releases the request, so no
 * callback ever touches a request libevent has freed.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "emulator.h"
#include "log.h"

static const struct {
	int		 status;
	const char	*reason;
} dispatch_reasons[] = {
	{ 200, "OK" }, { 301, "Moved Permanently" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 409, "Conflict" },
	{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
};

static const char *
dispatch_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(dispatch_reasons) / sizeof(dispatch_reasons[0]);
	    i++)
		if (dispatch_reasons[i].status == status)
			return dispatch_reasons[i].reason;
	return "Error";
}

static int
dispatch_is_sts(const struct emu_req *req)
{
	return req->svc != NULL && strcmp(req->svc->name, "sts") == 0;
}

static void
dispatch_release(struct emu_req *req)
{
	if (req->counted_inflight)
		stats_inflight(req->srv->stats, req->account, -1,
		    dispatch_is_sts(req));
	request_free(req);
}

static void
dispatch_log(const struct emu_req *req)
{
	struct timespec now;
	double ms;

	if (!req->srv->verbose)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - req->started.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - req->started.tv_nsec) / 1e6;
	/* started= (CLOCK_MONOTONIC, s) lets a run's timeline be rebuilt. */
	log_info("%s %s %s %s:%s account=%s region=%s %d %s %.1fms "
	    "started=%.3f",
	    req->reqid, req->method, req->path,
	    req->svc != NULL ? req->svc->name : "-",
	    req->op != NULL ? req->op->name : "-",
	    req->account != NULL ? req->account->id : "-",
	    req->region[0] != '\0' ? req->region : "-", req->status,
	    req->errcode[0] != '\0' ? req->errcode : "OK", ms,
	    (double)req->started.tv_sec + (double)req->started.tv_nsec / 1e9);
}

static void
dispatch_headers(struct emu_req *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req->http);
	char len[32];

	evhttp_add_header(h, "Content-Type", req->content_type != NULL ?
	    req->content_type : "text/plain");
	if (req->svc != NULL && req->svc->proto == EMU_PROTO_REST_XML) {
		evhttp_add_header(h, "x-amz-request-id", req->reqid);
		evhttp_add_header(h, "x-amz-id-2", req->reqid);
	} else
		evhttp_add_header(h, "x-amzn-RequestId", req->reqid);
	if (req->svc != NULL && req->svc->proto == EMU_PROTO_REST_JSON &&
	    req->errcode[0] != '\0')
		evhttp_add_header(h, "x-amzn-ErrorType", req->errcode);
	if (req->declared_len > 0) {
		/* truncated_body: promise everything, send part, hang up. */
		snprintf(len, sizeof(len), "%zu", req->declared_len);
		evhttp_add_header(h, "Content-Length", len);
		evhttp_add_header(h, "Connection", "close");
		evbuffer_drain(req->out, evbuffer_get_length(req->out) -
		    req->truncate_to);
	}
}

void
dispatch_finish(struct emu_req *req)
{
	if (req->errcode[0] != '\0')
		stats_error(req->srv->stats, req->errcode);
	dispatch_headers(req);
	evhttp_send_reply(req->http, req->status, dispatch_reason(req->status),
	    req->out);
	dispatch_log(req);
	dispatch_release(req);
}

static void
dispatch_closed(struct evhttp_connection *evcon, void *arg)
{
	struct emu_req *req = arg;

	(void)evcon;
	TAILQ_REMOVE(&req->srv->deferred, req, entry);
	dispatch_release(req);
}

static void
dispatch_watch(evutil_socket_t fd, short what, void *arg)
{
	struct emu_req *req = arg;
	char c;
	ssize_t n;

	(void)what;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		/* Frees the request too; the close callback releases ours. */
		evhttp_connection_free(req->evcon);
		return;
	}
	if (n == -1)
		event_add(req->watch, NULL);
	/* Bytes of a next request: the client is still there; stop looking. */
}

/* Park the request: libevent keeps the connection, we keep the context. */
static void
dispatch_park(struct emu_req *req)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(req->evcon);

	TAILQ_INSERT_TAIL(&req->srv->deferred, req, entry);
	evhttp_connection_set_closecb(req->evcon, dispatch_closed, req);
	req->watch = event_new(req->srv->base, bufferevent_getfd(bev), EV_READ,
	    dispatch_watch, req);
	event_add(req->watch, NULL);
}

static void
dispatch_unpark(struct emu_req *req)
{
	TAILQ_REMOVE(&req->srv->deferred, req, entry);
	evhttp_connection_set_closecb(req->evcon, NULL, NULL);
	event_free(req->watch);
	req->watch = NULL;
}

static void
dispatch_serve(struct emu_req *req)
{
	switch (fault_apply(req)) {
	case FAULT_HUNG:
		dispatch_park(req);
		return;
	case FAULT_REPLIED:
		dispatch_finish(req);
		return;
	}
	req->op->handler(req);
	fault_mangle(req);
	dispatch_finish(req);
}

static void
dispatch_timer(evutil_socket_t fd, short what, void *arg)
{
	struct emu_req *req = arg;

	(void)fd;
	(void)what;
	dispatch_unpark(req);
	dispatch_serve(req);
}

static void
dispatch_defer(struct emu_req *req, int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	req->timer = evtimer_new(req->srv->base, dispatch_timer, req);
	evtimer_add(req->timer, &tv);
	dispatch_park(req);
}

void
dispatch_cb(struct evhttp_request *http, void *arg)
{
	struct emu_server *srv = arg;
	struct emu_req *req;
	int ms;

	if (control_handle(srv, http))
		return;
	req = request_new(srv, http);
	if (request_parse_params(req) == -1) {
		reply_error(req, 400, "MalformedQueryString", "The query string "
		    "or form body is not valid URL encoding.");
		dispatch_finish(req);
		return;
	}
	if (services_detect(req) == -1) {
		dispatch_finish(req);
		return;
	}
	if (services_operation(req, 0) == 0)
		stats_call(srv->stats, req->svc->name, req->op->name);
	if (req->op != NULL && (req->op->flags & EMU_OP_UNSIGNED))
		snprintf(req->region, sizeof(req->region), "us-east-1");
	else if (auth_verify(req) == -1) {
		dispatch_finish(req);
		return;
	}
	if (services_operation(req, 1) == -1) {
		dispatch_finish(req);
		return;
	}
	if (req->account != NULL)
		stats_account(srv->stats, req->account->id, req->svc->name,
		    req->op->name);
	stats_inflight(srv->stats, req->account, 1, dispatch_is_sts(req));
	req->counted_inflight = 1;
	if ((ms = fault_latency(req)) > 0)
		dispatch_defer(req, ms);
	else
		dispatch_serve(req);
}

/* Shutdown: forget parked requests before evhttp_free closes them. */
void
dispatch_free_deferred(struct emu_server *srv)
{
	struct emu_req *req;

	while ((req = TAILQ_FIRST(&srv->deferred)) != NULL) {
		dispatch_unpark(req);
		dispatch_release(req);
	}
}
