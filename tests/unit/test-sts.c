/*
 * sts and its transport evcurl: the pure pieces (session names, cache
 * decisions), then whole calls against a scripted STS stand-in served by
 * libevent's evhttp on 127.0.0.1 in the same event loop. The replies are
 * written by hand in the shape of the STS API reference examples, and
 * every expected value below is worked out by hand from them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config.h"
#include "creds.h"
#include "errbuf.h"
#include "evcurl.h"
#include "http.h"
#include "log.h"
#include "sts.h"

/* The SigV4 documentation's example key pair: fake, never valid. */
#define T_AKID		"AKIDEXAMPLE"
#define T_SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_LOCAL		"111122223333"
#define T_MEMBER	"444455556666"
#define T_ROLE		"arn:aws:iam::444455556666:role/FinOpsTagComplianceReadOnly"
#define T_NS		"xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\""

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Pure pieces. */

static void
test_sts_session_name_account(void **state)
{
	char buf[STS_SESSION_NAME_MAX + 1];

	(void)state;
	sts_session_name("123456789012", buf, sizeof(buf));
	assert_string_equal(buf, "tagwarden-123456789012");
}

static void
test_sts_session_name_replaces_outside_alphabet(void **state)
{
	char buf[STS_SESSION_NAME_MAX + 1];

	(void)state;
	/* [\w+=,.@-] keeps letters, digits, _ + = , . @ - and nothing else. */
	sts_session_name("a b/c:d_e+f=g,h.i@j-k\x01", buf, sizeof(buf));
	assert_string_equal(buf, "tagwarden-a-b-c-d_e+f=g,h.i@j-k-");
}

static void
test_sts_session_name_cut_to_64(void **state)
{
	char in[101], buf[200], small[8];

	(void)state;
	memset(in, '7', 100);
	in[100] = '\0';
	sts_session_name(in, buf, sizeof(buf));
	/* 10 for "tagwarden-" plus 54 digits. */
	assert_int_equal(strlen(buf), 64);
	assert_memory_equal(buf, "tagwarden-7777", 14);
	assert_int_equal(buf[63], '7');
	sts_session_name(in, small, sizeof(small));
	assert_string_equal(small, "tagward");
}

static void
test_sts_cache_decide(void **state)
{
	const time_t now = 1700000000;
	static const struct {
		time_t			 expires_in;	/* -1: nothing cached */
		int			 force;
		enum sts_cache_action	 want;
	} rows[] = {
		{ -1, 0, STS_CACHE_FETCH },
		{ -1, 1, STS_CACHE_FETCH },
		{ 3600, 0, STS_CACHE_USE },
		{ 301, 0, STS_CACHE_USE },	/* one second outside */
		{ 300, 0, STS_CACHE_REFRESH },	/* the margin is inclusive */
		{ 10, 0, STS_CACHE_REFRESH },
		{ -60, 0, STS_CACHE_REFRESH },	/* already expired */
		{ 3600, 1, STS_CACHE_FORCE },
		{ 100, 1, STS_CACHE_REFRESH },
	};
	struct aws_creds *c;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(rows); i++) {
		c = rows[i].expires_in == -1 ? NULL : creds_new("ASIAX", "s",
		    "t", now + rows[i].expires_in, "test");
		assert_int_equal(sts_cache_decide(c, rows[i].force, now),
		    rows[i].want);
		creds_free(c);
	}
	/* Long-term keys (expiration 0) never expire. */
	c = creds_new("AKIAX", "s", NULL, 0, "test");
	assert_int_equal(sts_cache_decide(c, 0, now), STS_CACHE_USE);
	creds_free(c);
}

/* A scripted STS on loopback, in the test's own event loop. */

struct t_reply {
	int		 status;
	char		 body[2048];
	int		 delay_ms;
};

struct t_server {
	struct event_base	*base;
	struct evhttp		*http;
	int			 port;
	struct t_reply		 script[8];
	int			 nscript;
	int			 hits;
	char			 bodies[8][1024];
	char			 auth[8][512];
	int			 delayed_sent;
};

struct t_delayed {
	struct t_server		*srv;
	struct evhttp_request	*req;
	const struct t_reply	*reply;
	struct event		*ev;
};

static void
t_send(struct evhttp_request *req, const struct t_reply *r)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, r->body, strlen(r->body));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/xml");
	evhttp_send_reply(req, r->status, r->status == 200 ? "OK" : "Error", b);
	evbuffer_free(b);
}

static void
t_delayed_fire(evutil_socket_t fd, short what, void *arg)
{
	struct t_delayed *d = arg;

	(void)fd;
	(void)what;
	t_send(d->req, d->reply);
	d->srv->delayed_sent++;
	event_free(d->ev);
	free(d);
}

static void
t_handle(struct evhttp_request *req, void *arg)
{
	struct t_server *s = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *auth;
	const struct t_reply *r;
	struct t_delayed *d;
	struct timeval tv;
	int i = s->hits < s->nscript ? s->hits : s->nscript - 1;
	int k = s->hits < 8 ? s->hits : 7;
	size_t len = evbuffer_get_length(in);

	if (len >= sizeof(s->bodies[k]))
		len = sizeof(s->bodies[k]) - 1;
	evbuffer_copyout(in, s->bodies[k], len);
	s->bodies[k][len] = '\0';
	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	snprintf(s->auth[k], sizeof(s->auth[k]), "%s", auth ? auth : "");
	s->hits++;
	r = &s->script[i];
	if (r->delay_ms == 0) {
		t_send(req, r);
		return;
	}
	d = calloc(1, sizeof(*d));
	d->srv = s;
	d->req = req;
	d->reply = r;
	d->ev = evtimer_new(s->base, t_delayed_fire, d);
	tv.tv_sec = 0;
	tv.tv_usec = r->delay_ms * 1000;
	evtimer_add(d->ev, &tv);
}

static struct t_server *
t_server_new(struct event_base *base)
{
	struct t_server *s = calloc(1, sizeof(*s));
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char url[64];

	s->base = base;
	s->http = evhttp_new(base);
	evhttp_set_gencb(s->http, t_handle, s);
	bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	assert_non_null(bs);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sin, &slen), 0);
	s->port = ntohs(sin.sin_port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
	setenv("AWS_ENDPOINT_URL_STS", url, 1);
	return s;
}

static void
t_server_free(struct t_server *s)
{
	evhttp_free(s->http);
	free(s);
}

static void
t_script(struct t_server *s, int status, int delay_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
t_script(struct t_server *s, int status, int delay_ms, const char *fmt, ...)
{
	struct t_reply *r = &s->script[s->nscript++];
	va_list ap;

	r->status = status;
	r->delay_ms = delay_ms;
	va_start(ap, fmt);
	vsnprintf(r->body, sizeof(r->body), fmt, ap);
	va_end(ap);
}

static void
t_script_identity(struct t_server *s)
{
	t_script(s, 200, 0, "<GetCallerIdentityResponse " T_NS ">"
	    "<GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/"
	    "finops</Arn><UserId>AIDAEXAMPLEUSERID0001</UserId><Account>"
	    T_LOCAL "</Account></GetCallerIdentityResult><ResponseMetadata>"
	    "<RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>"
	    "</ResponseMetadata></GetCallerIdentityResponse>");
}

static void
t_iso(time_t t, char out[32])
{
	struct tm tm;

	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

static void
t_script_assume(struct t_server *s, const char *akid, time_t expiration,
    int delay_ms)
{
	char when[32];

	t_iso(expiration, when);
	t_script(s, 200, delay_ms, "<AssumeRoleResponse " T_NS ">"
	    "<AssumeRoleResult><Credentials><AccessKeyId>%s</AccessKeyId>"
	    "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
	    "</SecretAccessKey><SessionToken>AQoDYXdzEPT//////////wEXAMPLE"
	    "</SessionToken><Expiration>%s</Expiration></Credentials>"
	    "<AssumedRoleUser><Arn>arn:aws:sts::444455556666:assumed-role/"
	    "FinOpsTagComplianceReadOnly/tagwarden-444455556666</Arn>"
	    "<AssumedRoleId>AROA3XFRBF535PLBIFPI4:tagwarden-444455556666"
	    "</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>"
	    "</AssumeRoleResponse>", akid, when);
}

/* The test's environment for config_load. */
static const char *t_env[][2] = {
	{ "AWS_REGION", "eu-west-1" },
	{ "AWS_ASSUME_ROLE_SESSION_DURATION", "1800" },
	{ "AWS_ASSUME_ROLE_EXTERNAL_ID", "ext-42/x" },
	{ "POLICY_PATH", "/nonexistent/policy.json" },
	{ "HISTORY_DB_PATH", "/nonexistent/history.db" },
};

static const char *
t_getenv(const char *name)
{
	size_t i;

	for (i = 0; i < NITEMS(t_env); i++)
		if (strcmp(t_env[i][0], name) == 0)
			return t_env[i][1];
	return NULL;
}

/* Answers delivered so far, by any kind of callback. */
static int t_answers;

struct t_fixture {
	struct event_base	*base;
	struct t_server		*srv;
	struct config		 cfg;
	struct aws_creds	*creds;
	struct sts		*sts;
};

static int
t_setup(void **state)
{
	struct t_fixture *f = calloc(1, sizeof(*f));

	f->base = event_base_new();
	f->srv = t_server_new(f->base);
	assert_int_equal(config_load(&f->cfg, t_getenv, NULL, NULL), 0);
	f->creds = creds_new(T_AKID, T_SECRET, NULL, 0, "test");
	f->sts = sts_new(f->base, &f->cfg, f->creds);
	t_answers = 0;
	*state = f;
	return 0;
}

static int
t_teardown(void **state)
{
	struct t_fixture *f = *state;

	sts_free(f->sts);
	creds_free(f->creds);
	config_free(&f->cfg);
	t_server_free(f->srv);
	event_base_free(f->base);
	unsetenv("AWS_ENDPOINT_URL_STS");
	free(f);
	return 0;
}

/* One recorded answer per request. */
struct t_answer {
	int	 calls;
	int	 inside;	/* set while an sts_* function runs */
	int	 reentered;
	char	 akid[64];
	char	 role[256];
	char	 error[1024];
	time_t	 expiration;
	char	 secret[128];
};

static void
t_creds_done(const struct aws_creds *c, const char *role, const char *error,
    void *arg)
{
	struct t_answer *a = arg;

	a->calls++;
	t_answers++;
	a->reentered |= a->inside;
	snprintf(a->akid, sizeof(a->akid), "%s", c ? c->access_key_id : "");
	snprintf(a->secret, sizeof(a->secret), "%s",
	    c ? c->secret_access_key : "");
	a->expiration = c ? c->expiration : -1;
	snprintf(a->role, sizeof(a->role), "%s", role ? role : "(null)");
	snprintf(a->error, sizeof(a->error), "%s", error ? error : "(null)");
}

static void
t_ask(struct sts *sts, const char *account, int force, struct t_answer *a)
{
	a->inside = 1;
	sts_credentials(sts, account, force, t_creds_done, a);
	a->inside = 0;
	assert_int_equal(a->calls, 0);
}

/*
 * Run the loop until want answers in all have arrived (the listening
 * server keeps the loop alive, so dispatch would never return), then one
 * more pass so an extra answer would show.
 */
static void
t_run_until(struct t_fixture *f, int want)
{
	time_t deadline = time(NULL) + 10;

	while (t_answers < want) {
		assert_true(time(NULL) < deadline);
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(t_answers, want);
}

static void
test_sts_invalid_account_deferred(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 };

	t_ask(f->sts, "12345\n", 0, &a);
	t_run_until(f, 1);
	assert_int_equal(a.calls, 1);
	assert_false(a.reentered);
	assert_string_equal(a.error, "account ID \"12345 \": expected 12 digits");
	assert_string_equal(a.akid, "");
	assert_int_equal(f->srv->hits, 0);
}

static void
t_free_in_callback(const struct aws_creds *c, const char *role,
    const char *error, void *arg)
{
	struct t_fixture *f = arg;

	(void)c;
	(void)role;
	(void)error;
	t_answers++;
	sts_free(f->sts);
	f->sts = NULL;
}

static void
test_sts_free_inside_callback(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 };

	sts_credentials(f->sts, "bad", 0, t_free_in_callback, f);
	t_ask(f->sts, "worse", 0, &a);
	t_run_until(f, 1);
	/* The second answer was pending when the first freed the sts. */
	assert_null(f->sts);
	assert_int_equal(a.calls, 0);
}

static void
t_identity_done(const char *account, const char *arn, const char *error,
    void *arg)
{
	struct t_answer *a = arg;

	a->calls++;
	t_answers++;
	a->reentered |= a->inside;
	snprintf(a->akid, sizeof(a->akid), "%s", account ? account : "(null)");
	snprintf(a->role, sizeof(a->role), "%s", arn ? arn : "(null)");
	snprintf(a->error, sizeof(a->error), "%s", error ? error : "(null)");
}

static void
test_sts_caller_identity_once(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 }, b = { 0 };

	t_script_identity(f->srv);
	a.inside = 1;
	sts_caller_identity(f->sts, t_identity_done, &a);
	a.inside = 0;
	assert_int_equal(a.calls, 0);
	t_run_until(f, 1);
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.akid, T_LOCAL);
	assert_string_equal(a.role, "arn:aws:iam::111122223333:user/finops");
	assert_string_equal(a.error, "(null)");
	assert_string_equal(f->srv->bodies[0],
	    "Action=GetCallerIdentity&Version=2011-06-15");
	/* Signed for STS in AWS_REGION (the credential scope). */
	assert_non_null(strstr(f->srv->auth[0],
	    "Credential=AKIDEXAMPLE/"));
	assert_non_null(strstr(f->srv->auth[0], "/eu-west-1/sts/aws4_request"));
	/* Known now: answered again without a request, still deferred. */
	b.inside = 1;
	sts_caller_identity(f->sts, t_identity_done, &b);
	b.inside = 0;
	assert_int_equal(b.calls, 0);
	t_run_until(f, 2);
	assert_int_equal(b.calls, 1);
	assert_string_equal(b.akid, T_LOCAL);
	assert_int_equal(f->srv->hits, 1);
}

static void
test_sts_local_account_uses_base(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 };

	t_script_identity(f->srv);
	t_ask(f->sts, T_LOCAL, 0, &a);
	t_run_until(f, 1);
	assert_int_equal(a.calls, 1);
	assert_false(a.reentered);
	assert_string_equal(a.akid, T_AKID);
	assert_string_equal(a.role, "(null)");
	assert_string_equal(a.error, "(null)");
	assert_int_equal(f->srv->hits, 1);	/* GetCallerIdentity only */
	assert_int_equal(sts_assume_role_calls(f->sts), 0);
}

static void
test_sts_assume_role_form_and_cache(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 }, b = { 0 };
	time_t exp = time(NULL) + 3600;

	t_script_identity(f->srv);
	t_script_assume(f->srv, "ASIAEXAMPLE0000001", exp, 0);
	t_ask(f->sts, T_MEMBER, 0, &a);
	t_run_until(f, 1);
	assert_int_equal(a.calls, 1);
	assert_false(a.reentered);
	assert_string_equal(a.error, "(null)");
	assert_string_equal(a.akid, "ASIAEXAMPLE0000001");
	assert_string_equal(a.secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	assert_int_equal(a.expiration, exp);
	assert_string_equal(a.role, T_ROLE);
	/* Percent-encoded by hand: ':' is %3A and '/' is %2F. */
	assert_string_equal(f->srv->bodies[1], "Action=AssumeRole"
	    "&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A444455556666"
	    "%3Arole%2FFinOpsTagComplianceReadOnly&RoleSessionName="
	    "tagwarden-444455556666&DurationSeconds=1800&ExternalId=ext-42%2Fx");
	/* Signed with the base credentials. */
	assert_non_null(strstr(f->srv->auth[1], "Credential=AKIDEXAMPLE/"));
	t_ask(f->sts, T_MEMBER, 0, &b);
	t_run_until(f, 2);
	assert_int_equal(b.calls, 1);
	assert_string_equal(b.akid, "ASIAEXAMPLE0000001");
	assert_int_equal(f->srv->hits, 2);
	assert_int_equal(sts_assume_role_calls(f->sts), 1);
}

static void
test_sts_concurrent_requests_share_call(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a[3];
	size_t i;

	memset(a, 0, sizeof(a));
	t_script_identity(f->srv);
	t_script_assume(f->srv, "ASIAEXAMPLE0000002", time(NULL) + 3600, 100);
	for (i = 0; i < NITEMS(a); i++)
		t_ask(f->sts, T_MEMBER, 0, &a[i]);
	t_run_until(f, 3);
	for (i = 0; i < NITEMS(a); i++) {
		assert_int_equal(a[i].calls, 1);
		assert_string_equal(a[i].akid, "ASIAEXAMPLE0000002");
	}
	assert_int_equal(f->srv->hits, 2);
	assert_int_equal(sts_assume_role_calls(f->sts), 1);
}

static void
test_sts_refresh_within_margin(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 }, b = { 0 }, c = { 0 };

	t_script_identity(f->srv);
	/* 200 s left: inside the 300 s margin, so never served from cache. */
	t_script_assume(f->srv, "ASIAEXAMPLE0000003", time(NULL) + 200, 0);
	t_script_assume(f->srv, "ASIAEXAMPLE0000004", time(NULL) + 3600, 0);
	t_ask(f->sts, T_MEMBER, 0, &a);
	t_run_until(f, 1);
	t_ask(f->sts, T_MEMBER, 0, &b);
	t_run_until(f, 2);
	assert_string_equal(a.akid, "ASIAEXAMPLE0000003");
	assert_string_equal(b.akid, "ASIAEXAMPLE0000004");
	assert_int_equal(sts_assume_role_calls(f->sts), 2);
	/* force skips a valid cache entry. */
	t_ask(f->sts, T_MEMBER, 1, &c);
	t_run_until(f, 3);
	assert_int_equal(c.calls, 1);
	assert_int_equal(sts_assume_role_calls(f->sts), 3);
	assert_int_equal(f->srv->hits, 4);
}

static void
test_sts_access_denied_sentence(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 };

	t_script_identity(f->srv);
	t_script(f->srv, 403, 0, "<ErrorResponse " T_NS "><Error><Type>Sender"
	    "</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::"
	    "111122223333:user/finops is not authorized to perform: "
	    "sts:AssumeRole on resource: " T_ROLE "</Message></Error>"
	    "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>"
	    "</ErrorResponse>");
	t_ask(f->sts, T_MEMBER, 0, &a);
	t_run_until(f, 1);
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.akid, "");
	assert_string_equal(a.role, T_ROLE);
	assert_string_equal(a.error, "AssumeRole failed for " T_ROLE ": "
	    "AccessDenied: User: arn:aws:iam::111122223333:user/finops is not "
	    "authorized to perform: sts:AssumeRole on resource: " T_ROLE);
	/* 403 is final in standard retry mode: one attempt. */
	assert_int_equal(f->srv->hits, 2);
}

static void
test_sts_identity_failure_reaches_credentials(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 };

	t_script(f->srv, 403, 0, "<ErrorResponse " T_NS "><Error><Type>Sender"
	    "</Type><Code>InvalidClientTokenId</Code><Message>The security "
	    "token included in the request is invalid.</Message></Error>"
	    "<RequestId>r-1</RequestId></ErrorResponse>");
	t_ask(f->sts, T_MEMBER, 0, &a);
	t_run_until(f, 1);
	assert_int_equal(a.calls, 1);
	/* http.c takes the request id from x-amzn-RequestId, not sent here. */
	assert_string_equal(a.error, "cannot tell whether account "
	    "444455556666 is the local one: sts GetCallerIdentity failed: "
	    "InvalidClientTokenId: The security token included in the request "
	    "is invalid. (HTTP 403)");
	assert_int_equal(sts_assume_role_calls(f->sts), 0);
}

static void
test_sts_bad_reply_named(void **state)
{
	struct t_fixture *f = *state;
	struct t_answer a = { 0 };

	t_script_identity(f->srv);
	t_script(f->srv, 200, 0, "<AssumeRoleResponse " T_NS "><AssumeRoleResult>"
	    "<Credentials><AccessKeyId>ASIAX</AccessKeyId></Credentials>"
	    "</AssumeRoleResult></AssumeRoleResponse>");
	t_ask(f->sts, T_MEMBER, 0, &a);
	t_run_until(f, 1);
	assert_string_equal(a.error, "AssumeRole failed for " T_ROLE ": STS "
	    "reply <AssumeRoleResponse> has no AssumeRoleResult/Credentials/"
	    "SecretAccessKey");
}

/* evcurl on its own. */

struct t_xfer {
	int	 calls;
	int	 rc;
	char	 error[1024];
	int	 ticks;
};

static void
t_xfer_done(struct http_call *call, int rc, const char *error, void *arg)
{
	struct t_xfer *x = arg;

	(void)call;
	x->calls++;
	t_answers++;
	x->rc = rc;
	snprintf(x->error, sizeof(x->error), "%s", error ? error : "(null)");
}

static struct http_call *
t_call(struct http_client *cl)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.service = aws_service_find("sts");
	req.region = "us-east-1";
	req.method = "POST";
	req.path = "/";
	req.body = "Action=GetCallerIdentity&Version=2011-06-15";
	req.body_len = strlen(req.body);
	return http_call_new(cl, &req, NULL);
}

static double
t_random(void *arg)
{
	return *(double *)arg;
}

static void
t_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	((struct t_xfer *)arg)->ticks++;
}

static void
test_sts_evcurl_retry_waits_on_timer(void **state)
{
	struct t_fixture *f = *state;
	struct timeval every = { 0, 10000 }, t0, t1;
	double rnd = 0.1;
	struct http_hooks hooks = { t_random, NULL, &rnd };
	struct http_client *cl = http_client_new(NULL);
	struct evcurl *ec = evcurl_new(f->base);
	struct t_xfer x = { 0 };
	struct http_call *call = t_call(cl);
	struct event *tick;
	long ms;

	http_client_set_hooks(cl, &hooks);
	t_script(f->srv, 503, 0, "<ErrorResponse " T_NS "><Error><Code>"
	    "ServiceUnavailable</Code><Message>busy</Message></Error>"
	    "</ErrorResponse>");
	t_script(f->srv, 503, 0, "%s", f->srv->script[0].body);
	t_script_identity(f->srv);
	evcurl_run(ec, call, f->creds, t_xfer_done, &x);
	assert_int_equal(x.calls, 0);
	assert_int_equal(evcurl_pending(ec), 1);
	tick = event_new(f->base, -1, EV_PERSIST, t_tick, &x);
	event_add(tick, &every);
	gettimeofday(&t0, NULL);
	while (x.calls == 0)
		event_base_loop(f->base, EVLOOP_ONCE);
	gettimeofday(&t1, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	assert_int_equal(x.rc, 0);
	assert_string_equal(x.error, "(null)");
	assert_int_equal(http_call_response(call)->attempts, 3);
	assert_int_equal(f->srv->hits, 3);
	/* Backoff 0.1 * 2^0 s, then 0.1 * 2^1 s: 300 ms, the loop ticking. */
	assert_true(ms >= 290);
	assert_true(x.ticks >= 10);
	assert_int_equal(evcurl_pending(ec), 0);
	event_free(tick);
	http_call_free(call);
	evcurl_free(ec);
	http_client_free(cl);
}

static void
test_sts_evcurl_sign_failure_deferred(void **state)
{
	struct t_fixture *f = *state;
	struct http_client *cl = http_client_new(NULL);
	struct evcurl *ec = evcurl_new(f->base);
	struct http_call *call = t_call(cl);
	struct t_xfer x = { 0 };

	evcurl_run(ec, call, NULL, t_xfer_done, &x);
	assert_int_equal(x.calls, 0);
	t_run_until(f, 1);
	assert_int_equal(x.calls, 1);
	assert_int_equal(x.rc, -1);
	assert_string_equal(x.error, "sts GetCallerIdentity: no AWS credentials");
	assert_int_equal(f->srv->hits, 0);
	http_call_free(call);
	evcurl_free(ec);
	http_client_free(cl);
}

static void
test_sts_evcurl_cancel_never_calls(void **state)
{
	struct t_fixture *f = *state;
	struct http_client *cl = http_client_new(NULL);
	struct evcurl *ec = evcurl_new(f->base);
	struct http_call *c1 = t_call(cl), *c2 = t_call(cl);
	struct t_xfer x1 = { 0 }, x2 = { 0 };
	struct evcurl_xfer *h1;

	t_script_identity(f->srv);
	h1 = evcurl_run(ec, c1, f->creds, t_xfer_done, &x1);
	evcurl_run(ec, c2, f->creds, t_xfer_done, &x2);
	evcurl_cancel(h1);
	assert_int_equal(evcurl_pending(ec), 1);
	t_run_until(f, 1);
	assert_int_equal(x1.calls, 0);
	assert_int_equal(x2.calls, 1);
	assert_int_equal(x2.rc, 0);
	/*
	 * A transfer on the wire when the evcurl goes (the stand-in holds
	 * its reply for 300 ms): dropped, never called back.
	 */
	http_call_free(c1);
	c1 = t_call(cl);
	f->srv->script[0].delay_ms = 300;
	f->srv->nscript = 1;
	evcurl_run(ec, c1, f->creds, t_xfer_done, &x1);
	while (f->srv->hits < 2)
		event_base_loop(f->base, EVLOOP_ONCE);
	evcurl_free(ec);
	while (f->srv->delayed_sent < 1)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(x1.calls, 0);
	http_call_free(c1);
	http_call_free(c2);
	http_client_free(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sts_session_name_account),
		cmocka_unit_test(test_sts_session_name_replaces_outside_alphabet),
		cmocka_unit_test(test_sts_session_name_cut_to_64),
		cmocka_unit_test(test_sts_cache_decide),
		cmocka_unit_test_setup_teardown(
		    test_sts_invalid_account_deferred, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_free_inside_callback, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_caller_identity_once, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_local_account_uses_base, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_assume_role_form_and_cache, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_concurrent_requests_share_call, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_refresh_within_margin, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_access_denied_sentence, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_identity_failure_reaches_credentials, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_bad_reply_named, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_evcurl_retry_waits_on_timer, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_evcurl_sign_failure_deferred, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sts_evcurl_cancel_never_calls, t_setup, t_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_init("test-sts", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("sts", tests, NULL, NULL);
}
