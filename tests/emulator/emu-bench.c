/*
 * emu-bench: how many signed GetResources pages the emulator serves per
 * second. Signs one request with common/sigv4.c (valid for 15 minutes,
 * which is plenty) and replays it over keep-alive connections, each with
 * one request in flight, from a single poll(2) loop.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "creds.h"
#include "errbuf.h"
#include "log.h"
#include "sigv4.h"
#include "strnum.h"
#include "xmalloc.h"

#define BENCH_MAXCONN	256
#define BENCH_BUF	(1024 * 1024)

struct bench {
	int		 port;
	const char	*key, *secret, *token, *region;
	long		 requests, conns, page;
	char		*wire;		/* the signed request, replayed */
	size_t		 wirelen;
	long		 sent, done, errors;
	size_t		 bytes;
};

struct conn {
	int	 fd;
	size_t	 off;		/* of the request sent */
	char	*buf;		/* response so far */
	size_t	 len;
	int	 busy;
};

static void __attribute__((noreturn))
bench_usage(void)
{
	fprintf(stderr, "usage: emu-bench --port PORT --key KEY --secret SECRET "
	    "[--token TOKEN] [--region R] [--requests N] [--connections C] "
	    "[--page-size 1..100]\n");
	exit(2);
}

static long
bench_num(const char *s, long min, long max)
{
	const char *errstr;
	long v = (long)strnum(s, min, max, &errstr);

	if (errstr != NULL)
		bench_usage();
	return v;
}

static void
bench_options(int argc, char **argv, struct bench *b)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "secret", required_argument, NULL, 's' },
		{ "token", required_argument, NULL, 't' },
		{ "region", required_argument, NULL, 'r' },
		{ "requests", required_argument, NULL, 'n' },
		{ "connections", required_argument, NULL, 'c' },
		{ "page-size", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(b, 0, sizeof(*b));
	b->region = "us-east-1";
	b->requests = 20000;
	b->conns = 8;
	b->page = 100;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': b->port = (int)bench_num(optarg, 1, 65535); break;
		case 'k': b->key = optarg; break;
		case 's': b->secret = optarg; break;
		case 't': b->token = optarg; break;
		case 'r': b->region = optarg; break;
		case 'n': b->requests = bench_num(optarg, 1, 100000000); break;
		case 'c': b->conns = bench_num(optarg, 1, BENCH_MAXCONN); break;
		case 'g': b->page = bench_num(optarg, 1, 100); break;
		default: bench_usage();
		}
	}
	if (b->port == 0 || b->key == NULL || b->secret == NULL)
		bench_usage();
}

static void
bench_sign(struct bench *b)
{
	struct sigv4_header hdrs[3];
	struct aws_creds creds;
	struct sigv4_request sr;
	struct sigv4_signed out;
	struct errbuf err;
	char host[64], body[64];

	snprintf(host, sizeof(host), "127.0.0.1:%d", b->port);
	snprintf(body, sizeof(body), "{\"ResourcesPerPage\":%ld}", b->page);
	hdrs[0] = (struct sigv4_header){ "host", host };
	hdrs[1] = (struct sigv4_header){ "content-type",
	    "application/x-amz-json-1.1" };
	hdrs[2] = (struct sigv4_header){ "x-amz-target",
	    "ResourceGroupsTaggingAPI_20170126.GetResources" };
	memset(&sr, 0, sizeof(sr));
	sr.method = "POST";
	sr.path = "/";
	sr.headers = hdrs;
	sr.nheaders = 3;
	sr.body = body;
	sr.body_len = strlen(body);
	sr.region = b->region;
	sr.service = "tagging";
	sr.when = time(NULL);
	memset(&creds, 0, sizeof(creds));
	creds.access_key_id = (char *)b->key;
	creds.secret_access_key = (char *)b->secret;
	creds.session_token = (char *)b->token;
	if (sigv4_sign(NULL, &creds, &sr, &out, &err) == -1)
		fatalx("sign: %s", err.msg);
	b->wirelen = (size_t)xasprintf(&b->wire, "POST / HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: %s\r\nX-Amz-Target: %s\r\nX-Amz-Date: %s\r\n"
	    "%s%s%sAuthorization: %s\r\nContent-Length: %zu\r\n\r\n%s", host,
	    hdrs[1].value, hdrs[2].value, out.amz_date,
	    b->token ? "X-Amz-Security-Token: " : "", b->token ? b->token : "",
	    b->token ? "\r\n" : "", out.authorization, strlen(body), body);
}

static int
bench_connect(int port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fatal("connect 127.0.0.1:%d", port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* The length of a complete response at the start of buf, or 0. */
static size_t
bench_complete(const struct conn *c, int *status)
{
	const char *end, *cl;
	size_t head;

	if ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	*status = atoi(c->buf + 9);
	for (cl = c->buf; cl < end; cl++)
		if (strncasecmp(cl, "\r\nContent-Length:", 17) == 0)
			break;
	if (cl >= end)
		fatalx("response without Content-Length");
	head += (size_t)strtoul(cl + 17, NULL, 10);
	return c->len >= head ? head : 0;
}

static void
bench_read(struct bench *b, struct conn *c)
{
	ssize_t n;
	size_t total;
	int status;

	if ((n = read(c->fd, c->buf + c->len, BENCH_BUF - c->len)) <= 0)
		fatalx("the emulator closed a connection (read %zd)", n);
	c->len += (size_t)n;
	if ((total = bench_complete(c, &status)) == 0)
		return;
	if (status != 200 && b->errors++ == 0)
		fprintf(stderr, "first error: %.*s\n", (int)c->len, c->buf);
	b->bytes += total;
	b->done++;
	c->len = 0;
	c->busy = 0;
}

static void
bench_write(struct bench *b, struct conn *c)
{
	ssize_t n;

	if ((n = write(c->fd, b->wire + c->off, b->wirelen - c->off)) <= 0)
		fatal("write");
	c->off += (size_t)n;
}

static void
bench_loop(struct bench *b, struct conn *conns)
{
	struct pollfd pfd[BENCH_MAXCONN];
	long i;

	while (b->done < b->requests) {
		for (i = 0; i < b->conns; i++) {
			if (!conns[i].busy && b->sent < b->requests) {
				conns[i].busy = 1;
				conns[i].off = 0;
				b->sent++;
			}
			pfd[i].fd = conns[i].busy ? conns[i].fd : -1;
			pfd[i].events = conns[i].off < b->wirelen ? POLLOUT :
			    POLLIN;
		}
		if (poll(pfd, (nfds_t)b->conns, 30000) <= 0)
			fatalx("no progress for 30 s");
		for (i = 0; i < b->conns; i++) {
			if (pfd[i].revents & (POLLERR | POLLHUP | POLLIN))
				bench_read(b, &conns[i]);
			else if (pfd[i].revents & POLLOUT)
				bench_write(b, &conns[i]);
		}
	}
}

int
main(int argc, char **argv)
{
	struct conn conns[BENCH_MAXCONN];
	struct timespec t0, t1;
	struct bench b;
	double secs;
	long i;

	bench_options(argc, argv, &b);
	bench_sign(&b);
	for (i = 0; i < b.conns; i++) {
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].fd = bench_connect(b.port);
		conns[i].buf = xmalloc(BENCH_BUF);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bench_loop(&b, conns);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld GetResources pages of %ld in %.2f s: %.0f requests/s, "
	    "%ld errors, %.0f bytes/response, %ld connections\n", b.done,
	    b.page, secs, (double)b.done / secs, b.errors,
	    (double)b.bytes / (double)b.done, b.conns);
	for (i = 0; i < b.conns; i++) {
		close(conns[i].fd);
		free(conns[i].buf);
	}
	free(b.wire);
	return b.errors == 0 ? 0 : 1;
}
