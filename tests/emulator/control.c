/*
 * The emulator's own endpoints under /_emulator/, unsigned and answered
 * only to loopback peers: stats for tests to assert on, and fault rules
 * added (or cleared) while running.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "emulator.h"
#include "errbuf.h"

#define CONTROL_PREFIX	"/_emulator/"

static void
control_reply(struct evhttp_request *http, int status, json_t *obj)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (s != NULL)
		evbuffer_add(b, s, strlen(s));
	free(s);
	evhttp_add_header(evhttp_request_get_output_headers(http),
	    "Content-Type", "application/json");
	evhttp_send_reply(http, status, status == 200 ? "OK" : "Bad Request",
	    b);
	evbuffer_free(b);
}

static void
control_error(struct evhttp_request *http, int status, const char *msg)
{
	control_reply(http, status, json_pack("{s:s}", "error", msg));
}

static void
control_faults_add(struct emu_server *srv, struct evhttp_request *http)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(http);
	size_t len = evbuffer_get_length(in), before = 0, after = 0;
	struct emu_fault *f;
	json_error_t jerr;
	struct errbuf err;
	json_t *body;

	body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &jerr);
	if (body == NULL) {
		control_error(http, 400, "body: expected a JSON list of fault "
		    "rules");
		return;
	}
	if (json_is_object(body))	/* one rule without the list */
		body = json_pack("[o]", body);
	TAILQ_FOREACH(f, &srv->fx->faults, entry)
		before++;
	if (fault_parse_list(body, &srv->fx->faults, "body", &err) == -1) {
		json_decref(body);
		control_error(http, 400, err.msg);
		return;
	}
	json_decref(body);
	TAILQ_FOREACH(f, &srv->fx->faults, entry)
		after++;
	control_reply(http, 200, json_pack("{s:I, s:I}", "added",
	    (json_int_t)(after - before), "rules", (json_int_t)after));
}

static int
control_peer_is_loopback(struct evhttp_request *http)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(http);
	char *addr = NULL;
	ev_uint16_t port;

	if (evcon == NULL)
		return 0;
	evhttp_connection_get_peer(evcon, &addr, &port);
	return addr != NULL && (strncmp(addr, "127.", 4) == 0 ||
	    strcmp(addr, "::1") == 0);
}

int
control_handle(struct emu_server *srv, struct evhttp_request *http)
{
	const char *uri = evhttp_request_get_uri(http), *what;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(http);

	if (strncmp(uri, CONTROL_PREFIX, strlen(CONTROL_PREFIX)) != 0)
		return 0;
	what = uri + strlen(CONTROL_PREFIX);
	if (!control_peer_is_loopback(http))
		control_error(http, 403, "control endpoints answer loopback "
		    "peers only");
	else if (strcmp(what, "stats") == 0 && cmd == EVHTTP_REQ_GET)
		control_reply(http, 200, stats_json(srv->stats));
	else if (strcmp(what, "faults") == 0 && cmd == EVHTTP_REQ_POST)
		control_faults_add(srv, http);
	else if (strcmp(what, "faults") == 0 && cmd == EVHTTP_REQ_DELETE) {
		fault_free_all(&srv->fx->faults);
		control_reply(http, 200, json_pack("{s:i}", "rules", 0));
	} else
		control_error(http, 404, "expected GET /_emulator/stats, POST "
		    "or DELETE /_emulator/faults");
	return 1;
}
