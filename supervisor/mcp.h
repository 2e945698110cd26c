/*
 * The MCP server's wire: JSON-RPC 2.0, one message per line, on stdin and
 * stdout driven by libevent. It owns framing, ids, error objects, version
 * negotiation, the lifecycle (initialize, initialized, EOF), ping,
 * notifications/cancelled and notifications/progress, and hands tools/list
 * and tools/call to tools.c. Requests are served concurrently: a tool call
 * answers whenever its work is done, in any order.
 */
#ifndef MCP_H
#define MCP_H

#include <jansson.h>

struct event_base;
struct mcp;
struct mcp_request;
struct tools;

/*
 * Longest line read. A longer one is answered with MCP_INVALID_REQUEST (id
 * null), skipped up to its newline, and the server goes on.
 */
#define MCP_MAX_LINE		(4 * 1024 * 1024)
/* Requests in progress at once; more are refused until some finish. */
#define MCP_MAX_INFLIGHT	64
/*
 * Replies not yet taken by the client: above this the server stops reading
 * requests until the client catches up.
 */
#define MCP_MAX_PENDING_OUTPUT	(64 * 1024 * 1024)
/* After EOF on stdin, how long cancelled work may take to be recorded. */
#define MCP_SHUTDOWN_GRACE_S	10

/* What initialize answers unless the client asks for an older revision. */
#define MCP_PROTOCOL_LATEST	"2025-11-25"

/* JSON-RPC 2.0 error codes. */
#define MCP_PARSE_ERROR		-32700
#define MCP_INVALID_REQUEST	-32600
#define MCP_METHOD_NOT_FOUND	-32601
#define MCP_INVALID_PARAMS	-32602
#define MCP_INTERNAL_ERROR	-32603
/* Implementation-defined (-32000..-32099): too many requests in progress. */
#define MCP_SERVER_BUSY		-32000

/*
 * Serve on in_fd/out_fd (made non-blocking; their flags are restored by
 * mcp_free). closed is called once, from the event loop, when stdin has
 * reached EOF (or failed) and every request has ended or the grace period
 * has passed: the caller then leaves the loop.
 */
struct mcp *mcp_new(struct event_base *, int in_fd, int out_fd,
	    struct tools *, void (*closed)(void *), void *arg);
/* Abandons requests still in progress (their abandon hooks run). */
void	mcp_free(struct mcp *);
/* Act as if stdin ended: cancel every request, then close (SIGTERM). */
void	mcp_shutdown(struct mcp *);

/* The revision agreed at initialize ("" before it). */
const char *mcp_protocol(const struct mcp *);
/* Nonzero when the agreed revision is at least this one (YYYY-MM-DD). */
int	mcp_protocol_at_least(const struct mcp *, const char *revision);

/*
 * Answer a request: result (stolen) or an error. Exactly one of them per
 * request; the request is freed. A request the client cancelled, or one
 * in progress when stdin ended, is freed without an answer (as the
 * specification asks).
 */
void	mcp_reply(struct mcp_request *, json_t *result);
void	mcp_reply_error(struct mcp_request *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * notifications/progress for this request, when its _meta carried a
 * progressToken; a no-op otherwise, or when progress does not increase
 * (the specification requires it to).
 */
void	mcp_progress(struct mcp_request *, double progress, double total,
	    const char *message);

/*
 * Work behind a request. cancel: the client cancelled it (or stdin ended):
 * stop, then answer as usual (the answer is dropped). abandon: the server
 * is going away now: free everything synchronously and never answer.
 */
void	mcp_request_hooks(struct mcp_request *, void (*cancel)(void *),
	    void (*abandon)(void *), void *arg);
int	mcp_request_cancelled(const struct mcp_request *);
struct mcp *mcp_request_server(const struct mcp_request *);

#endif
