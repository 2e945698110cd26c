/*
 * http-probe: test helper for tests/integration/http-retry.py. Sends one
 * signed AWS request (or -n of them on one client) to AWS_ENDPOINT_URL with
 * fixed fake credentials, blocking (http_send) or on a curl multi handle
 * (-m, the http_call_* API), and prints one result line per request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "strnum.h"

/* The SigV4 documentation's example key pair: fake, never valid. */
#define PROBE_AKID	"AKIDEXAMPLE"
#define PROBE_SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define PROBE_TOKEN	"FAKESESSIONTOKEN/probe+only=="

struct probe {
	struct http_request	 req;
	struct http_options	 opts;
	struct http_hooks	 hooks;
	double			 rnd;
	int			 fake_sleep;
	int			 multi;
	int			 repeat;
	long			 sleeps[16];
	int			 nsleeps;
};

static double
probe_random(void *arg)
{
	return ((struct probe *)arg)->rnd;
}

static void
probe_sleep(void *arg, long ms)
{
	struct probe *p = arg;
	struct timespec ts;

	if (p->nsleeps < 16)
		p->sleeps[p->nsleeps] = ms;
	p->nsleeps++;
	if (p->fake_sleep || ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
usage(void)
{
	fprintf(stderr, "usage: http-probe [-fkm] [-a attempts] [-B max_body] "
	    "[-b body] [-c connect_ms] [-n repeat] [-q query] [-r random]\n"
	    "    [-T target] [-t timeout_ms] service region method path\n");
	exit(2);
}

static long long
num(const char *s, long long min, long long max)
{
	const char *errstr;
	long long v;

	v = strnum(s, min, max, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "http-probe: %s: %s\n", s, errstr);
		exit(2);
	}
	return v;
}

static int
probe_multi_run(struct http_client *cl, struct probe *p,
    const struct aws_creds *creds, struct http_response *out,
    struct errbuf *err)
{
	CURLM *m = curl_multi_init();
	struct http_call *c = http_call_new(cl, &p->req, p);
	struct CURLMsg *msg;
	int running, left, rc = 1;
	long ms;

	if (http_call_rearm(c, creds, err) == -1)
		rc = -1;
	while (rc == 1) {
		curl_multi_add_handle(m, http_call_easy(c));
		do {
			curl_multi_perform(m, &running);
			if (running)
				curl_multi_poll(m, NULL, 0, 1000, NULL);
		} while (running);
		msg = curl_multi_info_read(m, &left);
		curl_multi_remove_handle(m, http_call_easy(c));
		if (http_call_finish(c, msg->data.result, &ms) ==
		    HTTP_VERDICT_DONE)
			rc = http_call_error(c, err);
		else {
			probe_sleep(p, ms);
			if (http_call_rearm(c, creds, err) == -1)
				rc = -1;
		}
	}
	*out = *http_call_response(c);
	memset(http_call_response(c), 0, sizeof(*out));
	http_call_free(c);
	curl_multi_cleanup(m);
	return rc;
}

static void
probe_print(const struct probe *p, int rc, const struct http_response *r,
    const struct http_client *cl, const struct errbuf *err)
{
	int i;

	printf("rc=%d status=%ld attempts=%d code=%s quota=%d body_len=%zu "
	    "request_id=%s sleeps=", rc, r->status, r->attempts,
	    r->error_code[0] != '\0' ? r->error_code : "-",
	    http_client_quota(cl), r->body_len,
	    r->request_id[0] != '\0' ? r->request_id : "-");
	for (i = 0; i < p->nsleeps && i < 16; i++)
		printf("%s%ld", i > 0 ? "," : "", p->sleeps[i]);
	printf("%s\n", p->nsleeps == 0 ? "-" : "");
	printf("error: %s\n", rc == 0 ? "-" : err->msg);
	fflush(stdout);
}

static void
probe_options(struct probe *p, int argc, char **argv, int *with_token)
{
	int ch;

	while ((ch = getopt(argc, argv, "a:B:b:c:fkmn:q:r:T:t:")) != -1) {
		switch (ch) {
		case 'a':
			p->opts.max_attempts = (int)num(optarg, 1, 20);
			break;
		case 'B':
			p->opts.max_body = (size_t)num(optarg, 1, 1 << 30);
			break;
		case 'b':
			p->req.body = optarg;
			p->req.body_len = strlen(optarg);
			break;
		case 'c':
			p->opts.connect_timeout_ms = num(optarg, 1, 600000);
			break;
		case 'f':
			p->fake_sleep = 1;
			break;
		case 'k':
			*with_token = 1;
			break;
		case 'm':
			p->multi = 1;
			break;
		case 'n':
			p->repeat = (int)num(optarg, 1, 100);
			break;
		case 'q':
			p->req.query = optarg;
			break;
		case 'r':
			/* Thousandths, so the expected sleeps are exact. */
			p->rnd = (double)num(optarg, 0, 999) / 1000.0;
			p->hooks.random = probe_random;
			break;
		case 'T':
			p->req.target = optarg;
			break;
		case 't':
			p->opts.request_timeout_ms = num(optarg, 1, 600000);
			break;
		default:
			usage();
		}
	}
}

/* Every request on one client, so connections and quota carry over. */
static int
probe_run(struct probe *p, const struct aws_creds *creds)
{
	struct http_response resp;
	struct http_client *cl;
	struct errbuf err;
	int i, rc, failed = 0;

	cl = http_client_new(&p->opts);
	http_client_set_hooks(cl, &p->hooks);
	for (i = 0; i < p->repeat; i++) {
		p->nsleeps = 0;
		rc = p->multi ? probe_multi_run(cl, p, creds, &resp, &err) :
		    http_send(cl, creds, &p->req, &resp, &err);
		probe_print(p, rc, &resp, cl, &err);
		failed |= rc != 0;
		http_response_clear(&resp);
	}
	http_client_free(cl);
	return failed;
}

int
main(int argc, char **argv)
{
	static struct probe p;
	struct aws_creds creds = { PROBE_AKID, PROBE_SECRET, NULL, 0, "probe" };
	enum log_level level = LOG_LEVEL_INFO;
	int with_token = 0, failed;
	const char *lv;

	p.repeat = 1;
	p.hooks.sleep_ms = probe_sleep;
	p.hooks.arg = &p;
	probe_options(&p, argc, argv, &with_token);
	if (argc - optind != 4)
		usage();
	if ((lv = getenv("LOG_LEVEL")) != NULL && log_level_parse(lv, &level))
		usage();
	log_init("http-probe", level);
	if ((p.req.service = aws_service_find(argv[optind])) == NULL)
		usage();
	p.req.region = argv[optind + 1];
	p.req.method = argv[optind + 2];
	p.req.path = argv[optind + 3];
	if (with_token)
		creds.session_token = PROBE_TOKEN;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	failed = probe_run(&p, &creds);
	curl_global_cleanup();
	return failed;
}
