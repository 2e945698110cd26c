/*
 * aws-emulator: a fixture-driven AWS on loopback for tests, the demo and
 * the benchmarks. Parses options, loads the fixture, binds a loopback
 * port, prints "listening on http://HOST:PORT" and serves until SIGTERM or
 * SIGINT, then frees everything so leak checkers see a clean exit.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/rand.h>

#include "emulator.h"
#include "errbuf.h"
#include "log.h"
#include "strnum.h"

#define MAX_BODY	(64 * 1024 * 1024)

struct options {
	const char	*fixture;
	char		 host[64];
	int		 port;
	int		 verbose;
	long		 lifetime;
};

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "aws-emulator: %s\n", why);
	fprintf(stderr, "usage: aws-emulator --fixture FILE --listen "
	    "127.0.0.1:PORT [--verbose] [--credential-lifetime SECONDS]\n");
	exit(2);
}

/* HOST:PORT with a loopback IPv4 host; PORT 0 asks for a free port. */
static void
parse_listen(const char *arg, struct options *o)
{
	const char *colon = strrchr(arg, ':'), *errstr;
	struct in_addr in;

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(o->host))
		usage("--listen: expected 127.0.0.1:PORT");
	snprintf(o->host, sizeof(o->host), "%.*s", (int)(colon - arg), arg);
	if (inet_pton(AF_INET, o->host, &in) != 1 ||
	    (ntohl(in.s_addr) >> 24) != 127)
		usage("--listen: the host must be a loopback address such as "
		    "127.0.0.1");
	o->port = (int)strnum(colon + 1, 0, 65535, &errstr);
	if (errstr != NULL)
		usage("--listen: the port must be 0..65535");
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "fixture", required_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "credential-lifetime", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char *errstr;
	int ch;

	memset(o, 0, sizeof(*o));
	o->port = -1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->fixture = optarg;
			break;
		case 'l':
			parse_listen(optarg, o);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'c':
			o->lifetime = (long)strnum(optarg, 1, 43200, &errstr);
			if (errstr != NULL)
				usage("--credential-lifetime: expected 1..43200 "
				    "seconds");
			break;
		default:
			usage(NULL);
		}
	}
	if (optind != argc || o->fixture == NULL || o->port == -1)
		usage("--fixture and --listen are required");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

static int
bound_port(struct evhttp_bound_socket *bs)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sin, &len) == -1)
		fatal("getsockname");
	return ntohs(sin.sin_port);
}

static void
serve(struct emu_server *srv, const struct options *o)
{
	struct evhttp_bound_socket *bs;
	struct event *sigterm, *sigint;
	int one = 1;

	srv->http = evhttp_new(srv->base);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(srv->http, MAX_BODY);
	evhttp_set_gencb(srv->http, dispatch_cb, srv);
	if ((bs = evhttp_bind_socket_with_handle(srv->http, o->host,
	    (ev_uint16_t)o->port)) == NULL)
		fatal("cannot listen on %s:%d", o->host, o->port);
	/*
	 * Accepted sockets inherit TCP_NODELAY on Linux. Without it a reply
	 * larger than libevent's 16 KiB single write waits for the client's
	 * delayed ACK: 40 ms per page instead of well under one.
	 */
	if (setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one)) == -1)
		fatal("setsockopt TCP_NODELAY");
	sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv->base);
	sigint = evsignal_new(srv->base, SIGINT, on_signal, srv->base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	printf("listening on http://%s:%d\n", o->host, bound_port(bs));
	fflush(stdout);
	event_base_dispatch(srv->base);
	dispatch_free_deferred(srv);
	evhttp_free(srv->http);
	event_free(sigterm);
	event_free(sigint);
}

int
main(int argc, char **argv)
{
	struct emu_server srv;
	struct options o;
	struct errbuf err;

	parse_options(argc, argv, &o);
	log_init("aws-emulator", o.verbose ? LOG_LEVEL_INFO :
	    LOG_LEVEL_WARNING);
	memset(&srv, 0, sizeof(srv));
	TAILQ_INIT(&srv.deferred);
	if ((srv.fx = fixture_load(o.fixture, &err)) == NULL) {
		fprintf(stderr, "aws-emulator: %s\n", err.msg);
		return 2;
	}
	srv.verbose = o.verbose;
	srv.credential_lifetime = o.lifetime;
	if (RAND_bytes((unsigned char *)&srv.rng, sizeof(srv.rng)) != 1)
		fatalx("no randomness for request ids");
	signal(SIGPIPE, SIG_IGN);
	if ((srv.base = event_base_new()) == NULL || (srv.stats =
	    stats_new()) == NULL)
		fatalx("cannot set up the event loop");
	serve(&srv, &o);
	session_free_all(&srv);
	stats_free(srv.stats);
	fixture_free(srv.fx);
	event_base_free(srv.base);
	libevent_global_shutdown();
	return 0;
}
