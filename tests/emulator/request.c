/*
 * The per-request context: a copy of what arrived (method, raw path and
 * query as signed, headers, body), the parsed parameters, and the reply
 * being built. Freed once the reply is sent or the client went away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "emulator.h"
#include "errbuf.h"
#include "strnum.h"
#include "xmalloc.h"

static const struct {
	enum evhttp_cmd_type	 cmd;
	const char		*name;
} request_methods[] = {
	{ EVHTTP_REQ_GET, "GET" },
	{ EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_PUT, "PUT" },
	{ EVHTTP_REQ_DELETE, "DELETE" },
	{ EVHTTP_REQ_HEAD, "HEAD" },
	{ EVHTTP_REQ_PATCH, "PATCH" },
	{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
};

static const char *
request_method_name(enum evhttp_cmd_type cmd)
{
	size_t i;

	for (i = 0; i < sizeof(request_methods) / sizeof(request_methods[0]);
	    i++)
		if (request_methods[i].cmd == cmd)
			return request_methods[i].name;
	return "UNKNOWN";
}

static void
request_copy_body(struct emu_req *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req->http);

	req->body_len = evbuffer_get_length(in);
	req->body = xmalloc(req->body_len + 1);
	evbuffer_copyout(in, req->body, req->body_len);
	req->body[req->body_len] = '\0';
}

struct emu_req *
request_new(struct emu_server *srv, struct evhttp_request *http)
{
	const char *uri = evhttp_request_get_uri(http), *q;
	struct emu_req *req;

	req = xcalloc(1, sizeof(*req));
	req->srv = srv;
	req->http = http;
	req->evcon = evhttp_request_get_connection(http);
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	ids_request_id(srv, req->reqid);
	req->method = request_method_name(evhttp_request_get_command(http));
	if ((q = strchr(uri, '?')) != NULL) {
		req->path = xstrndup(uri, (size_t)(q - uri));
		req->query = xstrdup(q + 1);
	} else
		req->path = xstrdup(uri);
	request_copy_body(req);
	TAILQ_INIT(&req->params);
	req->out = evbuffer_new();
	req->status = 500;
	return req;
}

void
request_free(struct emu_req *req)
{
	if (req == NULL)
		return;
	if (req->timer != NULL)
		event_free(req->timer);
	if (req->watch != NULL)
		event_free(req->watch);
	evhttp_clear_headers(&req->params);
	json_decref(req->json);
	if (req->out != NULL)
		evbuffer_free(req->out);
	free(req->path);
	free(req->query);
	free(req->body);
	free(req);
}

const char *
request_header(struct emu_req *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req->http),
	    name);
}

const char *
request_param(struct emu_req *req, const char *name)
{
	return evhttp_find_header(&req->params, name);
}

const char *
request_param_n(struct emu_req *req, const char *prefix, int n)
{
	char name[256];

	snprintf(name, sizeof(name), "%s.%d", prefix, n);
	return evhttp_find_header(&req->params, name);
}

int
request_param_int(struct emu_req *req, const char *name, long long min,
    long long max, long long def, long long *out, struct errbuf *err)
{
	const char *s = request_param(req, name), *errstr;

	*out = def;
	if (s == NULL)
		return 0;
	*out = strnum(s, min, max, &errstr);
	if (errstr != NULL)
		return err_set(err, "%s=%s is %s; expected %lld..%lld", name, s,
		    errstr, min, max);
	return 0;
}

int
request_param_bool(struct emu_req *req, const char *name)
{
	const char *s = request_param(req, name);

	return s != NULL && strcmp(s, "true") == 0;
}

/*
 * S3 names sub-resources by a bare key ("?tagging", "?location"), which
 * evhttp_parse_query_str rejects: such keys get an empty value first.
 */
static int
request_parse_query(const char *query, struct evkeyvalq *params)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	int rc;

	for (;;) {
		n = strcspn(query, "&");
		evbuffer_add(b, query, n);
		if (n > 0 && memchr(query, '=', n) == NULL)
			evbuffer_add(b, "=", 1);
		if (query[n] == '\0')
			break;
		evbuffer_add(b, "&", 1);
		query += n + 1;
	}
	evbuffer_add(b, "", 1);
	rc = evhttp_parse_query_str((char *)evbuffer_pullup(b, -1), params);
	evbuffer_free(b);
	return rc;
}

/*
 * Query parameters come from the URL and, for the Query protocol's POST,
 * from a form body. -1 when either is not valid urlencoding.
 */
int
request_parse_params(struct emu_req *req)
{
	const char *ctype = request_header(req, "Content-Type");

	if (req->query != NULL && req->query[0] != '\0' &&
	    request_parse_query(req->query, &req->params) == -1)
		return -1;
	if (ctype != NULL && strncmp(ctype, "application/x-www-form-urlencoded",
	    33) == 0 && req->body_len > 0 &&
	    evhttp_parse_query_str(req->body, &req->params) == -1)
		return -1;
	return 0;
}
