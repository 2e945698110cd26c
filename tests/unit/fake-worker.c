/*
 * A stand-in for tagwarden-worker that misbehaves on demand, for
 * test-jobs. It reads JOB and CREDENTIALS from fd 3 like the real worker;
 * JOB's job_id names the behaviour (a row of modes[] below). The sandbox
 * modes enter the real sandbox (worker/sandbox.c) and then probe it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "errbuf.h"
#include "proto.h"
#include "sandbox.h"

#define FD	3
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* A file the sandbox must refuse to create (test-jobs checks it). */
#define PROBE_FILE	"/tmp/tagwarden-fake-worker-probe"

static json_t *job;
static char access_key[128];

static void
sendf(enum msg_type type, json_t *body)
{
	struct errbuf err;

	if (proto_write(FD, type, body, &err) == -1) {
		fprintf(stderr, "fake-worker: %s\n", err.msg);
		exit(2);
	}
	json_decref(body);
}

static void
raw(const void *p, size_t n)
{
	if (write(FD, p, n) != (ssize_t)n)
		exit(2);
}

static void
hello(const char *sandbox)
{
	sendf(MSG_HELLO, json_pack("{s:i, s:I, s:s}", "proto", PROTO_VERSION,
	    "pid", (json_int_t)getpid(), "sandbox", sandbox));
}

static void
done(int resources)
{
	sendf(MSG_ACCOUNT_DONE, json_pack("{s:s, s:i, s:i, s:i, s:i}",
	    "account_alias", "fake-alias", "resources", resources,
	    "compliant", 0, "violations", resources, "requests", 3));
}

static void
error_exit(int status, const char *fmt, ...)
{
	char msg[PROTO_MAX_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sendf(MSG_ERROR, json_pack("{s:s, s:s}", "message", msg, "aws_code",
	    "FakeCode"));
	exit(status);
}

static void __attribute__((noreturn))
wait_to_be_killed(void)
{
	for (;;)
		pause();
}

static json_t *
one_resource(const char *tags_json)
{
	json_error_t je;

	/* The row of common/proto.h: resource_arn, resource_id,
	 * resource_type, region, tags, tags_error, created_at, state,
	 * in_scope, compliant, violations. */
	return json_pack("[s, s, s, s, o, n, n, s, b, b, []]",
	    "arn:aws:ec2:eu-west-1:123456789012:instance/i-1", "i-1",
	    "ec2:instance", "eu-west-1",
	    json_loads(tags_json, JSON_DECODE_ANY, &je), "running", 1, 0);
}

/* ---- modes ---- */

static void
mode_well(void)
{
	hello("none");
	sendf(MSG_LOG, json_pack("{s:s, s:s}", "level", "INFO", "message",
	    "hello from the worker\x1b[31m"));
	fprintf(stderr, "tagwarden-worker: WARNING: from stderr\n");
	fprintf(stderr, "no prefix line\n");
	sendf(MSG_RESOURCE_BATCH, json_pack("{s:[o]}", "resources",
	    one_resource("{\"Owner\":\"ops\"}")));
	sendf(MSG_PROGRESS, json_pack("{s:i, s:i, s:i}", "regions_done", 1,
	    "regions_total", 1, "resources", 1));
	sendf(MSG_REGION_DONE, json_pack("{s:s, s:s, s:n, s:n, s:i}", "region",
	    "eu-west-1", "status", "ok", "error", "aws_code", "resources", 1));
	done(1);
	exit(0);
}

static void
mode_garbage(void)
{
	raw("hello world!", 12);
	wait_to_be_killed();
}

static void
mode_oversize(void)
{
	/* HELLO announcing 9999999 (0x0098967f) bytes. */
	raw("\0\0\0\xc8\0\x98\x96\x7f", 8);
	wait_to_be_killed();
}

static void
mode_early_batch(void)
{
	sendf(MSG_RESOURCE_BATCH, json_pack("{s:[o]}", "resources",
	    one_resource("{}")));
	wait_to_be_killed();
}

static void
mode_bad_shape(void)
{
	hello("none");
	sendf(MSG_RESOURCE_BATCH, json_pack("{s:[o]}", "resources",
	    one_resource("[\"x\"]")));
	wait_to_be_killed();
}

static void
mode_two_done(void)
{
	hello("none");
	done(0);
	done(0);
	exit(0);
}

static void
mode_wrong_direction(void)
{
	hello("none");
	sendf(MSG_JOB, json_object());
	wait_to_be_killed();
}

static void
mode_wrong_pid(void)
{
	sendf(MSG_HELLO, json_pack("{s:i, s:i, s:s}", "proto", PROTO_VERSION,
	    "pid", 1, "sandbox", "none"));
	wait_to_be_killed();
}

static void
mode_hang(void)
{
	hello("none");
	wait_to_be_killed();
}

static void
mode_segv(void)
{
	hello("none");
	/* Past ASan's own SEGV handler: the default action, a real crash. */
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	exit(0);
}

static void
mode_exit3(void)
{
	hello("none");
	exit(3);
}

static void
mode_early_exit(void)
{
	exit(3);
}

static void
mode_close_early(void)
{
	hello("none");
	close(FD);
	wait_to_be_killed();
}

static void
mode_error(void)
{
	hello("none");
	error_exit(1, "DescribeRegions failed: AccessDenied: not allowed");
}

static void
mode_refuse(void)
{
	/* ERROR may precede HELLO: a JOB the worker will not run. */
	error_exit(2, "JOB: regions[0]: expected a region name");
}

static void
mode_slow(void)
{
	struct timespec ts = { 0, 300 * 1000 * 1000 };

	hello("none");
	nanosleep(&ts, NULL);
	done(0);
	exit(0);
}

/* Ask for fresh credentials; expect the test's second key. */
static void
mode_refresh(void)
{
	struct errbuf err;
	uint32_t type;
	json_t *body;

	hello("none");
	sendf(MSG_CREDENTIALS_REQUEST, json_object());
	do {	/* LIMITS may come first, as to the real worker */
		if (proto_read(FD, &type, &body, &err) == -1)
			error_exit(1, "refresh: %s", err.msg);
		if (type == MSG_LIMITS)
			json_decref(body);
	} while (type == MSG_LIMITS);
	if (type != MSG_CREDENTIALS_REFRESHED)
		error_exit(1, "refresh: got %s", msg_type_name(type));
	if (strcmp(json_string_value(json_object_get(body, "access_key_id")),
	    "AKIDREFRESHED") != 0)
		error_exit(1, "refresh: wrong key");
	json_decref(body);
	done(0);
	exit(0);
}

/* The next frame, which must be a LIMITS: its max_inflight. */
static long long
read_limits(void)
{
	struct errbuf err;
	uint32_t type;
	json_t *body;
	long long n;

	if (proto_read(FD, &type, &body, &err) == -1)
		error_exit(1, "limits: %s", err.msg);
	if (type != MSG_LIMITS)
		error_exit(1, "limits: got %s", msg_type_name(type));
	n = json_integer_value(json_object_get(body, "max_inflight"));
	json_decref(body);
	return n;
}

/* Reports the first LIMITS the supervisor sends, in an ERROR. */
static void
mode_limits(void)
{
	hello("none");
	error_exit(1, "limits: max_inflight %lld", read_limits());
}

/* Reports the first two, in order. */
static void
mode_limits_twice(void)
{
	long long first;

	hello("none");
	first = read_limits();
	error_exit(1, "limits: max_inflight %lld, then %lld", first,
	    read_limits());
}

/* Reports its environment and argv (NULs as ',') in an ERROR. */
static void
mode_environ(void)
{
	char env[2048], args[256];
	ssize_t n, m, i;
	int fd;

	hello("none");
	fd = open("/proc/self/environ", O_RDONLY);
	n = fd == -1 ? 0 : read(fd, env, sizeof(env) - 1);
	close(fd);
	fd = open("/proc/self/cmdline", O_RDONLY);
	m = fd == -1 ? 0 : read(fd, args, sizeof(args) - 1);
	close(fd);
	for (i = 0; i < n; i++)
		env[i] = env[i] == '\0' ? ',' : env[i];
	for (i = 0; i < m; i++)
		args[i] = args[i] == '\0' ? ',' : args[i];
	env[n > 0 ? n : 0] = '\0';
	args[m > 0 ? m : 0] = '\0';
	error_exit(1, "environ=%s cmdline=%s key=%s", env, args, access_key);
}

static void
enter_sandbox(char *desc, size_t len)
{
	struct sandbox_opts so;
	struct errbuf err;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (sandbox_opts_init(&so, &err) == -1 ||
	    sandbox_enter(&so, desc, len, &err) == -1)
		error_exit(3, "sandbox: %s", err.msg);
	sandbox_opts_clear(&so);
}

static void
mode_sandbox_execve(void)
{
	char *const argv[] = { (char *)"true", NULL };
	char desc[256];

	enter_sandbox(desc, sizeof(desc));
	hello(desc);
	execve("/bin/true", argv, argv + 1);
	error_exit(1, "execve returned: %s", strerror(errno));
}

static void
mode_sandbox_debug(void)
{
	char desc[256];
	long rc;

	enter_sandbox(desc, sizeof(desc));
	hello(desc);
	/* getppid is not in the allow-list: trapped, reported, ENOSYS. */
	rc = syscall(SYS_getppid);
	if (rc != -1 || errno != ENOSYS)
		error_exit(1, "getppid returned %ld (%s)", rc, strerror(errno));
	done(0);
	exit(0);
}

/* ---- sandbox-ok: what a real scan needs still works inside ---- */

static void *
resolve_main(void *arg)
{
	struct addrinfo hints, *res = NULL;
	int *rc = arg;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	*rc = getaddrinfo("localhost", "443", &hints, &res);
	if (res != NULL)
		freeaddrinfo(res);
	return NULL;
}

/* getaddrinfo in a new thread, as libcurl's threaded resolver does it. */
static void
check_resolve(void)
{
	pthread_t t;
	int rc = -1, e;

	if ((e = pthread_create(&t, NULL, resolve_main, &rc)) != 0)
		error_exit(1, "pthread_create: %s", strerror(e));
	pthread_join(t, NULL);
	if (rc != 0)
		error_exit(1, "getaddrinfo localhost: %s", gai_strerror(rc));
}

static size_t
body_sink(char *p, size_t size, size_t n, void *arg)
{
	char *buf = arg;
	size_t have = strlen(buf);

	if (have + size * n < 64) {
		memcpy(buf + have, p, size * n);
		buf[have + size * n] = '\0';
	}
	return size * n;
}

/* GET AWS_ENDPOINT_URL by name: resolver thread, TCP connect, poll. */
static void
check_http(void)
{
	const char *url = getenv("AWS_ENDPOINT_URL");
	char body[64] = "", host[128];
	long status = 0;
	CURLcode rc;
	CURL *c;

	snprintf(host, sizeof(host), "http://localhost:%s/probe",
	    strrchr(url, ':') + 1);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, host);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || status != 200 || strcmp(body, "probe ok") != 0)
		error_exit(1, "GET %s: %s, HTTP %ld, body \"%s\"", host,
		    curl_easy_strerror(rc), status, body);
}

static void
check_files(const char *desc)
{
	char buf[32] = "";
	int fd, landlock = strstr(desc, "landlock v") != NULL;

	fd = open(getenv("AWS_CA_BUNDLE"), O_RDONLY);
	if (fd == -1 || read(fd, buf, 27) != 27 ||
	    strncmp(buf, "-----BEGIN CERTIFICATE-----", 27) != 0)
		error_exit(1, "reading the CA bundle: %s", strerror(errno));
	close(fd);
	if (open(PROBE_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600) != -1 ||
	    errno != EACCES)
		error_exit(1, "open for writing: not refused with EACCES (%s)",
		    strerror(errno));
	if (landlock && (open("/etc/passwd", O_RDONLY) != -1 ||
	    errno != EACCES))
		error_exit(1, "landlock: /etc/passwd readable (%s)",
		    strerror(errno));
}

/* Port 9 (discard) is not an endpoint: Landlock refuses the connect. */
static void
check_other_port(const char *desc)
{
	struct sockaddr_in sin;
	int s, rc;

	if (strstr(desc, "tcp ") == NULL)
		return;
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(9);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(s, (struct sockaddr *)&sin, sizeof(sin));
	if (rc != -1 || errno != EACCES)
		error_exit(1, "connect to port 9: not refused with EACCES "
		    "(%s)", rc == 0 ? "connected" : strerror(errno));
	close(s);
}

/*
 * --enable-asan: a heap overflow inside the sandbox must still give the
 * AddressSanitizer report (the filter allows what a report needs).
 */
static void
mode_asan_report(void)
{
#ifdef __SANITIZE_ADDRESS__
	char desc[256], *p;
	volatile size_t n = 9;

	enter_sandbox(desc, sizeof(desc));
	hello(desc);
	p = malloc(8);
	memset(p, 'x', n);
	fprintf(stderr, "%c\n", p[3]);	/* keeps the store alive */
	free(p);
	done(0);
	exit(0);
#else
	error_exit(2, "asan-report needs an --enable-asan build");
#endif
}

static void
mode_sandbox_ok(void)
{
	char desc[256];

	enter_sandbox(desc, sizeof(desc));
	hello(desc);
	check_resolve();
	check_http();
	check_files(desc);
	check_other_port(desc);
	/* "resources" counts the checks that passed. */
	done(4);
	exit(0);
}

/* A flood on stderr without a newline: the supervisor must bound it. */
static void
mode_noisy(void)
{
	char chunk[4096];
	int i;

	hello("none");
	memset(chunk, 'n', sizeof(chunk));
	for (i = 0; i < 256; i++)
		fwrite(chunk, 1, sizeof(chunk), stderr);
	fflush(stderr);
	done(0);
	exit(0);
}

/*
 * "random:SEED" sends random bytes after HELLO; "random-body:SEED" a
 * RESOURCE_BATCH header followed by a random body of that length.
 */
static void
mode_random(const char *name)
{
	unsigned char buf[65536];
	uint32_t hdr[2];
	size_t i, n;
	int body = strncmp(name, "random-body:", 12) == 0;

	srandom((unsigned)atoi(strchr(name, ':') + 1));
	hello("none");
	n = 1 + (size_t)random() % sizeof(buf);
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)random();
	if (body) {
		hdr[0] = htonl(MSG_RESOURCE_BATCH);
		hdr[1] = htonl((uint32_t)n);
		raw(hdr, sizeof(hdr));
	}
	raw(buf, n);
	wait_to_be_killed();
}

struct mode {
	const char	*name;
	void		(*run)(void);
};

static const struct mode modes[] = {
	{ "well", mode_well },
	{ "garbage", mode_garbage },
	{ "oversize", mode_oversize },
	{ "early-batch", mode_early_batch },
	{ "bad-shape", mode_bad_shape },
	{ "two-done", mode_two_done },
	{ "wrong-direction", mode_wrong_direction },
	{ "wrong-pid", mode_wrong_pid },
	{ "hang", mode_hang },
	{ "segv", mode_segv },
	{ "exit3", mode_exit3 },
	{ "early-exit", mode_early_exit },
	{ "close-early", mode_close_early },
	{ "error", mode_error },
	{ "refuse", mode_refuse },
	{ "slow", mode_slow },
	{ "refresh", mode_refresh },
	{ "limits", mode_limits },
	{ "limits-twice", mode_limits_twice },
	{ "environ", mode_environ },
	{ "sandbox-execve", mode_sandbox_execve },
	{ "sandbox-debug", mode_sandbox_debug },
	{ "sandbox-ok", mode_sandbox_ok },
	{ "noisy", mode_noisy },
	{ "asan-report", mode_asan_report },
};

int
main(void)
{
	struct errbuf err;
	uint32_t type;
	json_t *creds;
	const char *name;
	size_t i;

	if (proto_read(FD, &type, &job, &err) == -1 || type != MSG_JOB ||
	    proto_read(FD, &type, &creds, &err) == -1 ||
	    type != MSG_CREDENTIALS) {
		fprintf(stderr, "fake-worker: bad start: %s\n", err.msg);
		return 2;
	}
	snprintf(access_key, sizeof(access_key), "%s", json_string_value(
	    json_object_get(creds, "access_key_id")));
	proto_wipe(creds);
	json_decref(creds);
	name = json_string_value(json_object_get(job, "job_id"));
	if (strncmp(name, "random", 6) == 0 && strchr(name, ':') != NULL)
		mode_random(name);
	for (i = 0; i < nitems(modes); i++) {
		if (strcmp(modes[i].name, name) == 0)
			modes[i].run();
	}
	fprintf(stderr, "fake-worker: unknown mode %s\n", name);
	return 2;
}
