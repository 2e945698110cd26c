/*
 * sts-probe: test helper for tests/integration/sts-emulator.py. Builds an
 * event loop, a config from the environment and the base credentials from
 * the standard chain, then runs supervisor/sts.c through the steps named on
 * the command line, printing one line per answer. A 10 ms evtimer ticks
 * throughout, so a step can show the loop was never blocked.
 *
 *	identity		GetCallerIdentity
 *	get:ACCOUNT		credentials for one account
 *	force:ACCOUNT		the same, skipping the cache
 *	all:ACCOUNT,...		every request at once, then wait for all
 *	sleep:SECONDS		wait (outside the loop)
 *	break-endpoint		point STS at a closed loopback port
 *	calls			print sts_assume_role_calls()
 */
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "config.h"
#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "strnum.h"
#include "sts.h"

struct probe {
	struct event_base	*base;
	struct sts		*sts;
	const struct aws_creds	*base_creds;
	int			 inside;	/* an sts_* call is running */
	int			 outstanding;
	int			 failed;
	struct timeval		 last_tick;
	long			 max_gap_ms;
	long			 ticks;
};

static long
probe_ms(const struct timeval *a, const struct timeval *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_usec - a->tv_usec) /
	    1000;
}

static void
probe_tick(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct timeval now;
	long gap;

	(void)fd;
	(void)what;
	gettimeofday(&now, NULL);
	if ((gap = probe_ms(&p->last_tick, &now)) > p->max_gap_ms)
		p->max_gap_ms = gap;
	p->last_tick = now;
	p->ticks++;
}

/* Every answer: deferred, and free of the base secret. */
static void
probe_answered(struct probe *p, const char *error)
{
	if (p->inside) {
		printf("FAIL callback ran inside an sts_* function\n");
		p->failed = 1;
	}
	if (error != NULL && strstr(error,
	    p->base_creds->secret_access_key) != NULL) {
		printf("FAIL an error message holds the secret key\n");
		p->failed = 1;
	}
	if (--p->outstanding == 0)
		event_base_loopbreak(p->base);
}

static void
probe_identity_done(const char *account, const char *arn, const char *error,
    void *arg)
{
	if (account != NULL)
		printf("identity %s %s\n", account, arn);
	else
		printf("identity-error %s\n", error);
	probe_answered(arg, error);
}

/* One credentials request. */
struct probe_req {
	struct probe	*p;
	char		 account[64];
};

static void
probe_creds_done(const struct aws_creds *c, const char *role,
    const char *error, void *arg)
{
	struct probe_req *r = arg;

	/* The access key id names a key; it is not the secret. */
	if (c != NULL && c->expiration != 0)
		printf("creds %s akid=%s role=%s expires_in=%lld\n",
		    r->account, c->access_key_id, role ? role : "-",
		    (long long)(c->expiration - time(NULL)));
	else if (c != NULL)
		printf("creds %s akid=%s role=%s expires_in=never\n",
		    r->account, c->access_key_id, role ? role : "-");
	else
		printf("error %s %s\n", r->account, error);
	probe_answered(r->p, error);
	free(r);
}

static void
probe_wait(struct probe *p)
{
	if (p->outstanding > 0)
		event_base_dispatch(p->base);
	fflush(stdout);
}

static void
probe_ask(struct probe *p, const char *account, int force)
{
	struct probe_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->p = p;
	snprintf(r->account, sizeof(r->account), "%s", account);
	p->outstanding++;
	p->inside = 1;
	sts_credentials(p->sts, account, force, probe_creds_done, r);
	p->inside = 0;
}

static void
probe_all(struct probe *p, const char *list)
{
	char *copy = strdup(list), *s = copy, *id;
	struct timeval t0, t1;
	int n = 0;

	gettimeofday(&t0, NULL);
	p->last_tick = t0;
	p->max_gap_ms = 0;
	p->ticks = 0;
	while ((id = strsep(&s, ",")) != NULL) {
		probe_ask(p, id, 0);
		n++;
	}
	probe_wait(p);
	gettimeofday(&t1, NULL);
	printf("all n=%d elapsed_ms=%ld max_gap_ms=%ld ticks=%ld\n", n,
	    probe_ms(&t0, &t1), p->max_gap_ms, p->ticks);
	free(copy);
}

static void
probe_step(struct probe *p, const char *step)
{
	const char *errstr;
	long long secs;

	if (strcmp(step, "identity") == 0) {
		p->outstanding++;
		p->inside = 1;
		sts_caller_identity(p->sts, probe_identity_done, p);
		p->inside = 0;
	} else if (strncmp(step, "get:", 4) == 0)
		probe_ask(p, step + 4, 0);
	else if (strncmp(step, "force:", 6) == 0)
		probe_ask(p, step + 6, 1);
	else if (strncmp(step, "all:", 4) == 0)
		probe_all(p, step + 4);
	else if (strncmp(step, "sleep:", 6) == 0) {
		secs = strnum(step + 6, 0, 600, &errstr);
		if (errstr != NULL)
			fatalx("%s: %s", step, errstr);
		sleep((unsigned)secs);
	} else if (strcmp(step, "break-endpoint") == 0)
		setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1", 1);
	else if (strcmp(step, "calls") == 0)
		printf("assume_role_calls %lu\n", sts_assume_role_calls(p->sts));
	else
		fatalx("unknown step %s", step);
	probe_wait(p);
}

static void
probe_report(void *arg, enum config_severity sev, const char *line)
{
	(void)arg;
	fprintf(stderr, "sts-probe: config %s: %s\n", sev == CONFIG_ERROR ?
	    "error" : "warning", line);
}

int
main(int argc, char **argv)
{
	struct timeval every = { 0, 10000 };
	struct http_client *chain_http;
	struct aws_creds *base;
	struct event *tick;
	struct config cfg;
	struct errbuf err;
	struct probe p;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: sts-probe step ...\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_init("sts-probe", LOG_LEVEL_INFO);
	if (config_load(&cfg, config_getenv, probe_report, NULL) == -1)
		return 2;
	log_set_level(cfg.log_level);
	chain_http = http_client_new(NULL);
	if (creds_resolve_chain(chain_http, &base, &err) == -1)
		fatalx("%s", err.msg);
	memset(&p, 0, sizeof(p));
	p.base = event_base_new();
	p.base_creds = base;
	p.sts = sts_new(p.base, &cfg, base);
	tick = event_new(p.base, -1, EV_PERSIST, probe_tick, &p);
	event_add(tick, &every);
	gettimeofday(&p.last_tick, NULL);
	for (i = 1; i < argc; i++)
		probe_step(&p, argv[i]);
	sts_free(p.sts);
	event_free(tick);
	event_base_free(p.base);
	creds_free(base);
	http_client_free(chain_http);
	config_free(&cfg);
	curl_global_cleanup();
	libevent_global_shutdown();
	return p.failed;
}
