/*
 * ce-probe: test helper for tests/integration/ce-emulator.py. Runs one
 * Cost Explorer query through supervisor/ce.c on a libevent loop, with the
 * base credentials of the standard chain (the environment), and prints the
 * answer as one JSON line:
 *
 *	{"rc": 0, "error": null, "aws_code": "", "requests": 3,
 *	 "lines": [["111122223333", "i-0abc", 10500000000], ...]}
 *
 *	ce-probe [-c MS] resources|tag:KEY START END METRIC ACCOUNT[,...]
 *
 * -c MS cancels the fetch after MS milliseconds and prints
 * {"cancelled": true} instead (done must then never be called). Exit 1
 * when ce.c broke its contract (done inside ce_fetch_start, twice, or
 * after a cancel), 2 on bad usage, else 0 whatever the query's verdict.
 */
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "ce.h"
#include "creds.h"
#include "errbuf.h"
#include "evcurl.h"
#include "http.h"
#include "log.h"
#include "strnum.h"

struct probe {
	struct event_base	*base;
	struct ce_fetch		*fetch;
	int			 inside;	/* in ce_fetch_start */
	int			 answers;
	int			 cancelled;
	int			 broken;
};

static json_t *
probe_lines(const struct ce_lines *lines)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < lines->count; i++)
		json_array_append_new(a, json_pack("[s, s, I]",
		    lines->v[i].account_id, lines->v[i].key,
		    (json_int_t)lines->v[i].nanos));
	return a;
}

static void
probe_done(const struct ce_answer *a, void *arg)
{
	struct probe *p = arg;
	json_t *out;

	if (p->inside || p->answers++ > 0 || p->cancelled) {
		fprintf(stderr, "ce-probe: done called %s\n", p->inside ?
		    "inside ce_fetch_start" : p->cancelled ? "after cancel" :
		    "twice");
		p->broken = 1;
	}
	p->fetch = NULL;
	out = json_pack("{s:i, s:s?, s:s, s:I, s:o}", "rc", a->rc, "error",
	    a->error, "aws_code", a->aws_code, "requests",
	    (json_int_t)a->requests, "lines", probe_lines(&a->lines));
	if (out == NULL)
		fatalx("ce-probe: cannot print the answer");
	json_dumpf(out, stdout, JSON_COMPACT);
	printf("\n");
	json_decref(out);
	event_base_loopbreak(p->base);
}

static void
probe_cancel(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	if (p->fetch == NULL)
		return;
	ce_fetch_cancel(p->fetch);
	p->fetch = NULL;
	p->cancelled = 1;
	printf("{\"cancelled\": true}\n");
	/* Let the loop run on a little: a stray callback would show. */
	event_base_loopexit(p->base, &(struct timeval){ 0, 300000 });
}

static int
probe_query(struct ce_query *q, char **argv, char **accounts_copy)
{
	static const char *ids[64];
	char *s, *id;
	size_t n = 0;

	memset(q, 0, sizeof(*q));
	if (strncmp(argv[0], "tag:", 4) == 0)
		q->tag_key = argv[0] + 4;
	else if (strcmp(argv[0], "resources") != 0)
		return -1;
	if (snprintf(q->start, sizeof(q->start), "%s", argv[1]) !=
	    CE_DATE_SIZE - 1 || snprintf(q->end, sizeof(q->end), "%s",
	    argv[2]) != CE_DATE_SIZE - 1)
		return -1;
	q->metric = argv[3];
	s = *accounts_copy = strdup(argv[4]);
	while (s != NULL && (id = strsep(&s, ",")) != NULL && n < 64)
		ids[n++] = id;
	q->accounts = ids;
	q->naccounts = n;
	return 0;
}

static void
probe_log_level(void)
{
	enum log_level level;
	const char *s = getenv("LOG_LEVEL");

	if (s != NULL && log_level_parse(s, &level) == 0)
		log_set_level(level);
}

static void
probe_run(struct probe *p, struct evcurl *ec, struct http_client *http,
    const struct aws_creds *creds, const struct ce_query *q, long cancel_ms)
{
	struct timeval tv;
	struct event *ev = NULL;

	p->inside = 1;
	p->fetch = ce_fetch_start(ec, http, creds, q, probe_done, p);
	p->inside = 0;
	if (cancel_ms >= 0) {
		ev = evtimer_new(p->base, probe_cancel, p);
		tv.tv_sec = cancel_ms / 1000;
		tv.tv_usec = (cancel_ms % 1000) * 1000;
		evtimer_add(ev, &tv);
	}
	event_base_dispatch(p->base);
	if (ev != NULL)
		event_free(ev);
}

int
main(int argc, char **argv)
{
	struct http_client *http;
	struct aws_creds *creds;
	struct ce_query q;
	struct errbuf err;
	struct evcurl *ec;
	struct probe p;
	const char *errstr;
	char *accounts = NULL;
	long cancel_ms = -1;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		cancel_ms = (long)strnum(argv[2], 0, 600000, &errstr);
		if (errstr != NULL)
			fatalx("-c %s: %s", argv[2], errstr);
		argc -= 2;
		argv += 2;
	}
	if (argc != 6 || probe_query(&q, argv + 1, &accounts) == -1) {
		fprintf(stderr, "usage: ce-probe [-c MS] resources|tag:KEY "
		    "START END METRIC ACCOUNT[,...]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_init("ce-probe", LOG_LEVEL_INFO);
	probe_log_level();
	http = http_client_new(NULL);
	if (creds_resolve_chain(http, &creds, &err) == -1)
		fatalx("%s", err.msg);
	memset(&p, 0, sizeof(p));
	p.base = event_base_new();
	ec = evcurl_new(p.base);
	probe_run(&p, ec, http, creds, &q, cancel_ms);
	if (p.answers == 0 && !p.cancelled) {
		fprintf(stderr, "ce-probe: the loop ended without an answer\n");
		p.broken = 1;
	}
	evcurl_free(ec);
	event_base_free(p.base);
	creds_free(creds);
	http_client_free(http);
	free(accounts);
	curl_global_cleanup();
	libevent_global_shutdown();
	fflush(stdout);
	return p.broken;
}
