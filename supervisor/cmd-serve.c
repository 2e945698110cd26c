/*
 * tagwarden serve (and tagwarden with no command): the MCP server on stdin
 * and stdout. Setup problems (configuration, the worker, the history
 * database) stop it before it reads anything, with one line on stderr and
 * exit status 2; AWS credentials are resolved by the first tool call that
 * scans, so a client can still list the tools and read the policy and the
 * history without them. EOF on stdin (or SIGTERM, SIGINT) cancels running
 * scans, records their accounts as cancelled, and exits 0.
 */
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "commands.h"
#include "config.h"
#include "errbuf.h"
#include "log.h"
#include "mcp.h"
#include "scan.h"
#include "store.h"
#include "tools.h"

#define EXIT_USAGE	2

static const char serve_usage[] =
    "usage: tagwarden [serve]\n"
    "  Serves the Model Context Protocol (JSON-RPC 2.0, one message per "
    "line) on\n"
    "  stdin and stdout; logs go to stderr. Configure it with the "
    "environment\n"
    "  (tagwarden help-config); docs/mcp.md shows client setups.\n";

struct serve {
	struct event_base	*base;
	struct mcp		*mcp;
	struct event		*sigterm, *sigint;
};

static void
serve_closed(void *arg)
{
	struct serve *sv = arg;

	event_base_loopexit(sv->base, NULL);
}

static void
serve_signal(evutil_socket_t sig, short what, void *arg)
{
	struct serve *sv = arg;

	(void)what;
	log_info("mcp: %s: shutting down", strsignal(sig));
	mcp_shutdown(sv->mcp);
}

/*
 * epoll refuses regular files and /dev/null: when stdin or stdout is one
 * (a request file, a test), the loop uses poll, which takes anything.
 */
static struct event_base *
serve_base(void)
{
	struct event_config *ec;
	struct event_base *base;
	struct stat st;
	int fd, plain = 0;

	for (fd = 0; fd <= 1; fd++)
		if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) ||
		    (S_ISCHR(st.st_mode) && !isatty(fd))))
			plain = 1;
	if ((ec = event_config_new()) == NULL)
		fatalx("event_config_new failed");
	if (plain)
		event_config_avoid_method(ec, "epoll");
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (base == NULL)
		fatalx("event_base_new failed");
	return base;
}

static void
serve_loop(struct serve *sv, const struct config *cfg, struct tools *tools)
{
	sv->mcp = mcp_new(sv->base, STDIN_FILENO, STDOUT_FILENO, tools,
	    serve_closed, sv);
	sv->sigterm = evsignal_new(sv->base, SIGTERM, serve_signal, sv);
	sv->sigint = evsignal_new(sv->base, SIGINT, serve_signal, sv);
	if (sv->sigterm == NULL || sv->sigint == NULL ||
	    evsignal_add(sv->sigterm, NULL) == -1 ||
	    evsignal_add(sv->sigint, NULL) == -1)
		fatalx("cannot set up signal events");
	log_info("mcp: serving on stdin/stdout; history %s, policy %s",
	    cfg->history_db_path, cfg->policy_path);
	if (isatty(STDIN_FILENO))
		log_info("mcp: stdin is a terminal: this is the MCP server, "
		    "for MCP clients (docs/mcp.md); tagwarden --help lists the "
		    "commands");
	event_base_dispatch(sv->base);
	mcp_free(sv->mcp);	/* abandons what the grace period left */
	event_free(sv->sigterm);
	event_free(sv->sigint);
}

static int
serve_run(const struct config *cfg)
{
	struct serve sv;
	struct store *store;
	struct tools *tools;
	struct errbuf err;
	char *worker;

	if ((worker = scan_worker_path(&err)) == NULL) {
		fprintf(stderr, "tagwarden serve: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if ((store = store_open(cfg->history_db_path, &err)) == NULL) {
		fprintf(stderr, "tagwarden serve: HISTORY_DB_PATH=%s: %s\n",
		    cfg->history_db_path, err.msg);
		free(worker);
		return EXIT_USAGE;
	}
	memset(&sv, 0, sizeof(sv));
	sv.base = serve_base();
	tools = tools_new(sv.base, cfg, store, worker);
	free(worker);
	serve_loop(&sv, cfg, tools);
	tools_free(tools);	/* kills and reaps any worker left */
	store_close(store);
	event_base_free(sv.base);
	log_info("mcp: stopped");
	return 0;
}

int
cmd_serve(int argc, char **argv)
{
	struct config cfg;
	int nerrors = 0, rv;

	if (argc > 0) {
		if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
			printf("%s", serve_usage);
			return 0;
		}
		fprintf(stderr, "tagwarden serve: unexpected argument \"%s\"; "
		    "run tagwarden serve --help\n", argv[0]);
		return EXIT_USAGE;
	}
	if (config_load(&cfg, config_getenv, config_report_stderr, &nerrors) == -1) {
		fprintf(stderr, "configuration invalid: %d error%s; tagwarden "
		    "help-config lists every variable\n", nerrors,
		    nerrors == 1 ? "" : "s");
		config_free(&cfg);
		return EXIT_USAGE;
	}
	/* A client gone while we write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	rv = serve_run(&cfg);
	curl_global_cleanup();
	config_free(&cfg);
	return rv;
}
