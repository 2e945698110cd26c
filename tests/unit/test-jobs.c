/*
 * jobs, peer and spawn together: the real supervisor-side code on a real
 * libevent loop against tests/unit/fake-worker, which misbehaves on
 * demand. Each test asserts the job's status and exact error sentence;
 * the expected sentences are the ones jobs.h and DESIGN.md promise. Every
 * test also proves that no child is left behind.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "creds.h"
#include "jobs.h"
#include "log.h"
#include "proto.h"
#include "spawn-worker.h"

#define FAKE_WORKER	TEST_BUILDDIR "/tests/unit/fake-worker"
#define MAX_JOBS	8
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define PROBE_FILE	"/tmp/tagwarden-fake-worker-probe"

struct result {
	int		 done;
	enum job_status	 status;
	char		 error[1024];
	json_t		*final;
	int		 batches;
	int		 regions;
	int		 progress;
	const char	*account;
};

struct harness {
	struct event_base	*base;
	struct job_queue	*q;
	struct aws_creds	*creds;
	struct aws_creds	*fresh;
	int			 async;		/* answer need_credentials later */
	int			 started;
	int			 max_live;	/* workers alive */
	int			 pending;
	struct job		*jobs[MAX_JOBS];
	struct result		 res[MAX_JOBS];
	char			*env[16];
};

/* The harness of the running test, for callbacks given only a job. */
static struct harness *current;

/*
 * Our children that are running (not zombies), read from /proc: the
 * workers alive, counted apart from the queue's own bookkeeping.
 */
static int
children_alive(void)
{
	char path[300], stat[512], state;
	struct dirent *d;
	DIR *dir;
	FILE *f;
	long ppid;
	int n = 0;

	assert_non_null(dir = opendir("/proc"));
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* gone meanwhile */
		if (fgets(stat, sizeof(stat), f) != NULL &&
		    strrchr(stat, ')') != NULL &&
		    sscanf(strrchr(stat, ')'), ") %c %ld", &state,
		    &ppid) == 2 &&
		    ppid == (long)getpid() && state != 'Z')
			n++;
		fclose(f);
	}
	closedir(dir);
	return n;
}

static void
start_counted(struct harness *h, struct job *j)
{
	int n;

	job_start(j, h->creds);
	if ((n = children_alive()) > h->max_live)
		h->max_live = n;
}

static void
start_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_counted(current, arg);
}

static void
on_need_credentials(struct job *j, void *arg)
{
	struct harness *h = arg;
	struct timeval tv = { 0, 20000 };

	h->started++;
	if (h->async && h->started % 2 == 0)
		event_base_once(h->base, -1, EV_TIMEOUT, start_later, j, &tv);
	else
		start_counted(h, j);
}

static void
on_batch(struct job *j, const json_t *body, void *arg)
{
	struct result *r = job_arg(j);

	(void)arg;
	assert_string_equal(proto_row_str(json_array_get(json_object_get(body,
	    "resources"), 0), PROTO_RES_ID), "i-1");
	r->batches++;
}

static void
on_region(struct job *j, const json_t *body, void *arg)
{
	struct result *r = job_arg(j);

	(void)arg;
	assert_string_equal(json_string_value(json_object_get(body, "status")),
	    "ok");
	r->regions++;
}

static void
on_progress(struct job *j, const json_t *body, void *arg)
{
	struct result *r = job_arg(j);

	(void)arg;
	(void)body;
	r->progress++;
}

static void
on_request(struct job *j, void *arg)
{
	struct harness *h = arg;

	job_refresh(j, h->fresh);
}

static void
on_done(struct job *j, enum job_status status, const char *error,
    const json_t *final, void *arg)
{
	struct harness *h = arg;
	struct result *r = job_arg(j);

	assert_false(r->done);
	r->done = 1;
	r->status = status;
	snprintf(r->error, sizeof(r->error), "%s", error != NULL ? error :
	    "(null)");
	r->final = final != NULL ? json_deep_copy(final) : NULL;
	if (r->account != NULL)
		assert_string_equal(job_account_id(j), r->account);
	if (--h->pending == 0)
		event_base_loopbreak(h->base);
}

static const struct job_callbacks callbacks = {
	on_need_credentials, on_batch, on_region, on_progress, on_request,
	on_done
};

static json_t *
job_body(const char *mode, const char *account)
{
	return json_pack("{s:i, s:s, s:s, s:s, s:n, s:[s], s:s, s:i, s:i}",
	    "proto", PROTO_VERSION, "job_id", mode, "account_id", account,
	    "home_region", "eu-west-1", "regions", "resource_types",
	    "ec2:instance", "policy", "{}", "max_batch", 100,
	    "refresh_margin_s", 300);
}

static struct harness *
harness_new(int max_workers, int timeout_s, const char *path,
    char *const *env)
{
	struct job_queue_opts o;
	struct harness *h;

	h = calloc(1, sizeof(*h));
	current = h;
	h->base = event_base_new();
	h->creds = creds_new("AKIDFIRST", "SECRETFIRSTKEYdoNotLeak",
	    "TOKENFIRSTdoNotLeak", 0, "test");
	h->fresh = creds_new("AKIDREFRESHED", "SECRETSECOND", NULL, 0, "test");
	o.max_workers = max_workers;
	o.timeout_s = timeout_s;
	o.worker_path = path;
	o.worker_env = env;
	h->q = job_queue_new(h->base, &o, &callbacks, h);
	return h;
}

static void
harness_submit(struct harness *h, int i, const char *mode,
    const char *account)
{
	h->res[i].account = account;
	h->pending++;
	h->jobs[i] = job_submit(h->q, account, job_body(mode, account),
	    &h->res[i]);
}

/* Runs until every job is done; a generous cap for ASan on 2 cores. */
static void
harness_run(struct harness *h)
{
	struct timeval cap = { 60, 0 };

	event_base_loopexit(h->base, &cap);
	event_base_dispatch(h->base);
	assert_int_equal(h->pending, 0);
}

/* Frees everything, then proves no worker is left, zombie or alive. */
static void
harness_free(struct harness *h)
{
	int i;

	job_queue_free(h->q);
	event_base_free(h->base);
	creds_free(h->creds);
	creds_free(h->fresh);
	for (i = 0; i < MAX_JOBS; i++)
		json_decref(h->res[i].final);
	free(h);
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* One job in mode; the result is checked by the caller. */
static struct harness *
run_one(const char *mode, int timeout_s)
{
	struct harness *h;

	h = harness_new(2, timeout_s, FAKE_WORKER, NULL);
	harness_submit(h, 0, mode, "123456789012");
	harness_run(h);
	return h;
}

static void
assert_one(const char *mode, enum job_status status, const char *error)
{
	struct harness *h = run_one(mode, 30);

	assert_int_equal(h->res[0].status, status);
	assert_string_equal(h->res[0].error, error);
	harness_free(h);
}

static void
test_jobs_well_behaved_worker_is_ok(void **state)
{
	struct harness *h;
	struct result *r;

	(void)state;
	h = run_one("well", 30);
	r = &h->res[0];
	assert_int_equal(r->status, JOB_STATUS_OK);
	assert_string_equal(r->error, "(null)");
	assert_int_equal(r->batches, 1);
	assert_int_equal(r->regions, 1);
	assert_int_equal(r->progress, 1);
	assert_non_null(r->final);
	assert_string_equal(json_string_value(json_object_get(r->final,
	    "account_alias")), "fake-alias");
	assert_int_equal(json_integer_value(json_object_get(r->final,
	    "requests")), 3);
	assert_int_equal(job_queue_peak(h->q), 1);
	assert_true(job_queue_idle(h->q));
	harness_free(h);
}

static void
test_jobs_protocol_violations_are_named(void **state)
{
	(void)state;
	/* "hell" read as a big-endian type: 0x68656c6c = 1751477356. */
	assert_one("garbage", JOB_STATUS_FAILED, "worker broke the protocol: "
	    "unknown message type 1751477356");
	assert_one("oversize", JOB_STATUS_FAILED, "worker broke the protocol: "
	    "frame of 9999999 bytes exceeds 4194304");
	assert_one("early-batch", JOB_STATUS_FAILED, "worker broke the "
	    "protocol: RESOURCE_BATCH before HELLO");
	assert_one("bad-shape", JOB_STATUS_FAILED, "worker broke the protocol: "
	    "RESOURCE_BATCH: resources[0].tags: expected an object of strings "
	    "or null, found an array");
	assert_one("two-done", JOB_STATUS_FAILED, "worker broke the protocol: "
	    "ACCOUNT_DONE after ACCOUNT_DONE");
	assert_one("wrong-direction", JOB_STATUS_FAILED, "worker broke the "
	    "protocol: JOB is not a worker message");
}

static void
test_jobs_hello_must_carry_the_workers_pid(void **state)
{
	struct harness *h;
	const char *want = "worker broke the protocol: HELLO: pid 1 is not "
	    "the worker's pid ";

	(void)state;
	h = run_one("wrong-pid", 30);
	assert_int_equal(h->res[0].status, JOB_STATUS_FAILED);
	assert_true(strncmp(h->res[0].error, want, strlen(want)) == 0);
	harness_free(h);
}

static void
test_jobs_exit_and_crash_statuses(void **state)
{
	(void)state;
	assert_one("segv", JOB_STATUS_FAILED, "worker crashed (signal 11)");
	assert_one("exit3", JOB_STATUS_FAILED, "worker exited with status 3");
	assert_one("close-early", JOB_STATUS_FAILED, "worker closed its "
	    "channel without ACCOUNT_DONE or ERROR");
}

static void
test_jobs_error_frame_fails_with_its_message(void **state)
{
	struct harness *h;

	(void)state;
	h = run_one("error", 30);
	assert_int_equal(h->res[0].status, JOB_STATUS_FAILED);
	assert_string_equal(h->res[0].error, "DescribeRegions failed: "
	    "AccessDenied: not allowed");
	assert_non_null(h->res[0].final);
	assert_string_equal(json_string_value(json_object_get(h->res[0].final,
	    "aws_code")), "FakeCode");
	harness_free(h);
	/* ERROR before HELLO is allowed, and is not a broken installation. */
	h = run_one("refuse", 30);
	assert_string_equal(h->res[0].error, "JOB: regions[0]: expected a "
	    "region name");
	assert_null(job_queue_broken(h->q));
	harness_free(h);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_jobs_timeout_kills_the_worker(void **state)
{
	struct harness *h;
	double t0, dt;

	(void)state;
	t0 = now_s();
	h = run_one("hang", 1);
	dt = now_s() - t0;
	assert_int_equal(h->res[0].status, JOB_STATUS_TIMEOUT);
	assert_string_equal(h->res[0].error, "scan timed out after 1 s");
	assert_true(dt >= 0.9);
	assert_true(dt < 20.0);
	harness_free(h);
}

static void
test_jobs_concurrency_cap_holds(void **state)
{
	struct harness *h;
	int i;

	(void)state;
	h = harness_new(2, 30, FAKE_WORKER, NULL);
	h->async = 1;
	for (i = 0; i < 5; i++)
		harness_submit(h, i, "slow", "123456789012");
	harness_run(h);
	for (i = 0; i < 5; i++)
		assert_int_equal(h->res[i].status, JOB_STATUS_OK);
	assert_int_equal(h->started, 5);
	/* Worker processes alive, counted from /proc, and the queue's count. */
	assert_int_equal(h->max_live, 2);
	assert_int_equal(job_queue_peak(h->q), 2);
	harness_free(h);
}

/*
 * With no account waiting, a lone worker gets the whole budget of
 * max_workers x PROTO_INFLIGHT requests in flight, up to the ceiling.
 */
static void
test_jobs_lone_worker_gets_the_free_slots(void **state)
{
	struct { int max_workers, share; } rows[] = {
		{ 1, PROTO_INFLIGHT },	/* nothing to share: no LIMITS */
		{ 3, 3 * PROTO_INFLIGHT },
		{ 8, PROTO_MAX_INFLIGHT },
	};
	struct harness *h;
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(rows); i++) {
		/* Waiting for a LIMITS that never comes ends at the timeout. */
		h = harness_new(rows[i].max_workers, rows[i].share ==
		    PROTO_INFLIGHT ? 2 : 30, FAKE_WORKER, NULL);
		harness_submit(h, 0, "limits", "123456789012");
		harness_run(h);
		if (rows[i].share == PROTO_INFLIGHT) {
			assert_int_equal(h->res[0].status, JOB_STATUS_TIMEOUT);
		} else {
			snprintf(want, sizeof(want), "limits: max_inflight %d",
			    rows[i].share);
			assert_string_equal(h->res[0].error, want);
		}
		harness_free(h);
	}
}

static void
submit_two_slow(evutil_socket_t fd, short what, void *arg)
{
	struct harness *h = arg;

	(void)fd;
	(void)what;
	harness_submit(h, 1, "slow", "123456789012");
	harness_submit(h, 2, "slow", "123456789012");
}

/*
 * A lone worker's share (2 x PROTO_INFLIGHT) goes back to PROTO_INFLIGHT
 * when jobs submitted later take the other slot.
 */
static void
test_jobs_share_shrinks_when_jobs_start(void **state)
{
	struct timeval later = { 0, 300000 };
	struct harness *h;
	char want[80];

	(void)state;
	h = harness_new(2, 30, FAKE_WORKER, NULL);
	harness_submit(h, 0, "limits-twice", "123456789012");
	/* A waits for its second LIMITS, so the loop outlives this timer. */
	event_base_once(h->base, -1, EV_TIMEOUT, submit_two_slow, h, &later);
	harness_run(h);
	snprintf(want, sizeof(want), "limits: max_inflight %d, then %d",
	    2 * PROTO_INFLIGHT, PROTO_INFLIGHT);
	assert_string_equal(h->res[0].error, want);
	assert_int_equal(h->res[1].status, JOB_STATUS_OK);
	assert_int_equal(h->res[2].status, JOB_STATUS_OK);
	harness_free(h);
}

static void
test_jobs_death_before_first_frame_breaks_the_run(void **state)
{
	struct harness *h;
	char want[512];

	(void)state;
	h = harness_new(1, 30, FAKE_WORKER, NULL);
	harness_submit(h, 0, "early-exit", "111111111111");
	harness_submit(h, 1, "well", "222222222222");
	harness_submit(h, 2, "well", "333333333333");
	harness_run(h);
	snprintf(want, sizeof(want), "worker %s exited with status 3 before "
	    "its first frame", FAKE_WORKER);
	assert_string_equal(h->res[0].error, want);
	snprintf(want, sizeof(want), "not started: worker %s exited with "
	    "status 3 before its first frame; no further workers are started",
	    FAKE_WORKER);
	assert_string_equal(h->res[1].error, want);
	assert_string_equal(h->res[2].error, want);
	assert_int_equal(h->res[2].status, JOB_STATUS_FAILED);
	assert_int_equal(h->started, 1);
	assert_non_null(job_queue_broken(h->q));
	harness_free(h);
}

static void
test_jobs_exec_failure_breaks_the_run(void **state)
{
	struct harness *h;

	(void)state;
	h = harness_new(1, 30, "/nonexistent/tagwarden-worker", NULL);
	harness_submit(h, 0, "well", "111111111111");
	harness_submit(h, 1, "well", "222222222222");
	harness_run(h);
	assert_string_equal(h->res[0].error, "cannot execute "
	    "/nonexistent/tagwarden-worker: No such file or directory");
	assert_string_equal(h->res[1].error, "not started: cannot execute "
	    "/nonexistent/tagwarden-worker: No such file or directory; no "
	    "further workers are started");
	assert_int_equal(h->started, 1);
	harness_free(h);
}

/* Two queues in one process: each worker's status reaches its own queue. */
static void
test_jobs_two_queues_share_the_reaper(void **state)
{
	struct job_queue_opts o = { 1, 30, FAKE_WORKER, NULL };
	struct job_queue *q2;
	struct harness *h;

	(void)state;
	h = harness_new(1, 30, FAKE_WORKER, NULL);
	q2 = job_queue_new(h->base, &o, &callbacks, h);
	harness_submit(h, 0, "slow", "111111111111");
	h->res[1].account = "222222222222";
	h->pending++;
	job_submit(q2, "222222222222", job_body("exit3", "222222222222"),
	    &h->res[1]);
	harness_run(h);
	assert_int_equal(h->res[0].status, JOB_STATUS_OK);
	assert_string_equal(h->res[1].error, "worker exited with status 3");
	job_queue_free(q2);
	harness_free(h);
}

static void
cancel_all_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_queue_cancel_all(arg);
}

static void
test_jobs_cancel_all(void **state)
{
	struct timeval tv = { 0, 300000 };
	struct harness *h;
	int i;

	(void)state;
	h = harness_new(1, 30, FAKE_WORKER, NULL);
	for (i = 0; i < 3; i++)
		harness_submit(h, i, "hang", "123456789012");
	event_base_once(h->base, -1, EV_TIMEOUT, cancel_all_later, h->q, &tv);
	harness_run(h);
	for (i = 0; i < 3; i++) {
		assert_int_equal(h->res[i].status, JOB_STATUS_CANCELLED);
		assert_string_equal(h->res[i].error, "scan cancelled");
	}
	harness_free(h);
}

static void
fail_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_fail(arg, "AssumeRole failed for arn:aws:iam::123456789012:role/"
	    "r: AccessDenied: refresh refused");
}

static void
test_jobs_fail_while_running_kills(void **state)
{
	struct timeval tv = { 0, 300000 };
	struct harness *h;

	(void)state;
	h = harness_new(1, 30, FAKE_WORKER, NULL);
	harness_submit(h, 0, "hang", "123456789012");
	event_base_once(h->base, -1, EV_TIMEOUT, fail_later, h->jobs[0], &tv);
	harness_run(h);
	assert_int_equal(h->res[0].status, JOB_STATUS_FAILED);
	assert_string_equal(h->res[0].error, "AssumeRole failed for "
	    "arn:aws:iam::123456789012:role/r: AccessDenied: refresh refused");
	harness_free(h);
}

static void
test_jobs_queue_free_reaps_live_workers(void **state)
{
	struct timeval tv = { 0, 300000 };
	struct harness *h;
	int i;

	(void)state;
	h = harness_new(2, 30, FAKE_WORKER, NULL);
	for (i = 0; i < 3; i++)
		harness_submit(h, i, "hang", "123456789012");
	event_base_loopexit(h->base, &tv);
	event_base_dispatch(h->base);
	assert_int_equal(h->started, 2);
	job_queue_free(h->q);
	for (i = 0; i < 3; i++) {
		assert_int_equal(h->res[i].status, JOB_STATUS_CANCELLED);
		assert_string_equal(h->res[i].error, "scan cancelled");
	}
	h->q = NULL;
	harness_free(h);
}

static void
test_jobs_credentials_refresh_round_trip(void **state)
{
	(void)state;
	assert_one("refresh", JOB_STATUS_OK, "(null)");
}

static void
test_jobs_spawn_env_is_minimal(void **state)
{
	char *in[] = {
		"HOME=/root", "PATH=/usr/bin", "AWS_ACCESS_KEY_ID=AKIDENV",
		"AWS_SECRET_ACCESS_KEY=secretenv", "AWS_SESSION_TOKEN=tok",
		"AWS_PROFILE=prod", "LOG_LEVEL=DEBUG",
		"AWS_ENDPOINT_URL=http://127.0.0.1:4566",
		"AWS_ENDPOINT_URL_S3=http://127.0.0.1:4567",
		"AWS_ENDPOINT_URL_=x", "AWS_ENDPOINT_URL_s3=y",
		"AWS_ENDPOINT_URLX=z", "AWS_CA_BUNDLE=", "TZ=Europe/Paris",
		"TAGWARDEN_SANDBOX_DEBUG=1", "LOG_LEVELX=1", NULL
	};
	const char *want[] = {
		"LOG_LEVEL=DEBUG", "AWS_ENDPOINT_URL=http://127.0.0.1:4566",
		"AWS_ENDPOINT_URL_S3=http://127.0.0.1:4567",
		"TAGWARDEN_SANDBOX_DEBUG=1", "TZ=UTC", NULL
	};
	char **env;
	int i;

	(void)state;
	env = spawn_env(in);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(env[i]);
		assert_string_equal(env[i], want[i]);
	}
	assert_null(env[i]);
	spawn_env_free(env);
}

/* The live worker's own /proc view: only the minimal environment. */
static void
test_jobs_worker_sees_no_secret(void **state)
{
	char *in[] = {
		"AWS_SECRET_ACCESS_KEY=secretenvdoNotLeak", "HOME=/root",
		"AWS_SESSION_TOKEN=tokenenvdoNotLeak", "LOG_LEVEL=INFO", NULL
	};
	struct harness *h;
	char **env;

	(void)state;
	env = spawn_env(in);
	h = harness_new(1, 30, FAKE_WORKER, env);
	harness_submit(h, 0, "environ", "123456789012");
	harness_run(h);
	assert_string_equal(h->res[0].error, "environ=LOG_LEVEL=INFO,TZ=UTC, "
	    "cmdline=tagwarden-worker, key=AKIDFIRST");
	assert_null(strstr(h->res[0].error, "doNotLeak"));
	harness_free(h);
	spawn_env_free(env);
}

/* This process's stderr goes to a file between these two calls. */
struct capture {
	char	path[64];
	int	fd;
	int	saved;
};

static void
capture_start(struct capture *c)
{
	snprintf(c->path, sizeof(c->path), "/tmp/test-jobs-log.XXXXXX");
	c->fd = mkstemp(c->path);
	assert_true(c->fd != -1);
	c->saved = dup(STDERR_FILENO);
	dup2(c->fd, STDERR_FILENO);
}

/* Everything written, NUL-terminated (caller frees). */
static char *
capture_end(struct capture *c)
{
	struct stat st;
	char *buf;
	ssize_t n;

	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	assert_int_equal(fstat(c->fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	n = pread(c->fd, buf, (size_t)st.st_size, 0);
	assert_int_equal(n, st.st_size);
	buf[n] = '\0';
	close(c->fd);
	unlink(c->path);
	return buf;
}

static void
test_jobs_worker_logs_are_relogged(void **state)
{
	struct capture c;
	struct harness *h;
	char *buf;

	(void)state;
	capture_start(&c);
	h = run_one("well", 30);
	buf = capture_end(&c);
	assert_int_equal(h->res[0].status, JOB_STATUS_OK);
	harness_free(h);
	/* The LOG frame's ESC became '?': no escape reaches the terminal. */
	assert_non_null(strstr(buf, "tagwarden: INFO: worker 123456789012: "
	    "hello from the worker?[31m\n"));
	assert_non_null(strstr(buf, "tagwarden: WARNING: worker 123456789012: "
	    "from stderr\n"));
	assert_non_null(strstr(buf, "tagwarden: WARNING: worker 123456789012: "
	    "no prefix line\n"));
	free(buf);
}

/* 1 MiB on stderr without a newline: logged in bounded pieces, all of it. */
static void
test_jobs_worker_stderr_flood_is_bounded(void **state)
{
	const char *prefix = "tagwarden: WARNING: worker 123456789012: ";
	struct capture c;
	struct harness *h;
	char *buf, *line, *nl;
	size_t total = 0;

	(void)state;
	capture_start(&c);
	h = run_one("noisy", 30);
	buf = capture_end(&c);
	assert_int_equal(h->res[0].status, JOB_STATUS_OK);
	harness_free(h);
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		if (strncmp(line, prefix, strlen(prefix)) != 0 ||
		    line[strlen(prefix)] != 'n')
			continue;
		assert_true((size_t)(nl - line) - strlen(prefix) <=
		    PROTO_MAX_LOG);
		total += (size_t)(nl - line) - strlen(prefix);
	}
	assert_int_equal(total, 256 * 4096);
	free(buf);
}

/* Random bytes never crash the supervisor; the violation is named. */
static void
test_jobs_random_frames_are_violations(void **state)
{
	const char *want = "worker broke the protocol: ";
	struct harness *h;
	char mode[32];
	int i;

	(void)state;
	h = harness_new(4, 30, FAKE_WORKER, NULL);
	for (i = 0; i < MAX_JOBS; i++) {
		snprintf(mode, sizeof(mode), "%s:%d", i % 2 ? "random" :
		    "random-body", i + 1);
		harness_submit(h, i, mode, "123456789012");
	}
	harness_run(h);
	for (i = 0; i < MAX_JOBS; i++) {
		assert_int_equal(h->res[i].status, JOB_STATUS_FAILED);
		if (strncmp(h->res[i].error, want, strlen(want)) != 0)
			fail_msg("job %d: %s", i, h->res[i].error);
	}
	harness_free(h);
}

#ifdef WITH_SANDBOX
static void
test_jobs_sandbox_kills_forbidden_syscall(void **state)
{
	(void)state;
	assert_one("sandbox-execve", JOB_STATUS_FAILED,
	    "worker killed by the sandbox (forbidden syscall)");
}

/* The sanitizer's report survives the sandbox (--enable-asan only). */
static void
test_jobs_sandbox_keeps_asan_reports(void **state)
{
#ifdef __SANITIZE_ADDRESS__
	struct capture c;
	struct harness *h;
	char *buf;

	(void)state;
	capture_start(&c);
	h = run_one("asan-report", 30);
	buf = capture_end(&c);
	assert_int_equal(h->res[0].status, JOB_STATUS_FAILED);
	assert_string_equal(h->res[0].error, "worker exited with status 1");
	assert_non_null(strstr(buf, "ERROR: AddressSanitizer: "
	    "heap-buffer-overflow"));
	harness_free(h);
	free(buf);
#else
	(void)state;
	skip();
#endif
}

static void
serve_probe(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();

	(void)arg;
	evbuffer_add_printf(b, "probe ok");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/*
 * Inside the real sandbox: getaddrinfo in a thread, an HTTP request by
 * name to the endpoint port (served by this test's loop), the CA bundle
 * readable, a write refused, other files and ports refused by Landlock.
 */
static void
test_jobs_sandbox_allows_a_scan(void **state)
{
	char url[64], *env[4];
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct evhttp *http;
	struct harness *h;
	struct stat st;

	(void)state;
	unlink(PROBE_FILE);
	h = harness_new(1, 30, FAKE_WORKER, env);
	http = evhttp_new(h->base);
	evhttp_set_gencb(http, serve_probe, NULL);
	bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	assert_non_null(bs);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin,
	    &len);
	snprintf(url, sizeof(url), "AWS_ENDPOINT_URL=http://127.0.0.1:%u",
	    ntohs(sin.sin_port));
	env[0] = url;
	env[1] = "AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt";
	env[2] = "TZ=UTC";
	env[3] = NULL;
	harness_submit(h, 0, "sandbox-ok", "123456789012");
	harness_run(h);
	assert_string_equal(h->res[0].error, "(null)");
	assert_int_equal(h->res[0].status, JOB_STATUS_OK);
	assert_int_equal(json_integer_value(json_object_get(h->res[0].final,
	    "resources")), 4);
	evhttp_free(http);
	harness_free(h);
	assert_int_equal(stat(PROBE_FILE, &st), -1);
}

/* Debug mode reports the call and lets it fail; it never kills. */
static void
test_jobs_sandbox_debug_traps_without_killing(void **state)
{
	char *env[] = { "TAGWARDEN_SANDBOX_DEBUG=1", NULL };
	struct capture c;
	struct harness *h;
	char *buf;

	(void)state;
	capture_start(&c);
	h = harness_new(1, 30, FAKE_WORKER, env);
	harness_submit(h, 0, "sandbox-debug", "123456789012");
	harness_run(h);
	buf = capture_end(&c);
	assert_string_equal(h->res[0].error, "(null)");
	assert_int_equal(h->res[0].status, JOB_STATUS_OK);
	harness_free(h);
#ifdef __x86_64__
	/* getppid is syscall 110 on x86_64 (arch/x86/entry/syscalls). */
	assert_non_null(strstr(buf, "tagwarden-worker: sandbox: forbidden "
	    "syscall 110\n"));
#endif
	free(buf);
}
#else
static void
test_jobs_sandbox_kills_forbidden_syscall(void **state)
{
	(void)state;
	skip();		/* --disable-sandbox build */
}

static void
test_jobs_sandbox_allows_a_scan(void **state)
{
	(void)state;
	skip();
}

static void
test_jobs_sandbox_keeps_asan_reports(void **state)
{
	(void)state;
	skip();
}

static void
test_jobs_sandbox_debug_traps_without_killing(void **state)
{
	(void)state;
	skip();
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_well_behaved_worker_is_ok),
		cmocka_unit_test(test_jobs_protocol_violations_are_named),
		cmocka_unit_test(test_jobs_hello_must_carry_the_workers_pid),
		cmocka_unit_test(test_jobs_exit_and_crash_statuses),
		cmocka_unit_test(test_jobs_error_frame_fails_with_its_message),
		cmocka_unit_test(test_jobs_timeout_kills_the_worker),
		cmocka_unit_test(test_jobs_concurrency_cap_holds),
		cmocka_unit_test(test_jobs_lone_worker_gets_the_free_slots),
		cmocka_unit_test(test_jobs_share_shrinks_when_jobs_start),
		cmocka_unit_test(test_jobs_death_before_first_frame_breaks_the_run),
		cmocka_unit_test(test_jobs_exec_failure_breaks_the_run),
		cmocka_unit_test(test_jobs_two_queues_share_the_reaper),
		cmocka_unit_test(test_jobs_cancel_all),
		cmocka_unit_test(test_jobs_fail_while_running_kills),
		cmocka_unit_test(test_jobs_queue_free_reaps_live_workers),
		cmocka_unit_test(test_jobs_credentials_refresh_round_trip),
		cmocka_unit_test(test_jobs_spawn_env_is_minimal),
		cmocka_unit_test(test_jobs_worker_sees_no_secret),
		cmocka_unit_test(test_jobs_worker_logs_are_relogged),
		cmocka_unit_test(test_jobs_worker_stderr_flood_is_bounded),
		cmocka_unit_test(test_jobs_random_frames_are_violations),
		cmocka_unit_test(test_jobs_sandbox_kills_forbidden_syscall),
		cmocka_unit_test(test_jobs_sandbox_allows_a_scan),
		cmocka_unit_test(test_jobs_sandbox_keeps_asan_reports),
		cmocka_unit_test(test_jobs_sandbox_debug_traps_without_killing),
	};

	log_init("tagwarden", LOG_LEVEL_INFO);
	return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
