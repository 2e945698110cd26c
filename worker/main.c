/*
 * tagwarden-worker: scans one account for the supervisor, as a plain
 * blocking program. It reads JOB and CREDENTIALS from fd 3, initialises
 * everything that needs files, enters the sandbox, says HELLO and runs the
 * collectors; the exit statuses are listed in tagwarden-worker.8.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "channel.h"
#include "collect.h"
#include "creds.h"
#include "errbuf.h"
#include "log.h"
#include "policy.h"
#include "proto.h"
#include "sandbox.h"
#include "xmalloc.h"

#define WORKER_FD		3
#define EXIT_DONE		0	/* ACCOUNT_DONE sent */
#define EXIT_ACCOUNT_FAILED	1	/* ERROR sent: the account failed */
#define EXIT_PROTOCOL		2	/* usage, channel or JOB problem */
#define EXIT_SETUP		3	/* libcurl, CA bundle or sandbox setup */
/* 4: cancelled by the supervisor (channel.c). */

struct worker {
	struct channel		*ch;
	json_t			*job;
	struct aws_creds	*creds;
	struct policy		*policy;
	const char		**regions;
	const char		**types;
	struct collect_job	 cj;
	struct sandbox_opts	 sandbox;
};

static void
log_setup(void)
{
	const char *v = getenv("LOG_LEVEL");
	enum log_level level = LOG_LEVEL_INFO;

	if (v != NULL && *v != '\0' && log_level_parse(v, &level) == -1)
		fprintf(stderr, "tagwarden-worker: LOG_LEVEL=%s: not one of "
		    "DEBUG, INFO, WARNING, ERROR; using INFO\n", v);
	log_init("tagwarden-worker", level);
}

/* Report an account-level or setup failure as ERROR, then exit with rc. */
static int
worker_fail(struct worker *w, int rc, const char *msg)
{
	struct errbuf err;

	if (w->ch == NULL || channel_send(w->ch, MSG_ERROR, json_pack(
	    "{s:s, s:n}", "message", msg, "aws_code"), &err) == -1)
		log_error("%s", msg);
	return rc;
}

/* Region names go into host names: lower-case letters, digits, '-'. */
static int
check_name(const char *what, size_t i, const char *s, int colon,
    struct errbuf *err)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		if ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' &&
		    s[n] <= '9') || s[n] == '-' || (colon && s[n] == ':'))
			continue;
		break;
	}
	if (n == 0 || s[n] != '\0' || (colon && strchr(s, ':') == NULL))
		return err_set(err, "JOB: %s[%zu]: expected %s", what, i, colon ?
		    "service:type in lower case, e.g. ec2:instance" :
		    "a region name such as eu-west-1");
	return 0;
}

/* Borrowed pointers into the JOB body, NULL-terminated. */
static const char **
job_strings(const json_t *a, const char *what, size_t *n, int colon,
    struct errbuf *err)
{
	const char **v;
	json_t *item;
	size_t i;

	*n = json_array_size(a);
	v = xcalloc(*n + 1, sizeof(*v));
	json_array_foreach(a, i, item) {
		v[i] = json_string_value(item);
		if (check_name(what, i, v[i], colon, err) == -1) {
			free(v);
			return NULL;
		}
	}
	return v;
}

static int
job_policy(struct worker *w, struct errbuf *err)
{
	struct policy_errors perr = { NULL, 0 };
	json_t *text = json_object_get(w->job, "policy");
	int rc = 0;

	if (policy_load_buffer(json_string_value(text),
	    json_string_length(text), &w->policy, &perr) == -1) {
		rc = err_set(err, "JOB: policy: %s%s", perr.count > 0 ?
		    perr.lines[0] : "invalid", perr.count > 1 ?
		    " (and more problems)" : "");
	}
	policy_errors_free(&perr);
	return rc;
}

/* JOB is shape-checked by proto_decode; here its values are checked. */
static int
job_parse(struct worker *w, struct errbuf *err)
{
	const json_t *regions = json_object_get(w->job, "regions");
	struct collect_job *cj = &w->cj;

	cj->job_id = json_string_value(json_object_get(w->job, "job_id"));
	cj->account_id = json_string_value(json_object_get(w->job,
	    "account_id"));
	cj->home_region = json_string_value(json_object_get(w->job,
	    "home_region"));
	if (check_name("home_region", 0, cj->home_region, 0, err) == -1)
		return err_set(err, "JOB: home_region: expected a region "
		    "name such as eu-west-1");	/* not an array: no [0] */
	if (json_is_array(regions) && (w->regions = job_strings(regions,
	    "regions", &cj->nregions, 0, err)) == NULL)
		return -1;
	cj->regions = w->regions;
	if ((w->types = job_strings(json_object_get(w->job, "resource_types"),
	    "resource_types", &cj->ntypes, 1, err)) == NULL)
		return -1;
	cj->resource_types = w->types;
	cj->max_batch = (int)json_integer_value(json_object_get(w->job,
	    "max_batch"));
	cj->refresh_margin_s = (int)json_integer_value(json_object_get(w->job,
	    "refresh_margin_s"));
	if (job_policy(w, err) == -1)
		return -1;
	cj->policy = w->policy;
	return 0;
}

/* Everything that reads files happens here, before the sandbox. */
static int
worker_setup(struct worker *w, char *desc, size_t desclen,
    struct errbuf *err)
{
	size_t i;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(err, "curl_global_init failed");
	if (sandbox_opts_init(&w->sandbox, err) == -1)
		return -1;
	for (i = 0; i < w->sandbox.npaths; i++) {
		if (access(w->sandbox.paths[i], R_OK) == -1 &&
		    getenv("AWS_CA_BUNDLE") != NULL)
			return err_set(err, "AWS_CA_BUNDLE=%s: %s; point it at "
			    "a readable PEM file", w->sandbox.paths[i],
			    strerror(errno));
	}
	if (sandbox_enter(&w->sandbox, desc, desclen, err) == -1)
		return err_prefix(err, "sandbox setup failed");
	return 0;
}

static int
worker_hello(struct worker *w, const char *desc, struct errbuf *err)
{
	return channel_send(w->ch, MSG_HELLO, json_pack("{s:i, s:I, s:s}",
	    "proto", PROTO_VERSION, "pid", (json_int_t)getpid(), "sandbox",
	    desc), err);
}

static void
worker_free(struct worker *w)
{
	creds_free(w->creds);
	policy_free(w->policy);
	free(w->regions);
	free(w->types);
	json_decref(w->job);
	sandbox_opts_clear(&w->sandbox);
	channel_free(w->ch);
	curl_global_cleanup();
}

static int
fd3_is_socket(void)
{
	struct stat st;

	return fstat(WORKER_FD, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int
worker_run(struct worker *w)
{
	char desc[256];
	struct errbuf err;

	if (channel_read_job(w->ch, &w->job, &w->creds, &err) == -1)
		return worker_fail(w, EXIT_PROTOCOL, err.msg);
	if (job_parse(w, &err) == -1)
		return worker_fail(w, EXIT_PROTOCOL, err.msg);
	if (worker_setup(w, desc, sizeof(desc), &err) == -1)
		return worker_fail(w, EXIT_SETUP, err.msg);
	if (worker_hello(w, desc, &err) == -1) {
		log_error("%s", err.msg);
		return EXIT_PROTOCOL;
	}
	if (collect_account(&w->cj, &w->creds, w->ch, &err) == -1)
		return worker_fail(w, EXIT_ACCOUNT_FAILED, err.msg);
	return EXIT_DONE;
}

int
main(int argc, char **argv)
{
	struct worker w;
	int rc;

	(void)argv;
	log_setup();
	/* A closed channel must be a write error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (argc != 1) {
		fprintf(stderr, "usage: tagwarden-worker (started by tagwarden "
		    "with its channel on fd 3; see tagwarden-worker(8))\n");
		return EXIT_PROTOCOL;
	}
	if (!fd3_is_socket()) {
		log_error("fd 3 is not a socket: tagwarden-worker runs only "
		    "under tagwarden, which passes its channel there");
		return EXIT_PROTOCOL;
	}
	/* Seeded now: later the sandbox has no /dev/urandom. */
	json_object_seed(0);
	memset(&w, 0, sizeof(w));
	w.ch = channel_open(WORKER_FD);
	rc = worker_run(&w);
	worker_free(&w);
	return rc;
}
