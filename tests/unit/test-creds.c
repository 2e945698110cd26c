/*
 * creds: the credentials type, expiry parsing, and the standard chain with
 * an injected environment, shared files in a temporary HOME, and the HTTP
 * calls (http_send, http_plain) replaced by a script via -Wl,--wrap.
 * Expected request bodies are percent-encoded by hand (RFC 3986: ':' is
 * %3A, '/' is %2F, '+' is %2B, '=' is %3D); expected times come from
 * Python's calendar.timegm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "creds.h"
#include "errbuf.h"
#include "http.h"

#define NOW		1700000000	/* session names: tagwarden-1700000000 */
#define EXP_STR		"2024-05-01T12:00:00Z"
#define EXP_TIME	1714564800	/* calendar.timegm of EXP_STR */
#define ROLE_DEMO	"arn:aws:iam::123456789012:role/demo"
#define ROLE_DEMO_ENC	"arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo"
#define ROLE_WEB	"arn:aws:iam::123456789012:role/web"
#define ROLE_WEB_ENC	"arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fweb"

/* --- scripted HTTP ---------------------------------------------------- */

struct fake_call {
	const char	*method;
	const char	*url;		/* http_plain's URL; NULL: http_send */
	const char	*header;	/* must be sent, or NULL */
	const char	*no_header;	/* header name that must not be sent */
	const char	*body;		/* exact request body, or NULL for none */
	const char	*signer;	/* http_send: signing access key id */
	const char	*signer_token;	/* http_send: its session token */
	const char	*region;	/* http_send: request region */
	long		 status;
	const char	*reply;
	const char	*errmsg;	/* non-NULL: the call fails so */
};

static const struct fake_call *fake_script;
static size_t fake_n, fake_i;

static void
fake_set(const struct fake_call *script, size_t n)
{
	fake_script = script;
	fake_n = n;
	fake_i = 0;
}

static int
fake_reply(const struct fake_call *f, struct http_response *resp,
    struct errbuf *err)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = f->status;
	resp->body = strdup(f->reply != NULL ? f->reply : "");
	assert_non_null(resp->body);
	resp->body_len = strlen(resp->body);
	if (f->errmsg == NULL)
		return 0;
	return err_set(err, "%s", f->errmsg);
}

static int
has_header(const char *const *headers, const char *want, size_t len)
{
	for (; headers != NULL && *headers != NULL; headers++)
		if (strncasecmp(*headers, want, len) == 0)
			return 1;
	return 0;
}

int	__wrap_http_plain(struct http_client *, const char *, const char *,
	    const char *const *, const char *, struct http_response *,
	    struct errbuf *);
int	__wrap_http_send(struct http_client *, const struct aws_creds *,
	    const struct http_request *, struct http_response *,
	    struct errbuf *);

int
__wrap_http_plain(struct http_client *cl, const char *method, const char *url,
    const char *const *headers, const char *body, struct http_response *resp,
    struct errbuf *err)
{
	const struct fake_call *f;

	assert_non_null(cl);
	assert_in_range(fake_i, 0, fake_n - 1);
	f = &fake_script[fake_i++];
	assert_non_null(f->url);
	assert_string_equal(method, f->method);
	assert_string_equal(url, f->url);
	if (f->header != NULL)
		assert_true(has_header(headers, f->header, strlen(f->header)));
	if (f->no_header != NULL)
		assert_false(has_header(headers, f->no_header,
		    strlen(f->no_header)));
	if (f->body == NULL)
		assert_null(body);
	else
		assert_string_equal(body, f->body);
	return fake_reply(f, resp, err);
}

int
__wrap_http_send(struct http_client *cl, const struct aws_creds *creds,
    const struct http_request *req, struct http_response *resp,
    struct errbuf *err)
{
	const struct fake_call *f;

	assert_non_null(cl);
	assert_in_range(fake_i, 0, fake_n - 1);
	f = &fake_script[fake_i++];
	assert_null(f->url);
	assert_string_equal(req->service->id, "sts");
	assert_string_equal(req->method, "POST");
	assert_string_equal(req->path, "/");
	assert_null(req->query);
	assert_string_equal(req->region, f->region);
	assert_int_equal(req->body_len, strlen(f->body));
	assert_memory_equal(req->body, f->body, req->body_len);
	assert_string_equal(creds->access_key_id, f->signer);
	if (f->signer_token == NULL)
		assert_null(creds->session_token);
	else
		assert_string_equal(creds->session_token, f->signer_token);
	return fake_reply(f, resp, err);
}

static char *
sts_xml(const char *action, const char *id, const char *secret,
    const char *token)
{
	char *s;

	assert_true(asprintf(&s,
	    "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	    "  <%sResult>\n"
	    "    <AssumedRoleUser>\n"
	    "      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:s</AssumedRoleId>\n"
	    "      <Arn>arn:aws:sts::123456789012:assumed-role/demo/s</Arn>\n"
	    "    </AssumedRoleUser>\n"
	    "    <Credentials>\n"
	    "      <AccessKeyId>%s</AccessKeyId>\n"
	    "      <SecretAccessKey>%s</SecretAccessKey>\n"
	    "      <SessionToken>%s</SessionToken>\n"
	    "      <Expiration>" EXP_STR "</Expiration>\n"
	    "    </Credentials>\n"
	    "  </%sResult>\n"
	    "  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-"
	    "cbc7ccf896c7</RequestId></ResponseMetadata>\n"
	    "</%sResponse>\n", action, action, id, secret, token, action,
	    action) > 0);
	return s;
}

/* --- a temporary HOME and an injected environment --------------------- */

struct t {
	char		 home[64];
	const char	*env[40];
	size_t		 nenv;
	char		*owned[40];
	size_t		 nowned;
	struct errbuf	 err;
	struct aws_creds *c;
};

static const char *
fake_getenv(void *arg, const char *name)
{
	struct t *t = arg;
	size_t i, n = strlen(name);

	for (i = 0; i < t->nenv; i++)
		if (strncmp(t->env[i], name, n) == 0 && t->env[i][n] == '=')
			return t->env[i] + n + 1;
	return NULL;
}

static char *
t_own(struct t *t, char *s)
{
	assert_non_null(s);
	assert_in_range(t->nowned, 0, 39);
	t->owned[t->nowned++] = s;
	return s;
}

/* Earlier entries win, so a test's setenv overrides the defaults. */
static void
t_setenv(struct t *t, const char *name, const char *value)
{
	char *s;

	assert_true(asprintf(&s, "%s=%s", name, value) > 0);
	assert_in_range(t->nenv, 0, 38);
	memmove(&t->env[1], &t->env[0], t->nenv * sizeof(t->env[0]));
	t->env[0] = t_own(t, s);
	t->nenv++;
}

static const char *
t_path(struct t *t, const char *rel)
{
	char *s;

	assert_true(asprintf(&s, "%s/%s", t->home, rel) > 0);
	return t_own(t, s);
}

static const char *
t_write(struct t *t, const char *rel, const char *text)
{
	const char *path = t_path(t, rel);
	FILE *f;

	mkdir(t_path(t, ".aws"), 0700);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

static int
setup(void **state)
{
	struct t *t;
	char *s;

	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	strcpy(t->home, "/tmp/test-creds.XXXXXX");
	assert_non_null(mkdtemp(t->home));
	assert_true(asprintf(&s, "HOME=%s", t->home) > 0);
	t->env[t->nenv++] = t_own(t, s);
	/* No test reaches a real metadata service unless it asks to. */
	t->env[t->nenv++] = "AWS_EC2_METADATA_DISABLED=true";
	fake_set(NULL, 0);
	*state = t;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct t *t = *state;
	size_t i;

	creds_free(t->c);
	nftw(t->home, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	for (i = 0; i < t->nowned; i++)
		free(t->owned[i]);
	free(t);
	return 0;
}

static int
t_resolve(struct t *t)
{
	struct creds_chain_opts opts = { fake_getenv, t, NOW };

	creds_free(t->c);
	t->c = NULL;
	err_clear(&t->err);
	return creds_resolve_chain_opts(NULL, &opts, &t->c, &t->err);
}

/* The chain yields c with these values. */
static void
t_expect(struct t *t, const char *source, const char *id, const char *secret,
    const char *token, time_t exp)
{
	assert_int_equal(t_resolve(t), 0);
	assert_int_equal(fake_i, fake_n);
	assert_non_null(t->c);
	assert_string_equal(t->c->source, source);
	assert_string_equal(t->c->access_key_id, id);
	assert_string_equal(t->c->secret_access_key, secret);
	if (token == NULL)
		assert_null(t->c->session_token);
	else
		assert_string_equal(t->c->session_token, token);
	assert_int_equal(t->c->expiration, exp);
}

/* The chain fails with a message containing want. */
static void
t_expect_error(struct t *t, const char *want)
{
	assert_int_equal(t_resolve(t), -1);
	assert_null(t->c);
	if (strstr(t->err.msg, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", t->err.msg, want);
}

static void
t_no_secret_in_error(struct t *t, const char *secret)
{
	if (strstr(t->err.msg, secret) != NULL)
		fail_msg("error \"%s\" shows a secret", t->err.msg);
}

/* --- the type --------------------------------------------------------- */

static void
test_creds_new_dup_free(void **state)
{
	struct aws_creds *a, *b;

	(void)state;
	a = creds_new("AKIDEXAMPLE", "s3cr3t", "", 0, "environment");
	assert_null(a->session_token);		/* "" means no token */
	b = creds_new("ASIA1", "s2", "tok", 42, "imds");
	creds_free(a);
	a = creds_dup(b);
	assert_ptr_not_equal(a->secret_access_key, b->secret_access_key);
	assert_string_equal(a->access_key_id, "ASIA1");
	assert_string_equal(a->secret_access_key, "s2");
	assert_string_equal(a->session_token, "tok");
	assert_int_equal(a->expiration, 42);
	assert_string_equal(a->source, "imds");
	creds_free(a);
	creds_free(b);
	creds_free(NULL);
	assert_null(creds_dup(NULL));
}

static void
test_creds_expiring(void **state)
{
	struct aws_creds *c;

	(void)state;
	c = creds_new("A", "S", NULL, 0, "environment");
	assert_false(creds_expiring(c, 2000000000, 300));	/* never */
	creds_free(c);
	c = creds_new("A", "S", "T", 1000, "imds");
	assert_true(creds_expiring(c, 700, 300));	/* 1000 - 700 <= 300 */
	assert_false(creds_expiring(c, 699, 300));
	assert_true(creds_expiring(c, 1001, 0));
	creds_free(c);
	assert_true(creds_expiring(NULL, 0, 0));
}

static void
test_creds_parse_expiration(void **state)
{
	static const struct {
		const char	*in;
		time_t		 want;
	} ok[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ EXP_STR, EXP_TIME },
		{ "2011-07-15T23:28:33.359Z", 1310772513 },
		{ "2024-02-29T12:00:00+02:00", 1709200800 },
		{ "2024-02-29T12:00:00-0530", 1709227800 },
		{ "2038-01-19T03:14:08Z", 2147483648LL },
	};
	static const char *const bad[] = { "", "garbage", "2024-05-01",
	    "2024-05-01T12:00:00", "2024-13-01T00:00:00Z",
	    "2024-05-01T12:00:00Zjunk", "2024-05-01T12:00:00.Z",
	    "2024-05-01T12:00:00+2400", " 2024-05-01T12:00:00Z" };
	struct errbuf err;
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(creds_parse_expiration(ok[i].in, &t, &err), 0);
		assert_int_equal(t, ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(creds_parse_expiration(bad[i], &t, &err), -1);
		assert_non_null(strstr(err.msg, "ISO 8601"));
	}
}

/* --- environment ------------------------------------------------------ */

static void
test_creds_env_pair(void **state)
{
	struct t *t = *state;

	t_setenv(t, "AWS_ACCESS_KEY_ID", "AKIAENV");
	t_setenv(t, "AWS_SECRET_ACCESS_KEY", "envSecret");
	t_expect(t, "environment", "AKIAENV", "envSecret", NULL, 0);
	t_setenv(t, "AWS_SESSION_TOKEN", "envToken");
	t_expect(t, "environment", "AKIAENV", "envSecret", "envToken", 0);
}

static void
test_creds_env_half_pair(void **state)
{
	struct t *t = *state;

	t_setenv(t, "AWS_ACCESS_KEY_ID", "AKIAENV");
	t_expect_error(t, "AWS_SECRET_ACCESS_KEY is not");
	t_setenv(t, "AWS_ACCESS_KEY_ID", "");		/* empty is unset */
	t_setenv(t, "AWS_SECRET_ACCESS_KEY", "envSecret");
	t_expect_error(t, "AWS_ACCESS_KEY_ID is not");
	t_no_secret_in_error(t, "envSecret");
}

static void
test_creds_env_beats_profile(void **state)
{
	struct t *t = *state;

	t_write(t, ".aws/credentials",
	    "[default]\naws_access_key_id = AKIAFILE\n"
	    "aws_secret_access_key = fileSecret\n");
	t_setenv(t, "AWS_ACCESS_KEY_ID", "AKIAENV");
	t_setenv(t, "AWS_SECRET_ACCESS_KEY", "envSecret");
	t_expect(t, "environment", "AKIAENV", "envSecret", NULL, 0);
	t_setenv(t, "AWS_ACCESS_KEY_ID", "");
	t_setenv(t, "AWS_SECRET_ACCESS_KEY", "");
	t_expect(t, "profile:default", "AKIAFILE", "fileSecret", NULL, 0);
}

/* --- shared files ----------------------------------------------------- */

static void
test_creds_profile_credentials_file(void **state)
{
	struct t *t = *state;

	t_write(t, ".aws/credentials",
	    "[default]\n"
	    "aws_access_key_id=AKIADEF\n"
	    "aws_secret_access_key=defSecret\n"
	    "aws_session_token=defToken\n"
	    "[dev]\n"
	    "aws_access_key_id = AKIADEV\n"
	    "aws_secret_access_key = devSecret\n");
	t_expect(t, "profile:default", "AKIADEF", "defSecret", "defToken", 0);
	t_setenv(t, "AWS_PROFILE", "dev");
	t_expect(t, "profile:dev", "AKIADEV", "devSecret", NULL, 0);
}

static void
test_creds_profile_config_file(void **state)
{
	struct t *t = *state;

	t_write(t, ".aws/config",
	    "[default]\n"
	    "region = eu-west-1\n"
	    "aws_access_key_id = AKIACFGDEF\n"
	    "aws_secret_access_key = cfgDefSecret\n"
	    "[profile dev]\n"
	    "aws_access_key_id = AKIACFGDEV\n"
	    "aws_secret_access_key = cfgDevSecret\n");
	t_expect(t, "profile:default", "AKIACFGDEF", "cfgDefSecret", NULL, 0);
	t_setenv(t, "AWS_PROFILE", "dev");
	t_expect(t, "profile:dev", "AKIACFGDEV", "cfgDevSecret", NULL, 0);
}

static void
test_creds_profile_credentials_file_wins(void **state)
{
	struct t *t = *state;

	t_write(t, ".aws/config",
	    "[profile dev]\n"
	    "aws_access_key_id = AKIACFG\n"
	    "aws_secret_access_key = cfgSecret\n"
	    "[profile ops]\n"
	    "aws_access_key_id = AKIAOPS\n"
	    "aws_secret_access_key = opsSecret\n");
	t_write(t, ".aws/credentials",
	    "[dev]\n"
	    "aws_access_key_id = AKIACRED\n"
	    "aws_secret_access_key = credSecret\n");
	t_setenv(t, "AWS_PROFILE", "dev");
	t_expect(t, "profile:dev", "AKIACRED", "credSecret", NULL, 0);
	t_setenv(t, "AWS_PROFILE", "ops");
	t_expect(t, "profile:ops", "AKIAOPS", "opsSecret", NULL, 0);
}

/*
 * In the config file a profile section is [profile NAME] (or [default]);
 * in the credentials file it is [NAME], and [profile NAME] there names a
 * profile called "profile NAME" (botocore reads both files this way).
 */
static void
test_creds_profile_section_names(void **state)
{
	struct t *t = *state;
	const char *cred, *cfg;

	cfg = t_write(t, ".aws/config",
	    "[dev]\naws_access_key_id = AKIAX\naws_secret_access_key = x\n");
	cred = t_write(t, ".aws/credentials",
	    "[profile dev]\naws_access_key_id = AKIAY\n"
	    "aws_secret_access_key = y\n");
	t_setenv(t, "AWS_PROFILE", "dev");
	t_expect_error(t, "AWS_PROFILE=dev: no [dev] in");
	assert_non_null(strstr(t->err.msg, cred));
	assert_non_null(strstr(t->err.msg, cfg));
	t_setenv(t, "AWS_PROFILE", "profile dev");
	t_expect(t, "profile:profile dev", "AKIAY", "y", NULL, 0);
}

static void
test_creds_profile_comments_and_subsections(void **state)
{
	struct t *t = *state;

	t_write(t, ".aws/config",
	    "\xef\xbb\xbf# AWS CLI configuration\r\n"
	    "; another comment\n"
	    "[profile dev]   # trailing comment\n"
	    "region=us-west-2\n"
	    "s3 =\n"
	    "    max_concurrent_requests = 20\n"
	    "    # comment inside the sub-section\n"
	    "\n"
	    "    multipart_threshold = 64MB\n"
	    "aws_access_key_id   =   AKIASUB\n"
	    "aws_secret_access_key: subSecret\r\n"
	    "[profile indented]\n"
	    "  aws_access_key_id = AKIAIND\n"
	    "  aws_secret_access_key = indSecret\n"
	    "[sso-session corp]\n"
	    "aws_access_key_id = AKIANOTAPROFILE\n"
	    "[profile other]\n"
	    "  ; indented comment\n"
	    "region = eu-central-1\n");
	t_setenv(t, "AWS_PROFILE", "dev");
	t_expect(t, "profile:dev", "AKIASUB", "subSecret", NULL, 0);
	/*
	 * configparser's rule: lines at the setting's own indentation are
	 * settings, deeper ones continue it (inih alone would read all
	 * three as one value of aws_access_key_id).
	 */
	t_setenv(t, "AWS_PROFILE", "indented");
	t_expect(t, "profile:indented", "AKIAIND", "indSecret", NULL, 0);
	t_setenv(t, "AWS_PROFILE", "corp");
	t_expect_error(t, "AWS_PROFILE=corp");
	t_write(t, ".aws/config",
	    "[profile continued]\n"
	    "  aws_access_key_id = AKIACONT\n"
	    "  aws_secret_access_key = contSecret\n"
	    "    ; the next line is deeper, so it continues the one above\n"
	    "    aws_session_token = notAToken\n");
	t_expect_error(t, " line 5: this indented line continues "
	    "aws_secret_access_key, whose value must be one line");
	t_no_secret_in_error(t, "contSecret");
	t_no_secret_in_error(t, "notAToken");
}

/* inih reads 200 bytes of a line; a session token is longer. */
static void
test_creds_profile_long_token(void **state)
{
	struct t *t = *state;
	char token[1501], *text, *p;
	size_t i;

	for (i = 0; i < sizeof(token) - 1; i++)
		token[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/"[i % 64];
	token[sizeof(token) - 1] = '\0';
	assert_true(asprintf(&text, "[default]\n"
	    "aws_session_token = %s   ; set by a script\n"
	    "aws_access_key_id = AKIALONG\n"
	    "aws_secret_access_key = longSecret\n"
	    "[broken]\n"
	    "%s\n"
	    "this line is wrong\n", token, token) > 0);
	t_write(t, ".aws/credentials", text);
	free(text);
	/* The over-long line without '=' (line 6) is refused first. */
	p = (char *)t_path(t, ".aws/credentials");
	t_expect_error(t, p);
	assert_non_null(strstr(t->err.msg, " line 6: "));
	t_no_secret_in_error(t, "ABCDEFGHIJ");
	assert_true(asprintf(&text, "[default]\n"
	    "aws_session_token = %s   ; set by a script\n"
	    "aws_access_key_id = AKIALONG\n"
	    "aws_secret_access_key = longSecret\n"
	    "\n"
	    "bad line\n", token) > 0);
	t_write(t, ".aws/credentials", text);
	free(text);
	t_expect_error(t, " line 6: ");
	assert_true(asprintf(&text, "[default]\n"
	    "aws_session_token = %s   ; set by a script\n"
	    "aws_access_key_id = AKIALONG\n"
	    "aws_secret_access_key = longSecret\n", token) > 0);
	t_write(t, ".aws/credentials", text);
	free(text);
	t_expect(t, "profile:default", "AKIALONG", "longSecret", token, 0);
}

static void
test_creds_profile_broken_line(void **state)
{
	struct t *t = *state;
	const char *cfg;
	char want[256];

	cfg = t_write(t, ".aws/config",
	    "[default]\n"
	    "region = us-east-1\n"
	    "# fine\n"
	    "aws_secret_access_key_but_no_equals_sign\n");
	snprintf(want, sizeof(want), "%s line 4: ", cfg);
	t_expect_error(t, want);
	cfg = t_write(t, ".aws/config",
	    "\n[default\nregion = us-east-1\n");
	snprintf(want, sizeof(want), "%s line 2: ", cfg);
	t_expect_error(t, want);
	cfg = t_write(t, ".aws/config",
	    "region = us-east-1\n[default]\n");
	snprintf(want, sizeof(want), "%s line 1: setting outside any section",
	    cfg);
	t_expect_error(t, want);
}

static void
test_creds_profile_missing(void **state)
{
	struct t *t = *state;
	const char *cred, *cfg;

	cred = t_path(t, ".aws/credentials");
	cfg = t_path(t, ".aws/config");
	t_setenv(t, "AWS_PROFILE", "nope");
	t_expect_error(t, "AWS_PROFILE=nope: no [nope] in");
	assert_non_null(strstr(t->err.msg, cred));
	assert_non_null(strstr(t->err.msg, "[profile nope]"));
	assert_non_null(strstr(t->err.msg, cfg));
}

static void
test_creds_nothing_found(void **state)
{
	struct t *t = *state;

	t_expect_error(t, "no AWS credentials found");
	assert_non_null(strstr(t->err.msg, "AWS_ACCESS_KEY_ID and "
	    "AWS_SECRET_ACCESS_KEY unset"));
	assert_non_null(strstr(t->err.msg, "AWS_WEB_IDENTITY_TOKEN_FILE unset"));
	assert_non_null(strstr(t->err.msg, "no default profile"));
	assert_non_null(strstr(t->err.msg, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
	assert_non_null(strstr(t->err.msg, "AWS_EC2_METADATA_DISABLED=true"));
	/* A profile with settings but no credentials falls through too. */
	t_write(t, ".aws/config", "[default]\nregion = eu-west-1\n");
	t_expect_error(t, "profile default has no credentials");
}

static void
test_creds_profile_half_pair(void **state)
{
	struct t *t = *state;
	const char *cfg;
	char want[256];

	cfg = t_write(t, ".aws/config",
	    "[default]\n"
	    "region = us-east-1\n"
	    "aws_secret_access_key = halfSecret\n");
	snprintf(want, sizeof(want), "%s line 3: profile default has "
	    "aws_secret_access_key but no aws_access_key_id", cfg);
	t_expect_error(t, want);
	t_no_secret_in_error(t, "halfSecret");
}

static void
test_creds_profile_cycle(void **state)
{
	struct t *t = *state;
	const char *cfg;
	char want[256];

	cfg = t_write(t, ".aws/config",
	    "[profile a]\n"
	    "role_arn = " ROLE_DEMO "\n"
	    "source_profile = b\n"
	    "[profile b]\n"
	    "role_arn = " ROLE_DEMO "\n"
	    "source_profile = a\n"
	    "[profile self]\n"
	    "role_arn = " ROLE_DEMO "\n"
	    "source_profile = self\n");
	t_setenv(t, "AWS_PROFILE", "a");
	snprintf(want, sizeof(want), "%s line 6: source_profile cycle a -> b "
	    "-> a", cfg);
	t_expect_error(t, want);
	t_setenv(t, "AWS_PROFILE", "self");
	t_expect_error(t, "source_profile cycle self -> self");
	/* p0 -> p1 -> ... -> p9 (keys): nine roles, one more than allowed. */
	t_write(t, ".aws/config",
	    "[profile p0]\nrole_arn = " ROLE_DEMO "\nsource_profile = p1\n"
	    "[profile p1]\nrole_arn = " ROLE_DEMO "\nsource_profile = p2\n"
	    "[profile p2]\nrole_arn = " ROLE_DEMO "\nsource_profile = p3\n"
	    "[profile p3]\nrole_arn = " ROLE_DEMO "\nsource_profile = p4\n"
	    "[profile p4]\nrole_arn = " ROLE_DEMO "\nsource_profile = p5\n"
	    "[profile p5]\nrole_arn = " ROLE_DEMO "\nsource_profile = p6\n"
	    "[profile p6]\nrole_arn = " ROLE_DEMO "\nsource_profile = p7\n"
	    "[profile p7]\nrole_arn = " ROLE_DEMO "\nsource_profile = p8\n"
	    "[profile p8]\nrole_arn = " ROLE_DEMO "\nsource_profile = p9\n"
	    "[profile p9]\naws_access_key_id = A\naws_secret_access_key = B\n");
	t_setenv(t, "AWS_PROFILE", "p0");
	t_expect_error(t, " line 26: profile p8: role chain longer than 8 "
	    "profiles");
	assert_int_equal(fake_i, 0);
}

static void
test_creds_profile_bad_settings(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} rows[] = {
		{ "[default]\nrole_arn = " ROLE_DEMO "\n",
		  " line 2: profile default has role_arn, so it needs exactly "
		  "one of source_profile" },
		{ "[default]\nrole_arn = " ROLE_DEMO "\ncredential_source = "
		  "Ec2InstanceMetadata\nsource_profile = x\n",
		  "needs exactly one of" },
		{ "[default]\nrole_arn = " ROLE_DEMO "\ncredential_source = "
		  "Bogus\n", " line 3: credential_source = Bogus: must be "
		  "Environment, Ec2InstanceMetadata or EcsContainer" },
		{ "[default]\nrole_arn = " ROLE_DEMO "\nsource_profile = gone\n",
		  " line 3: source_profile gone: no such profile" },
		{ "[default]\nrole_arn = " ROLE_DEMO "\nsource_profile = s\n"
		  "duration_seconds = 100\n[profile s]\naws_access_key_id = A\n"
		  "aws_secret_access_key = B\n",
		  " line 4: duration_seconds = 100 is too small: must be "
		  "900..43200" },
		{ "[default]\nrole_arn = " ROLE_DEMO "\nsource_profile = s\n"
		  "[profile s]\nregion = us-east-1\n",
		  " line 3: source_profile s has no credentials" },
		{ "[default]\ncredential_process = /bin/get-creds\n",
		  " line 2: profile default uses credential_process, which "
		  "tagwarden does not support" },
		{ "[default]\nsso_session = corp\n", "uses sso_session" },
		{ "[default]\nrole_arn = " ROLE_DEMO "\ncredential_source = "
		  "Environment\n", "credential_source = Environment: "
		  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are unset" },
		{ "[default]\nrole_arn = " ROLE_DEMO "\ncredential_source = "
		  "EcsContainer\n", "credential_source = EcsContainer: "
		  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and" },
		{ "[default]\nrole_arn = " ROLE_DEMO "\ncredential_source = "
		  "Ec2InstanceMetadata\n", "credential_source = "
		  "Ec2InstanceMetadata: AWS_EC2_METADATA_DISABLED=true" },
	};
	struct t *t = *state;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		t_write(t, ".aws/config", rows[i].text);
		t_expect_error(t, rows[i].want);
	}
	assert_int_equal(fake_i, 0);
}

/* --- STS AssumeRole from profiles ------------------------------------ */

static void
test_creds_assume_role_source_profile(void **state)
{
	struct t *t = *state;
	char *xml = sts_xml("AssumeRole", "ASIAROLE", "roleSecret",
	    "roleToken");
	const struct fake_call script[] = {
		{ .region = "eu-west-1", .signer = "AKIABASE",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000"
		    "&DurationSeconds=1800&ExternalId=ext-42",
		  .status = 200, .reply = xml },
	};

	t_write(t, ".aws/config",
	    "[profile ops]\n"
	    "region = eu-west-1\n"
	    "role_arn = " ROLE_DEMO "\n"
	    "source_profile = base\n"
	    "external_id = ext-42\n"
	    "duration_seconds = 1800\n");
	t_write(t, ".aws/credentials",
	    "[base]\naws_access_key_id = AKIABASE\n"
	    "aws_secret_access_key = baseSecret\n");
	t_setenv(t, "AWS_PROFILE", "ops");
	fake_set(script, 1);
	t_expect(t, "assume-role:ops", "ASIAROLE", "roleSecret", "roleToken",
	    EXP_TIME);
	free(xml);
}

/* ops -> mid (role) -> base (keys); also self-reference with keys. */
static void
test_creds_assume_role_chain(void **state)
{
	struct t *t = *state;
	char *x1 = sts_xml("AssumeRole", "ASIAMID", "midSecret", "midToken");
	char *x2 = sts_xml("AssumeRole", "ASIAOPS", "opsSecret", "opsToken");
	char *x3 = sts_xml("AssumeRole", "ASIASELF", "selfSecret", "selfTok");
	const struct fake_call script[] = {
		{ .region = "ap-south-1", .signer = "AKIABASE",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    "arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fmid"
		    "&RoleSessionName=mid-session",
		  .status = 200, .reply = x1 },
		{ .region = "ap-south-1", .signer = "ASIAMID",
		  .signer_token = "midToken",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000",
		  .status = 200, .reply = x2 },
		{ .region = "us-east-1", .signer = "AKIASELF",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000",
		  .status = 200, .reply = x3 },
	};

	t_write(t, ".aws/config",
	    "[profile ops]\nrole_arn = " ROLE_DEMO "\nsource_profile = mid\n"
	    "[profile mid]\nrole_arn = arn:aws:iam::111111111111:role/mid\n"
	    "source_profile = base\nrole_session_name = mid-session\n"
	    "[profile base]\naws_access_key_id = AKIABASE\n"
	    "aws_secret_access_key = baseSecret\n"
	    "[profile self]\nrole_arn = " ROLE_DEMO "\nsource_profile = self\n"
	    "aws_access_key_id = AKIASELF\naws_secret_access_key = s\n");
	t_setenv(t, "AWS_PROFILE", "ops");
	t_setenv(t, "AWS_REGION", "ap-south-1");
	fake_set(script, 2);
	t_expect(t, "assume-role:ops", "ASIAOPS", "opsSecret", "opsToken",
	    EXP_TIME);
	t_setenv(t, "AWS_REGION", "");
	t_setenv(t, "AWS_PROFILE", "self");
	fake_set(script + 2, 1);
	t_expect(t, "assume-role:self", "ASIASELF", "selfSecret", "selfTok",
	    EXP_TIME);
	free(x1);
	free(x2);
	free(x3);
}

static void
test_creds_assume_role_sts_error(void **state)
{
	struct t *t = *state;
	const struct fake_call script[] = {
		{ .region = "us-east-1", .signer = "AKIABASE",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000",
		  .status = 403, .reply = "<ErrorResponse/>",
		  .errmsg = "sts AssumeRole failed: AccessDenied: not "
		    "authorized (HTTP 403)" },
		{ .region = "us-east-1", .signer = "AKIABASE",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000",
		  .status = 200, .reply = "<AssumeRoleResponse><AssumeRoleResult>"
		    "</AssumeRoleResult></AssumeRoleResponse>" },
	};

	t_write(t, ".aws/config",
	    "[default]\nrole_arn = " ROLE_DEMO "\nsource_profile = base\n"
	    "[profile base]\naws_access_key_id = AKIABASE\n"
	    "aws_secret_access_key = baseSecret\n");
	fake_set(script, 2);
	t_expect_error(t, "profile default: STS AssumeRole " ROLE_DEMO
	    ": sts AssumeRole failed: AccessDenied");
	t_no_secret_in_error(t, "baseSecret");
	t_expect_error(t, "has no AssumeRoleResult/Credentials/AccessKeyId");
	assert_int_equal(fake_i, 2);
}

/* --- web identity ----------------------------------------------------- */

static void
test_creds_web_identity_env(void **state)
{
	struct t *t = *state;
	char *xml = sts_xml("AssumeRoleWithWebIdentity", "ASIAWEB",
	    "webSecret", "webToken");
	const struct fake_call script[] = {
		{ .method = "POST", .url = "https://sts.us-west-2.amazonaws.com/",
		  .header = "Content-Type: application/x-www-form-urlencoded",
		  .no_header = "Authorization:",
		  .body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
		    "&RoleArn=" ROLE_WEB_ENC "&RoleSessionName=pod-session"
		    "&WebIdentityToken=eyJ0eXAi.eyJzdWIi.c2ln%2B%2F%3D",
		  .status = 200, .reply = xml },
	};

	t_setenv(t, "AWS_WEB_IDENTITY_TOKEN_FILE",
	    t_write(t, "token", "eyJ0eXAi.eyJzdWIi.c2ln+/=\n"));
	t_setenv(t, "AWS_ROLE_ARN", ROLE_WEB);
	t_setenv(t, "AWS_ROLE_SESSION_NAME", "pod-session");
	t_setenv(t, "AWS_REGION", "us-west-2");
	/* Web identity comes before the shared files. */
	t_write(t, ".aws/credentials", "[default]\naws_access_key_id = A\n"
	    "aws_secret_access_key = B\n");
	fake_set(script, 1);
	t_expect(t, "web-identity", "ASIAWEB", "webSecret", "webToken",
	    EXP_TIME);
	free(xml);
}

/*
 * The STS region when AWS_REGION is unset. The AWS CLI's documentation of
 * its environment variables says AWS_DEFAULT_REGION overrides a profile's
 * region setting, and AWS_REGION overrides both; an empty variable counts
 * as unset, as for every variable the chain reads.
 */
static void
test_creds_default_region(void **state)
{
	struct t *t = *state;
	char *xml = sts_xml("AssumeRole", "ASIAREG", "regSecret", "regToken");
	char *wxml = sts_xml("AssumeRoleWithWebIdentity", "ASIAWDR",
	    "wdrSecret", "wdrToken");
	const struct fake_call script[] = {
		{ .region = "eu-west-3", .signer = "AKIABASE",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000",
		  .status = 200, .reply = xml },
		{ .region = "ap-south-1", .signer = "AKIABASE",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000",
		  .status = 200, .reply = xml },
		{ .region = "eu-west-1", .signer = "AKIABASE",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000",
		  .status = 200, .reply = xml },
		{ .method = "POST", .url = "https://sts.eu-west-3.amazonaws.com/",
		  .body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
		    "&RoleArn=" ROLE_WEB_ENC "&RoleSessionName=tagwarden-"
		    "1700000000&WebIdentityToken=jwt",
		  .status = 200, .reply = wxml },
	};

	t_write(t, ".aws/config",
	    "[profile ops]\nregion = eu-west-1\nrole_arn = " ROLE_DEMO "\n"
	    "source_profile = base\n"
	    "[profile base]\naws_access_key_id = AKIABASE\n"
	    "aws_secret_access_key = baseSecret\n");
	t_setenv(t, "AWS_PROFILE", "ops");
	t_setenv(t, "AWS_DEFAULT_REGION", "eu-west-3");
	/* AWS_DEFAULT_REGION beats the profile's region. */
	fake_set(script, 1);
	t_expect(t, "assume-role:ops", "ASIAREG", "regSecret", "regToken",
	    EXP_TIME);
	/* AWS_REGION beats AWS_DEFAULT_REGION. */
	t_setenv(t, "AWS_REGION", "ap-south-1");
	fake_set(script + 1, 1);
	t_expect(t, "assume-role:ops", "ASIAREG", "regSecret", "regToken",
	    EXP_TIME);
	/* Both empty: the profile's region. */
	t_setenv(t, "AWS_REGION", "");
	t_setenv(t, "AWS_DEFAULT_REGION", "");
	fake_set(script + 2, 1);
	t_expect(t, "assume-role:ops", "ASIAREG", "regSecret", "regToken",
	    EXP_TIME);
	/* The web identity call goes to AWS_DEFAULT_REGION's endpoint. */
	t_setenv(t, "AWS_DEFAULT_REGION", "eu-west-3");
	t_setenv(t, "AWS_WEB_IDENTITY_TOKEN_FILE", t_write(t, "jwt", "jwt"));
	t_setenv(t, "AWS_ROLE_ARN", ROLE_WEB);
	fake_set(script + 3, 1);
	t_expect(t, "web-identity", "ASIAWDR", "wdrSecret", "wdrToken",
	    EXP_TIME);
	free(xml);
	free(wxml);
}

static void
test_creds_web_identity_errors(void **state)
{
	struct t *t = *state;
	const char *missing;
	const struct fake_call script[] = {
		{ .method = "POST", .url = "https://sts.us-east-1.amazonaws.com/",
		  .body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
		    "&RoleArn=" ROLE_WEB_ENC "&RoleSessionName=tagwarden-"
		    "1700000000&WebIdentityToken=sekrit.jwt.value",
		  .status = 400, .reply = "<ErrorResponse><Error><Code>"
		    "InvalidIdentityToken</Code><Message>token sekrit.jwt.value "
		    "is bad</Message></Error></ErrorResponse>",
		  .errmsg = "POST https://sts.us-east-1.amazonaws.com/ failed: "
		    "HTTP 400" },
		{ .method = "POST", .url = "https://sts.us-east-1.amazonaws.com/",
		  .body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
		    "&RoleArn=" ROLE_WEB_ENC "&RoleSessionName=tagwarden-"
		    "1700000000&WebIdentityToken=sekrit.jwt.value",
		  .status = 403, .reply = "<ErrorResponse><Error><Code>"
		    "AccessDenied</Code><Message>Not authorized to perform "
		    "sts:AssumeRoleWithWebIdentity</Message></Error>"
		    "</ErrorResponse>",
		  .errmsg = "POST https://sts.us-east-1.amazonaws.com/ failed: "
		    "HTTP 403" },
	};

	missing = t_path(t, "no-such-token");
	t_setenv(t, "AWS_WEB_IDENTITY_TOKEN_FILE", missing);
	t_expect_error(t, "AWS_ROLE_ARN is not");
	t_setenv(t, "AWS_ROLE_ARN", ROLE_WEB);
	t_expect_error(t, "AWS_WEB_IDENTITY_TOKEN_FILE: ");
	assert_non_null(strstr(t->err.msg, missing));
	t_setenv(t, "AWS_WEB_IDENTITY_TOKEN_FILE", t_write(t, "empty", "\n"));
	t_expect_error(t, "token file is empty");
	t_setenv(t, "AWS_WEB_IDENTITY_TOKEN_FILE",
	    t_write(t, "tok", "sekrit.jwt.value"));
	fake_set(script, 2);
	t_expect_error(t, "STS AssumeRoleWithWebIdentity " ROLE_WEB
	    ": HTTP 400 (the reply quoted the token");
	t_no_secret_in_error(t, "sekrit");
	t_expect_error(t, "STS AssumeRoleWithWebIdentity " ROLE_WEB
	    ": HTTP 403 AccessDenied: Not authorized");
	assert_int_equal(fake_i, 2);
}

/* --- container -------------------------------------------------------- */

#define CONTAINER_JSON \
	"{\"AccessKeyId\": \"ASIACONT\", \"SecretAccessKey\": \"contSecret\"," \
	" \"Token\": \"contToken\", \"Expiration\": \"" EXP_STR "\"," \
	" \"RoleArn\": \"arn:aws:iam::123456789012:role/task\"}"

static void
test_creds_container_full_uri(void **state)
{
	struct t *t = *state;
	const struct fake_call script[] = {
		{ .method = "GET", .url = "http://127.0.0.1:8080/creds?id=1",
		  .header = "Authorization: Bearer abc", .status = 200,
		  .reply = CONTAINER_JSON },
		{ .method = "GET", .url = "http://[fd00:ec2::23]/v1/credentials",
		  .header = "Authorization: fromfile", .status = 200,
		  .reply = CONTAINER_JSON },
		{ .method = "GET", .url = "https://creds.example.com/x",
		  .no_header = "Authorization:", .status = 200,
		  .reply = CONTAINER_JSON },
	};

	t_setenv(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    "http://127.0.0.1:8080/creds?id=1");
	t_setenv(t, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer abc");
	fake_set(script, 1);
	t_expect(t, "container", "ASIACONT", "contSecret", "contToken",
	    EXP_TIME);
	/* The token file wins over the variable. */
	t_setenv(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    "http://[fd00:ec2::23]/v1/credentials");
	t_setenv(t, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	    t_write(t, "eks-token", "fromfile\n"));
	fake_set(script + 1, 1);
	t_expect(t, "container", "ASIACONT", "contSecret", "contToken",
	    EXP_TIME);
	t_setenv(t, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "");
	t_setenv(t, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "");
	t_setenv(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    "https://creds.example.com/x");
	fake_set(script + 2, 1);
	t_expect(t, "container", "ASIACONT", "contSecret", "contToken",
	    EXP_TIME);
}

static void
test_creds_container_relative_uri(void **state)
{
	struct t *t = *state;
	const struct fake_call script[] = {
		{ .method = "GET", .url = "http://169.254.170.2/v2/credentials/"
		  "5f3e-11", .no_header = "Authorization:", .status = 200,
		  .reply = CONTAINER_JSON },
		{ .method = "GET", .url = "http://169.254.170.2/v2/credentials/"
		  "5f3e-11", .status = 200,
		  .reply = "{\"AccessKeyId\": \"ASIACONT\"}" },
	};

	/* The relative URI wins over the full one. */
	t_setenv(t, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	    "/v2/credentials/5f3e-11");
	t_setenv(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.1.1/");
	fake_set(script, 1);
	t_expect(t, "container", "ASIACONT", "contSecret", "contToken",
	    EXP_TIME);
	fake_set(script + 1, 1);
	t_expect_error(t, "container credentials: http://169.254.170.2/v2/"
	    "credentials/5f3e-11: reply lacks AccessKeyId or SecretAccessKey");
}

static void
test_creds_container_host_refused(void **state)
{
	static const char *const refused[] = { "http://example.com/creds",
	    "http://10.0.0.1/creds", "http://169.254.169.254/creds",
	    "http://[fd00:ec2::24]/creds", "ftp://127.0.0.1/creds",
	    "127.0.0.1/creds" };
	struct t *t = *state;
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		t_setenv(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i]);
		t_expect_error(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI=");
		assert_non_null(strstr(t->err.msg, refused[i]));
	}
	t_setenv(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    "http://127.0.0.1/x");
	t_setenv(t, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1");
	t_expect_error(t, "AWS_CONTAINER_AUTHORIZATION_TOKEN holds a line "
	    "break");
	assert_int_equal(fake_i, 0);
}

/* --- EC2 instance metadata ------------------------------------------- */

#define IMDS_JSON \
	"{\n  \"Code\" : \"Success\",\n" \
	"  \"LastUpdated\" : \"2024-05-01T06:00:00Z\",\n" \
	"  \"Type\" : \"AWS-HMAC\",\n" \
	"  \"AccessKeyId\" : \"ASIAIMDS\",\n" \
	"  \"SecretAccessKey\" : \"imdsSecret\",\n" \
	"  \"Token\" : \"imdsToken\",\n" \
	"  \"Expiration\" : \"" EXP_STR "\"\n}"

#define IMDS_SCRIPT(base) \
	{ .method = "PUT", .url = base "/latest/api/token", \
	  .header = "X-aws-ec2-metadata-token-ttl-seconds: 21600", \
	  .status = 200, .reply = "AQAEAimds-session==" }, \
	{ .method = "GET", \
	  .url = base "/latest/meta-data/iam/security-credentials/", \
	  .header = "X-aws-ec2-metadata-token: AQAEAimds-session==", \
	  .status = 200, .reply = "my-instance-role\n" }, \
	{ .method = "GET", .url = base "/latest/meta-data/iam/" \
	  "security-credentials/my-instance-role", \
	  .header = "X-aws-ec2-metadata-token: AQAEAimds-session==", \
	  .status = 200, .reply = IMDS_JSON }

static void
test_creds_imds(void **state)
{
	struct t *t = *state;
	const struct fake_call script[] = {
		IMDS_SCRIPT("http://169.254.169.254"),
		IMDS_SCRIPT("http://127.0.0.1:9911"),
	};

	t_setenv(t, "AWS_EC2_METADATA_DISABLED", "false");
	fake_set(script, 3);
	t_expect(t, "imds", "ASIAIMDS", "imdsSecret", "imdsToken", EXP_TIME);
	t_setenv(t, "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	    "http://127.0.0.1:9911/");
	fake_set(script + 3, 3);
	t_expect(t, "imds", "ASIAIMDS", "imdsSecret", "imdsToken", EXP_TIME);
}

static void
test_creds_imds_falls_through(void **state)
{
	struct t *t = *state;
	const struct fake_call script[] = {
		{ .method = "PUT", .url = "http://169.254.169.254/latest/api/"
		  "token", .header = "X-aws-ec2-metadata-token-ttl-seconds:",
		  .status = 0, .errmsg = "PUT http://169.254.169.254/latest/"
		  "api/token failed: Connection timed out after 1001 "
		  "milliseconds (after 1 attempt)" },
		{ .method = "PUT", .url = "http://169.254.169.254/latest/api/"
		  "token", .status = 200, .reply = "tok" },
		{ .method = "GET", .url = "http://169.254.169.254/latest/"
		  "meta-data/iam/security-credentials/",
		  .header = "X-aws-ec2-metadata-token: tok", .status = 404,
		  .reply = "Not Found", .errmsg = "GET ... failed: HTTP 404" },
		{ .method = "PUT", .url = "http://169.254.169.254/latest/api/"
		  "token", .status = 200, .reply = "tok" },
		{ .method = "GET", .url = "http://169.254.169.254/latest/"
		  "meta-data/iam/security-credentials/", .status = 200,
		  .reply = "role" },
		{ .method = "GET", .url = "http://169.254.169.254/latest/"
		  "meta-data/iam/security-credentials/role", .status = 200,
		  .reply = "{\"Code\": \"AssumeRoleUnauthorizedAccess\"}" },
	};

	t_setenv(t, "AWS_EC2_METADATA_DISABLED", "");
	fake_set(script, 6);
	t_expect_error(t, "no AWS credentials found");
	assert_non_null(strstr(t->err.msg, "EC2 instance metadata at "
	    "http://169.254.169.254: PUT http://169.254.169.254/latest/api/"
	    "token failed: Connection timed out"));
	t_expect_error(t, "no IAM role attached to the instance");
	assert_non_null(strstr(t->err.msg, "no AWS credentials found"));
	/* Reachable with a role but broken is an error, not a fall-through. */
	t_expect_error(t, "EC2 instance metadata role role: http://169.254."
	    "169.254/latest/meta-data/iam/security-credentials/role: reply "
	    "has Code \"AssumeRoleUnauthorizedAccess\"");
	assert_int_equal(fake_i, 6);
}

static void
test_creds_credential_source(void **state)
{
	struct t *t = *state;
	char *xml = sts_xml("AssumeRole", "ASIACS", "csSecret", "csToken");
	const struct fake_call script[] = {
		IMDS_SCRIPT("http://169.254.169.254"),
		{ .region = "us-east-1", .signer = "ASIAIMDS",
		  .signer_token = "imdsToken",
		  .body = "Action=AssumeRole&Version=2011-06-15&RoleArn="
		    ROLE_DEMO_ENC "&RoleSessionName=tagwarden-1700000000",
		  .status = 200, .reply = xml },
	};

	t_write(t, ".aws/config",
	    "[profile imds]\nrole_arn = " ROLE_DEMO "\n"
	    "credential_source = Ec2InstanceMetadata\n");
	t_setenv(t, "AWS_EC2_METADATA_DISABLED", "");
	t_setenv(t, "AWS_PROFILE", "imds");
	fake_set(script, 4);
	t_expect(t, "assume-role:imds", "ASIACS", "csSecret", "csToken",
	    EXP_TIME);
	free(xml);
}

static void
test_creds_profile_web_identity(void **state)
{
	struct t *t = *state;
	char *xml = sts_xml("AssumeRoleWithWebIdentity", "ASIAPW", "pwSecret",
	    "pwToken");
	const struct fake_call script[] = {
		{ .method = "POST", .url = "https://sts.eu-north-1.amazonaws."
		  "com/", .body = "Action=AssumeRoleWithWebIdentity&Version="
		    "2011-06-15&RoleArn=" ROLE_WEB_ENC "&RoleSessionName="
		    "tagwarden-1700000000&WebIdentityToken=jwt",
		  .status = 200, .reply = xml },
	};
	char *text;

	assert_true(asprintf(&text, "[default]\nregion = eu-north-1\n"
	    "role_arn = " ROLE_WEB "\nweb_identity_token_file = %s\n",
	    t_write(t, "jwt", "jwt")) > 0);
	t_write(t, ".aws/config", text);
	free(text);
	fake_set(script, 1);
	t_expect(t, "web-identity:default", "ASIAPW", "pwSecret", "pwToken",
	    EXP_TIME);
	free(xml);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creds_new_dup_free),
		cmocka_unit_test(test_creds_expiring),
		cmocka_unit_test(test_creds_parse_expiration),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_creds_env_pair),
		T(test_creds_env_half_pair),
		T(test_creds_env_beats_profile),
		T(test_creds_profile_credentials_file),
		T(test_creds_profile_config_file),
		T(test_creds_profile_credentials_file_wins),
		T(test_creds_profile_section_names),
		T(test_creds_profile_comments_and_subsections),
		T(test_creds_profile_long_token),
		T(test_creds_profile_broken_line),
		T(test_creds_profile_missing),
		T(test_creds_nothing_found),
		T(test_creds_profile_half_pair),
		T(test_creds_profile_cycle),
		T(test_creds_profile_bad_settings),
		T(test_creds_assume_role_source_profile),
		T(test_creds_assume_role_chain),
		T(test_creds_assume_role_sts_error),
		T(test_creds_web_identity_env),
		T(test_creds_default_region),
		T(test_creds_web_identity_errors),
		T(test_creds_container_full_uri),
		T(test_creds_container_relative_uri),
		T(test_creds_container_host_refused),
		T(test_creds_imds),
		T(test_creds_imds_falls_through),
		T(test_creds_credential_source),
		T(test_creds_profile_web_identity),
#undef T
	};
	int rc;

	/* The STS endpoint must be the regional default, not an override. */
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_STS");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("creds", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
