/*
 * The environment variable table and everything derived from it: loading
 * into struct config with every problem reported as one line, the
 * check-config dump, and the --help / README text. A new variable is a new
 * row in rows[]; a new kind of value is a check function or a type row.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "errbuf.h"
#include "log.h"
#include "strnum.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define SHOW_MAX	128	/* bytes of a value quoted in an error line */
#define PATH_MAX_LEN	4096
#define SAMPLE_ACCOUNT	"123456789012"
#define POLICY_LOCAL	"policies/tagging_policy.json"

#define ROW_SECRET	0x01	/* never shown: "(set)" or "(unset)" */
#define ROW_MASKED	0x02	/* shown as "****" plus the last 4 characters */
#define ROW_EMPTY_UNSET	0x04	/* "" means unset, as botocore reads these */

enum config_type {
	TYPE_BOOL,
	TYPE_INT,
	TYPE_TEXT,
	TYPE_ACCOUNTS,
	TYPE_REGIONS,
	TYPE_LOGLEVEL,
	TYPE_DOC		/* documented family, read by another module */
};

enum config_source {
	SOURCE_DEFAULT,
	SOURCE_ENV,
	SOURCE_FALLBACK
};

struct config_entry {
	enum config_source source;
	char	*shown;
};

/* State of one config_load() call. */
struct load {
	struct config	*cfg;
	const char	*(*getenv_fn)(const char *);
	void		(*report)(void *, enum config_severity, const char *);
	void		*arg;
	int		 nerrors;
	int		 quiet;		/* parsing a default or a fallback */
};

struct config_row {
	const char	*name;
	enum config_type type;
	const char	*def;		/* default value; NULL: unset */
	const char	*def_help;	/* default as help shows it, when not def */
	char		*(*def_fn)(struct load *);	/* computed default */
	const char	*fallback;	/* variable read when name is unset */
	long long	 min, max;	/* TYPE_INT */
	const char	*form;		/* what "must be" names; TYPE_INT: built */
	const char	*help;
	int		 flags;
	size_t		 field;		/* offsetof(struct config, x); 0: none */
	/* -1 if invalid; why->msg may refine "must be <form>". */
	int		(*check)(const char *, struct errbuf *why);
};

#define FIELD(cfg, row, type) \
	((type *)(void *)((char *)(cfg) + (row)->field))
#define CFIELD(cfg, row, type) \
	((const type *)(const void *)((const char *)(cfg) + (row)->field))
#define F(member)	offsetof(struct config, member)

static int	check_role_name(const char *, struct errbuf *);
static int	check_template(const char *, struct errbuf *);
static int	check_external_id(const char *, struct errbuf *);
static int	check_region(const char *, struct errbuf *);
static int	check_account_id(const char *, struct errbuf *);
static int	check_path(const char *, struct errbuf *);
static int	check_text(const char *, struct errbuf *);
static int	check_url(const char *, struct errbuf *);
static int	check_true_false(const char *, struct errbuf *);
static int	check_key_id(const char *, struct errbuf *);
static int	check_secret(const char *, struct errbuf *);
static int	check_role_arn(const char *, struct errbuf *);
static int	check_session_name(const char *, struct errbuf *);
static char	*default_policy_path(struct load *);
static char	*default_history_db(struct load *);

#define ROLE_ARN_FORM "arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME " \
	"with PARTITION aws, aws-cn or aws-us-gov"

/*
 * The contract (DESIGN.md section 4 and the product plan), then the
 * standard AWS variables we honour. Order is the order of errors, of
 * check-config lines and of the help.
 */
static const struct config_row rows[] = {
	{ .name = "MULTI_ACCOUNT_ENABLED", .type = TYPE_BOOL, .def = "false",
	  .form = "true or false (1/0, yes/no, on/off also accepted, any case)",
	  .help = "Scan the accounts in AWS_ACCOUNT_IDS through STS AssumeRole.",
	  .field = F(multi_account_enabled) },
	{ .name = "AWS_ACCOUNT_IDS", .type = TYPE_ACCOUNTS, .def = "",
	  .form = "comma-separated 12-digit account IDs",
	  .help = "Accounts to scan when MULTI_ACCOUNT_ENABLED=true; blanks "
	  "around IDs and empty entries are ignored.",
	  .field = F(account_ids), .check = check_account_id },
	{ .name = "AWS_ASSUME_ROLE_NAME", .type = TYPE_TEXT,
	  .def = "FinOpsTagComplianceReadOnly",
	  .form = "an IAM role name: 1..64 characters of A-Z a-z 0-9 + = , . @ _ -",
	  .help = "Role assumed in each target account.",
	  .field = F(assume_role_name), .check = check_role_name },
	{ .name = "AWS_ASSUME_ROLE_ARN_TEMPLATE", .type = TYPE_TEXT,
	  .def = "arn:aws:iam::{account_id}:role/{role_name}",
	  .form = "a template with {account_id} and optionally {role_name} "
	  "that expands to " ROLE_ARN_FORM,
	  .help = "ARN of the role to assume in each account.",
	  .field = F(assume_role_arn_template), .check = check_template },
	{ .name = "AWS_ASSUME_ROLE_SESSION_DURATION", .type = TYPE_INT,
	  .def = "3600", .min = 900, .max = 43200,
	  .help = "AssumeRole session length in seconds (15 minutes to 12 hours).",
	  .field = F(assume_role_session_duration) },
	{ .name = "AWS_ASSUME_ROLE_EXTERNAL_ID", .type = TYPE_TEXT,
	  .form = "2..1224 characters of A-Z a-z 0-9 _ + = , . @ : / -",
	  .help = "ExternalId sent with every AssumeRole call; never printed.",
	  .flags = ROW_SECRET, .field = F(assume_role_external_id),
	  .check = check_external_id },
	{ .name = "MAX_CONCURRENT_ACCOUNTS", .type = TYPE_INT, .def = "5",
	  .min = 1, .max = 20,
	  .help = "Accounts scanned in parallel, one worker process each.",
	  .field = F(max_concurrent_accounts) },
	{ .name = "ACCOUNT_SCAN_TIMEOUT_SECONDS", .type = TYPE_INT, .def = "120",
	  .min = 30, .max = 600,
	  .help = "A worker still scanning one account after this many seconds "
	  "is killed and the account marked failed.",
	  .field = F(account_scan_timeout_seconds) },
	{ .name = "AWS_REGION", .type = TYPE_TEXT, .def = "us-east-1",
	  .fallback = "AWS_DEFAULT_REGION",
	  .form = "a region name such as us-east-1, eu-central-2 or us-gov-west-1",
	  .help = "Region for STS and the account's own calls; when unset, "
	  "AWS_DEFAULT_REGION is used, as the AWS CLI does.",
	  .field = F(aws_region), .check = check_region },
	{ .name = "POLICY_PATH", .type = TYPE_TEXT, .def_fn = default_policy_path,
	  .def_help = POLICY_LOCAL " if it exists in the working directory, "
	  "else SYSCONFDIR/tagging_policy.json",
	  .form = "a file path without control characters",
	  .help = "Tagging policy (JSON).",
	  .field = F(policy_path), .check = check_path },
	{ .name = "HISTORY_DB_PATH", .type = TYPE_TEXT, .def_fn = default_history_db,
	  .def_help = "$STATE_DIRECTORY/history.db (systemd), else "
	  "$XDG_STATE_HOME/tagwarden/history.db, else "
	  "$HOME/.local/state/tagwarden/history.db",
	  .form = "a file path without control characters",
	  .help = "SQLite database of scan history.",
	  .field = F(history_db_path), .check = check_path },
	{ .name = "ALLOWED_REGIONS", .type = TYPE_REGIONS, .def = "",
	  .form = "comma-separated region names; empty means every enabled region",
	  .help = "Regions a scan may visit.",
	  .field = F(allowed_regions), .check = check_region },
	{ .name = "CACHE_TTL_SECONDS", .type = TYPE_INT, .def = "3600",
	  .min = 0, .max = 604800,
	  .help = "How long scan results are reused, in seconds; 0 disables "
	  "the cache.",
	  .field = F(cache_ttl_seconds) },
	{ .name = "LOG_LEVEL", .type = TYPE_LOGLEVEL, .def = "INFO",
	  .form = "DEBUG, INFO, WARNING or ERROR (any case)",
	  .help = "Least severe level of the log lines written to stderr.",
	  .field = F(log_level) },

	{ .name = "AWS_DEFAULT_REGION", .type = TYPE_TEXT,
	  .form = "a region name such as us-east-1, eu-central-2 or us-gov-west-1",
	  .help = "Used as AWS_REGION when AWS_REGION is unset.",
	  .flags = ROW_EMPTY_UNSET, .check = check_region },
	{ .name = "AWS_PROFILE", .type = TYPE_TEXT,
	  .def_help = "default", .form = "a profile name without control characters",
	  .help = "Profile of the shared config and credentials files.",
	  .flags = ROW_EMPTY_UNSET, .check = check_text },
	{ .name = "AWS_SHARED_CREDENTIALS_FILE", .type = TYPE_TEXT,
	  .def_help = "~/.aws/credentials",
	  .form = "a file path without control characters",
	  .help = "Shared credentials file.",
	  .flags = ROW_EMPTY_UNSET, .check = check_path },
	{ .name = "AWS_CONFIG_FILE", .type = TYPE_TEXT, .def_help = "~/.aws/config",
	  .form = "a file path without control characters",
	  .help = "Shared config file.",
	  .flags = ROW_EMPTY_UNSET, .check = check_path },
	{ .name = "AWS_ENDPOINT_URL", .type = TYPE_TEXT,
	  .def_help = "the AWS endpoint of each service",
	  .form = "an http:// or https:// URL without user, query or fragment",
	  .help = "Endpoint for every service, e.g. a local emulator.",
	  .flags = ROW_EMPTY_UNSET, .check = check_url },
	{ .name = "AWS_ENDPOINT_URL_<SERVICE>", .type = TYPE_DOC,
	  .def_help = "AWS_ENDPOINT_URL",
	  .form = "an http:// or https:// URL without user, query or fragment",
	  .help = "Endpoint for one service, e.g. AWS_ENDPOINT_URL_STS; wins over "
	  "AWS_ENDPOINT_URL. Checked when that service is first called." },
	{ .name = "AWS_CA_BUNDLE", .type = TYPE_TEXT,
	  .def_help = "the system CA store",
	  .form = "a file path without control characters",
	  .help = "PEM file of CA certificates trusted for AWS endpoints.",
	  .flags = ROW_EMPTY_UNSET, .check = check_path },
	{ .name = "AWS_EC2_METADATA_DISABLED", .type = TYPE_TEXT, .def = "false",
	  .form = "true or false (any case)",
	  .help = "true: never ask EC2 instance metadata for credentials.",
	  .flags = ROW_EMPTY_UNSET, .check = check_true_false },
	{ .name = "AWS_ACCESS_KEY_ID", .type = TYPE_TEXT,
	  .form = "1..128 characters of A-Z a-z 0-9 _",
	  .help = "Access key ID of the base credentials, with "
	  "AWS_SECRET_ACCESS_KEY; shown masked.",
	  .flags = ROW_EMPTY_UNSET | ROW_MASKED, .check = check_key_id },
	{ .name = "AWS_SECRET_ACCESS_KEY", .type = TYPE_TEXT,
	  .form = "printable ASCII without spaces",
	  .help = "Secret access key of the base credentials; never printed.",
	  .flags = ROW_EMPTY_UNSET | ROW_SECRET, .check = check_secret },
	{ .name = "AWS_SESSION_TOKEN", .type = TYPE_TEXT,
	  .form = "printable ASCII without spaces",
	  .help = "Session token of temporary base credentials; never printed.",
	  .flags = ROW_EMPTY_UNSET | ROW_SECRET, .check = check_secret },
	{ .name = "AWS_WEB_IDENTITY_TOKEN_FILE", .type = TYPE_TEXT,
	  .form = "a file path without control characters",
	  .help = "OIDC token file exchanged for AWS_ROLE_ARN credentials "
	  "(EKS, CI runners).",
	  .flags = ROW_EMPTY_UNSET, .check = check_path },
	{ .name = "AWS_ROLE_ARN", .type = TYPE_TEXT,
	  .form = "an IAM role ARN " ROLE_ARN_FORM,
	  .help = "Role assumed with AWS_WEB_IDENTITY_TOKEN_FILE.",
	  .flags = ROW_EMPTY_UNSET, .check = check_role_arn },
	{ .name = "AWS_ROLE_SESSION_NAME", .type = TYPE_TEXT,
	  .def_help = "tagwarden-<unix time>",
	  .form = "2..64 characters of A-Z a-z 0-9 _ + = , . @ -",
	  .help = "Session name of the AWS_ROLE_ARN web identity session.",
	  .flags = ROW_EMPTY_UNSET, .check = check_session_name },
	{ .name = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", .type = TYPE_TEXT,
	  .form = "a path such as /v2/credentials/ID, without spaces",
	  .help = "ECS task credentials path on 169.254.170.2.",
	  .flags = ROW_EMPTY_UNSET, .check = check_secret },
	{ .name = "AWS_CONTAINER_CREDENTIALS_FULL_URI", .type = TYPE_TEXT,
	  .form = "an http:// or https:// URL without user, query or fragment",
	  .help = "Container credentials endpoint (EKS Pod Identity).",
	  .flags = ROW_EMPTY_UNSET, .check = check_url },
	{ .name = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", .type = TYPE_TEXT,
	  .form = "a file path without control characters",
	  .help = "File holding the Authorization header value sent to "
	  "AWS_CONTAINER_CREDENTIALS_FULL_URI; wins over the variable below.",
	  .flags = ROW_EMPTY_UNSET, .check = check_path },
	{ .name = "AWS_CONTAINER_AUTHORIZATION_TOKEN", .type = TYPE_TEXT,
	  .form = "one line without control characters",
	  .help = "Authorization header value sent to "
	  "AWS_CONTAINER_CREDENTIALS_FULL_URI; never printed.",
	  .flags = ROW_EMPTY_UNSET | ROW_SECRET, .check = check_text },
};

static const struct config_row *
row_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(rows); i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	fatalx("config: no row %s", name);
}

/* The "must be" phrase of a row, also its help's "Allowed:" text. */
static char *
row_form(const struct config_row *row)
{
	if (row->type == TYPE_INT)
		return xprintf("an integer %lld..%lld", row->min, row->max);
	return xstrdup(row->form);
}

/*
 * A value quoted in an error: at most max bytes, control and non-ASCII
 * bytes as \xNN so a hostile value cannot drive the terminal.
 */
static char *
show_value(const char *s, size_t max)
{
	size_t i, len = strlen(s), n = len < max ? len : max;
	char *out, *p;

	out = p = xmalloc(n * 4 + 4);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			*p++ = (char)c;
		else
			p += sprintf(p, "\\x%02x", c);
	}
	strcpy(p, len > max ? "..." : "");
	return out;
}

static void
load_vreport(struct load *ld, enum config_severity severity, const char *fmt,
    va_list ap)
{
	char *line;

	if (vasprintf(&line, fmt, ap) == -1)
		fatalx("config: out of memory");
	if (severity == CONFIG_ERROR)
		ld->nerrors++;
	if (ld->report != NULL)
		ld->report(ld->arg, severity, line);
	free(line);
}

static void __attribute__((format(printf, 3, 4)))
load_report(struct load *ld, enum config_severity severity, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	load_vreport(ld, severity, fmt, ap);
	va_end(ap);
}

/* "NAME=value: problem", or "NAME: problem" for a secret; returns -1. */
static int __attribute__((format(printf, 4, 5)))
load_problem(struct load *ld, const struct config_row *row, const char *value,
    const char *fmt, ...)
{
	char *problem, *shown;
	va_list ap;

	if (ld->quiet)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&problem, fmt, ap) == -1)
		fatalx("config: out of memory");
	va_end(ap);
	if (row->flags & (ROW_SECRET | ROW_MASKED))
		load_report(ld, CONFIG_ERROR, "%s: %s", row->name, problem);
	else {
		shown = show_value(value, SHOW_MAX);
		load_report(ld, CONFIG_ERROR, "%s=%s: %s", row->name, shown,
		    problem);
		free(shown);
	}
	free(problem);
	return -1;
}

static int
load_invalid(struct load *ld, const struct config_row *row, const char *value,
    const struct errbuf *why)
{
	char *form;
	int rv;

	if (why != NULL && why->msg[0] != '\0')
		return load_problem(ld, row, value, "%s", why->msg);
	form = row_form(row);
	rv = load_problem(ld, row, value, "must be %s", form);
	free(form);
	return rv;
}

static const char *
env_value(struct load *ld, const char *name, int flags)
{
	const char *v;

	v = ld->getenv_fn(name);
	if (v != NULL && v[0] == '\0' && (flags & ROW_EMPTY_UNSET))
		return NULL;
	return v;
}

/* Character classes of the AWS names we check. */
static int
in_class(const char *s, size_t len, const char *punct)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return 0;
		if (!isalnum((unsigned char)s[i]) && strchr(punct, s[i]) == NULL)
			return 0;
	}
	return 1;
}

static int
is_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
role_name_valid(const char *s, size_t len)
{
	return len >= 1 && len <= 64 && in_class(s, len, "+=,.@_-");
}

static int
check_role_name(const char *s, struct errbuf *why)
{
	(void)why;
	return role_name_valid(s, strlen(s)) ? 0 : -1;
}

static int
check_external_id(const char *s, struct errbuf *why)
{
	size_t len = strlen(s);

	(void)why;
	return len >= 2 && len <= 1224 && in_class(s, len, "_+=,.@:/-") ?
	    0 : -1;
}

static int
check_session_name(const char *s, struct errbuf *why)
{
	size_t len = strlen(s);

	(void)why;
	return len >= 2 && len <= 64 && in_class(s, len, "_+=,.@-") ? 0 : -1;
}

static int
check_account_id(const char *s, struct errbuf *why)
{
	size_t len = strlen(s);

	if (len == CONFIG_ACCOUNT_ID_LEN && is_digits(s, len))
		return 0;
	return err_set(why, "must be exactly 12 digits");
}

static int
check_key_id(const char *s, struct errbuf *why)
{
	size_t len = strlen(s);

	(void)why;
	return len >= 1 && len <= 128 && in_class(s, len, "_") ? 0 : -1;
}

/* Visible ASCII only: catches the stray newline of `$(cat file)`. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

static int
check_secret(const char *s, struct errbuf *why)
{
	(void)why;
	return s[0] != '\0' && printable(s) ? 0 : -1;
}

static int
no_controls(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
check_text(const char *s, struct errbuf *why)
{
	(void)why;
	return s[0] != '\0' && no_controls(s) ? 0 : -1;
}

static int
check_path(const char *s, struct errbuf *why)
{
	(void)why;
	return s[0] != '\0' && strlen(s) < PATH_MAX_LEN && no_controls(s) ?
	    0 : -1;
}

static int
check_true_false(const char *s, struct errbuf *why)
{
	(void)why;
	/* Only these two: creds.c reads this variable the way botocore does. */
	return strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0 ?
	    0 : -1;
}

/*
 * Region names as AWS spells them: two letters, one or more words, a
 * number (us-east-1, us-gov-west-1, eu-isoe-west-1, ap-southeast-4).
 */
static int
check_region(const char *s, struct errbuf *why)
{
	const char *p = s, *num;
	size_t words = 0, n;

	if (strlen(s) >= CONFIG_REGION_SIZE || !islower((unsigned char)s[0]) ||
	    !islower((unsigned char)s[1]) || s[2] != '-')
		return err_set(why, "must be a region name such as us-east-1");
	num = strrchr(s, '-') + 1;
	for (p = s + 3; p < num; p += n + 1) {
		for (n = 0; islower((unsigned char)p[n]); n++)
			;
		if (n == 0 || p[n] != '-')
			return err_set(why,
			    "must be a region name such as us-east-1");
		words++;
	}
	n = strlen(num);
	if (words == 0 || n < 1 || n > 2 || num[0] == '0' ||
	    !is_digits(num, n))
		return err_set(why, "must be a region name such as us-east-1");
	return 0;
}

static int
partition_valid(const char *s, size_t len)
{
	static const char *const partitions[] = { "aws", "aws-cn", "aws-us-gov" };
	size_t i;

	for (i = 0; i < nitems(partitions); i++)
		if (strlen(partitions[i]) == len &&
		    strncmp(s, partitions[i], len) == 0)
			return 1;
	return 0;
}

/* arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME; the path is 0x21..0x7e. */
static int
role_arn_valid(const char *s)
{
	const char *p, *name;
	size_t i;

	if (strncmp(s, "arn:", 4) != 0 || (p = strchr(s + 4, ':')) == NULL ||
	    !partition_valid(s + 4, (size_t)(p - s - 4)))
		return 0;
	p++;
	if (strncmp(p, "iam::", 5) != 0 || strlen(p + 5) < 12 ||
	    !is_digits(p + 5, 12) || strncmp(p + 17, ":role/", 6) != 0)
		return 0;
	p += 23;
	name = strrchr(p, '/') != NULL ? strrchr(p, '/') + 1 : p;
	if (name - p > 511)
		return 0;
	for (i = 0; p + i < name; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
	return role_name_valid(name, strlen(name));
}

static int
check_role_arn(const char *s, struct errbuf *why)
{
	(void)why;
	return role_arn_valid(s) ? 0 : -1;
}

static int
check_url(const char *s, struct errbuf *why)
{
	static const CURLUPart absent[] = {
		CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_QUERY,
		CURLUPART_FRAGMENT
	};
	CURLU *u;
	char *part = NULL;
	size_t i;
	int ok;

	(void)why;
	if ((u = curl_url()) == NULL)
		fatalx("config: out of memory");
	/* libcurl's parser, so the URL means here what it means to http.c. */
	ok = curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &part, 0) == CURLUE_OK &&
	    (strcmp(part, "http") == 0 || strcmp(part, "https") == 0);
	curl_free(part);
	for (i = 0; ok && i < nitems(absent); i++) {
		part = NULL;
		if (curl_url_get(u, absent[i], &part, 0) == CURLUE_OK)
			ok = 0;
		curl_free(part);
	}
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

/* Placeholders a role ARN template may use, and what replaces them. */
static const char *const placeholders[] = { "{account_id}", "{role_name}" };

static int
placeholder_find(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < nitems(placeholders); i++)
		if (strlen(placeholders[i]) == len &&
		    strncmp(p, placeholders[i], len) == 0)
			return (int)i;
	return -1;
}

/*
 * Only the structure; whether the expansion is a role ARN is checked once
 * every row is loaded (rule_role_arn), with the effective role name.
 */
static int
check_template(const char *s, struct errbuf *why)
{
	const char *p, *end;
	char *inner, *shown;
	int found = 0, which;

	for (p = s; *p != '\0'; p++) {
		if (*p == '}')
			return err_set(why, "must not have \"}\" without \"{\" "
			    "(character %zu)", (size_t)(p - s) + 1);
		if (*p != '{')
			continue;
		end = p + 1 + strcspn(p + 1, "{}");
		if (*end != '}')
			return err_set(why, "must close the \"{\" at character "
			    "%zu with \"}\"", (size_t)(p - s) + 1);
		if ((which = placeholder_find(p, (size_t)(end - p) + 1)) == -1) {
			inner = xstrndup(p, (size_t)(end - p) + 1);
			shown = show_value(inner, SHOW_MAX);
			err_set(why, "must use only the placeholders {account_id} "
			    "and {role_name}, not %s", shown);
			free(shown);
			free(inner);
			return -1;
		}
		found |= which == 0;
		p = end;
	}
	if (!found)
		return err_set(why, "must contain {account_id}, or every account "
		    "would assume the same role");
	return 0;
}

/* Expand a structurally valid template; unknown text is copied. */
static char *
template_expand(const char *tmpl, const char *account, const char *role)
{
	const char *values[nitems(placeholders)] = { account, role };
	size_t i, len = strlen(tmpl) + 1;
	const char *p;
	char *out, *o;

	for (p = tmpl; (p = strchr(p, '{')) != NULL; p++)
		len += strlen(account) + strlen(role);
	out = o = xmalloc(len);
	for (p = tmpl; *p != '\0';) {
		for (i = 0; i < nitems(placeholders); i++)
			if (strncmp(p, placeholders[i],
			    strlen(placeholders[i])) == 0)
				break;
		if (i == nitems(placeholders)) {
			*o++ = *p++;
			continue;
		}
		o = stpcpy(o, values[i]);
		p += strlen(placeholders[i]);
	}
	*o = '\0';
	return out;
}

char *
config_role_arn(const struct config *cfg, const char *account_id)
{
	return template_expand(cfg->assume_role_arn_template, account_id,
	    cfg->assume_role_name);
}

static char *
default_policy_path(struct load *ld)
{
	(void)ld;
	/* A checkout runs with its own policy; an installed copy with sysconfdir's. */
	if (access(POLICY_LOCAL, F_OK) == 0)
		return xstrdup(POLICY_LOCAL);
	return xstrdup(SYSCONFDIR "/tagging_policy.json");
}

static char *
default_history_db(struct load *ld)
{
	const char *dir;
	size_t len;

	/* systemd joins several StateDirectory= entries with ':'; ours is first. */
	dir = env_value(ld, "STATE_DIRECTORY", ROW_EMPTY_UNSET);
	if (dir != NULL && (len = strcspn(dir, ":")) > 0)
		return xprintf("%.*s/history.db", (int)len, dir);
	/* The XDG base directory spec says to ignore a relative value. */
	dir = env_value(ld, "XDG_STATE_HOME", ROW_EMPTY_UNSET);
	if (dir != NULL && dir[0] == '/')
		return xprintf("%s/tagwarden/history.db", dir);
	dir = env_value(ld, "HOME", ROW_EMPTY_UNSET);
	if (dir != NULL)
		return xprintf("%s/.local/state/tagwarden/history.db", dir);
	return NULL;
}

/* Type rows: how each kind of value is parsed into and shown from cfg. */

static int
parse_bool(struct load *ld, const struct config_row *row, const char *value)
{
	/* The words pydantic accepted, so existing deployments keep working. */
	static const struct {
		const char	*word;
		int		 value;
	} words[] = {
		{ "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 },
		{ "yes", 1 }, { "no", 0 }, { "on", 1 }, { "off", 0 },
	};
	size_t i;

	for (i = 0; i < nitems(words); i++) {
		if (strcasecmp(value, words[i].word) == 0) {
			*FIELD(ld->cfg, row, int) = words[i].value;
			return 0;
		}
	}
	return load_invalid(ld, row, value, NULL);
}

static char *
show_bool(const struct config_row *row, const struct config *cfg)
{
	return xstrdup(*CFIELD(cfg, row, int) ? "true" : "false");
}

static int
parse_int(struct load *ld, const struct config_row *row, const char *value)
{
	const char *errstr;
	long long v;

	v = strnum(value, row->min, row->max, &errstr);
	if (errstr != NULL)
		return load_invalid(ld, row, value, NULL);
	*FIELD(ld->cfg, row, int) = (int)v;
	return 0;
}

static char *
show_int(const struct config_row *row, const struct config *cfg)
{
	return xprintf("%d", *CFIELD(cfg, row, int));
}

static int
parse_text(struct load *ld, const struct config_row *row, const char *value)
{
	struct errbuf why;
	char **field;

	err_clear(&why);
	if (row->check != NULL && row->check(value, &why) == -1)
		return load_invalid(ld, row, value, &why);
	if (row->field == 0)
		return 0;
	field = FIELD(ld->cfg, row, char *);
	free(*field);
	*field = xstrdup(value);
	return 0;
}

static char *
show_text(const struct config_row *row, const struct config *cfg)
{
	const char *v = *CFIELD(cfg, row, char *);

	return show_value(v != NULL ? v : "(unset)", PATH_MAX_LEN);
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Index of item among the n accepted so far, or -1. */
static long
list_find(const char *arr, size_t n, size_t size, const char *item)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(arr + i * size, item) == 0)
			return (long)i;
	return -1;
}

static int
list_entry(struct load *ld, const struct config_row *row, const char *value,
    size_t pos, const char *item, const char *problem)
{
	char *shown;

	shown = show_value(item, SHOW_MAX);
	load_problem(ld, row, value, "entry %zu \"%s\" %s", pos, shown, problem);
	free(shown);
	return -1;
}

/*
 * A comma list into an array of n strings of size bytes each. Positions in
 * errors count every comma-separated field, empty ones too, so they match
 * what the user typed.
 */
static int
parse_list(struct load *ld, const struct config_row *row, const char *value,
    size_t size, char **out, size_t *nout)
{
	char *copy, *rest, *item, *arr = NULL, problem[64];
	size_t pos = 0, n = 0, *where = NULL;
	struct errbuf why;
	long dup;
	int rv = 0;

	rest = copy = xstrdup(value);
	while ((item = strsep(&rest, ",")) != NULL) {
		pos++;
		if (*(item = trim(item)) == '\0')
			continue;
		err_clear(&why);
		if (row->check(item, &why) == -1) {
			rv = list_entry(ld, row, value, pos, item, why.msg);
			continue;
		}
		if ((dup = list_find(arr, n, size, item)) != -1) {
			snprintf(problem, sizeof(problem),
			    "must not repeat entry %zu", where[dup]);
			rv = list_entry(ld, row, value, pos, item, problem);
			continue;
		}
		arr = xreallocarray(arr, n + 1, size);
		where = xreallocarray(where, n + 1, sizeof(*where));
		snprintf(arr + n * size, size, "%s", item);
		where[n++] = pos;
	}
	free(copy);
	free(where);
	if (rv == -1) {
		free(arr);
		return -1;
	}
	*out = arr;
	*nout = n;
	return 0;
}

static int
parse_accounts(struct load *ld, const struct config_row *row,
    const char *value)
{
	struct config *cfg = ld->cfg;
	char *arr;
	size_t n;

	if (parse_list(ld, row, value, sizeof(cfg->account_ids[0]), &arr,
	    &n) == -1)
		return -1;
	free(cfg->account_ids);
	cfg->account_ids = (char (*)[CONFIG_ACCOUNT_ID_LEN + 1])(void *)arr;
	cfg->naccount_ids = n;
	return 0;
}

static int
parse_regions(struct load *ld, const struct config_row *row,
    const char *value)
{
	struct config *cfg = ld->cfg;
	char *arr;
	size_t n;

	if (parse_list(ld, row, value, sizeof(cfg->allowed_regions[0]), &arr,
	    &n) == -1)
		return -1;
	free(cfg->allowed_regions);
	cfg->allowed_regions = (char (*)[CONFIG_REGION_SIZE])(void *)arr;
	cfg->nallowed_regions = n;
	return 0;
}

static char *
show_list(const char *arr, size_t n, size_t size)
{
	char *out, *o;
	size_t i;

	if (n == 0)
		return xstrdup("\"\"");
	out = o = xmalloc(n * size + 1);
	for (i = 0; i < n; i++)
		o += sprintf(o, "%s%s", i > 0 ? "," : "", arr + i * size);
	return out;
}

static char *
show_accounts(const struct config_row *row, const struct config *cfg)
{
	(void)row;
	return show_list((const char *)cfg->account_ids, cfg->naccount_ids,
	    sizeof(cfg->account_ids[0]));
}

static char *
show_regions(const struct config_row *row, const struct config *cfg)
{
	(void)row;
	return show_list((const char *)cfg->allowed_regions,
	    cfg->nallowed_regions, sizeof(cfg->allowed_regions[0]));
}

static int
parse_loglevel(struct load *ld, const struct config_row *row,
    const char *value)
{
	enum log_level level;

	if (log_level_parse(value, &level) == -1)
		return load_invalid(ld, row, value, NULL);
	*FIELD(ld->cfg, row, enum log_level) = level;
	return 0;
}

static char *
show_loglevel(const struct config_row *row, const struct config *cfg)
{
	return xstrdup(log_level_name(*CFIELD(cfg, row, enum log_level)));
}

static const struct {
	int	(*parse)(struct load *, const struct config_row *, const char *);
	char	*(*show)(const struct config_row *, const struct config *);
} types[] = {
	[TYPE_BOOL] = { parse_bool, show_bool },
	[TYPE_INT] = { parse_int, show_int },
	[TYPE_TEXT] = { parse_text, show_text },
	[TYPE_ACCOUNTS] = { parse_accounts, show_accounts },
	[TYPE_REGIONS] = { parse_regions, show_regions },
	[TYPE_LOGLEVEL] = { parse_loglevel, show_loglevel },
	[TYPE_DOC] = { NULL, NULL },
};

static int
parse_quiet(struct load *ld, const struct config_row *row, const char *value)
{
	int rv;

	ld->quiet++;
	rv = types[row->type].parse(ld, row, value);
	ld->quiet--;
	return rv;
}

/* What check-config prints for a row; raw is the value read, or NULL. */
static char *
row_shown(const struct config *cfg, const struct config_row *row,
    const char *raw)
{
	char *tail, *shown;
	size_t len;

	if (row->flags & ROW_SECRET)
		return xstrdup(raw != NULL ? "(set)" : "(unset)");
	if (row->flags & ROW_MASKED) {
		if (raw == NULL)
			return xstrdup("(unset)");
		/* Too short to show a tail without showing most of it. */
		if ((len = strlen(raw)) < 8)
			return xstrdup("(set)");
		tail = show_value(raw + len - 4, 4);
		shown = xprintf("****%s", tail);
		free(tail);
		return shown;
	}
	if (row->field != 0)
		return types[row->type].show(row, cfg);
	return show_value(raw != NULL ? raw : "(unset)", PATH_MAX_LEN);
}

/* The value in effect when the row's own variable is unset. */
static const char *
load_unset(struct load *ld, const struct config_row *row, const char *def,
    struct config_entry *e)
{
	const char *v;

	if (row->fallback != NULL &&
	    (v = env_value(ld, row->fallback, ROW_EMPTY_UNSET)) != NULL &&
	    parse_quiet(ld, row, v) == 0) {
		/* A bad fallback is reported by the fallback's own row. */
		e->source = SOURCE_FALLBACK;
		return v;
	}
	if (def == NULL && row->def_fn != NULL)
		load_report(ld, CONFIG_ERROR, "%s: must be set, since its "
		    "default (%s) cannot be worked out here", row->name,
		    row->def_help);
	return def;
}

static void
load_row(struct load *ld, const struct config_row *row, struct config_entry *e)
{
	const char *value;
	char *def = NULL;

	if (row->type == TYPE_DOC)
		return;
	if (row->def_fn != NULL)
		def = row->def_fn(ld);
	else if (row->def != NULL)
		def = xstrdup(row->def);
	/* Default first, so a row whose value fails keeps a usable one. */
	if (def != NULL && row->field != 0)
		parse_quiet(ld, row, def);
	e->source = SOURCE_DEFAULT;
	if ((value = env_value(ld, row->name, row->flags)) != NULL) {
		e->source = SOURCE_ENV;
		types[row->type].parse(ld, row, value);
	} else
		value = load_unset(ld, row, def, e);
	e->shown = row_shown(ld->cfg, row, value);
	free(def);
}

/* Cross-field rules, run once every row is loaded. */

static void
rule_role_arn(struct load *ld)
{
	const struct config *cfg = ld->cfg;
	char *arn, *shown;

	arn = config_role_arn(cfg, SAMPLE_ACCOUNT);
	if (!role_arn_valid(arn)) {
		shown = show_value(arn, SHOW_MAX);
		load_problem(ld, row_find("AWS_ASSUME_ROLE_ARN_TEMPLATE"),
		    cfg->assume_role_arn_template, "must expand to an IAM role "
		    "ARN, " ROLE_ARN_FORM "; for account " SAMPLE_ACCOUNT
		    " it gives \"%s\"", shown);
		free(shown);
	}
	free(arn);
}

static void
rule_accounts_ignored(struct load *ld)
{
	if (!ld->cfg->multi_account_enabled && ld->cfg->naccount_ids > 0)
		load_report(ld, CONFIG_WARNING, "AWS_ACCOUNT_IDS is set but "
		    "ignored until MULTI_ACCOUNT_ENABLED=true");
}

/*
 * Variables that mean something only with another; the severities follow
 * what creds.c does with the half it gets (fail, or ignore).
 */
static void
rule_pairs(struct load *ld)
{
	static const struct {
		const char	*set, *missing;
		enum config_severity severity;
		const char	*consequence;
	} pairs[] = {
		{ "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", CONFIG_ERROR,
		  "must set both or neither" },
		{ "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", CONFIG_ERROR,
		  "must set both or neither" },
		{ "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", CONFIG_ERROR,
		  "must also set the ARN of the role to assume" },
		{ "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", CONFIG_WARNING,
		  "AWS_ROLE_ARN is ignored" },
	};
	size_t i;

	for (i = 0; i < nitems(pairs); i++)
		if (env_value(ld, pairs[i].set, ROW_EMPTY_UNSET) != NULL &&
		    env_value(ld, pairs[i].missing, ROW_EMPTY_UNSET) == NULL)
			load_report(ld, pairs[i].severity, "%s is set without "
			    "%s: %s", pairs[i].set, pairs[i].missing,
			    pairs[i].consequence);
}

static void (*const rules[])(struct load *) = {
	rule_role_arn,
	rule_accounts_ignored,
	rule_pairs,
};

const char *
config_getenv(const char *name)
{
	return getenv(name);
}

int
config_load(struct config *cfg, const char *(*getenv_fn)(const char *),
    void (*report)(void *, enum config_severity, const char *), void *arg)
{
	struct load ld;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->entries = xcalloc(nitems(rows), sizeof(*cfg->entries));
	memset(&ld, 0, sizeof(ld));
	ld.cfg = cfg;
	ld.getenv_fn = getenv_fn;
	ld.report = report;
	ld.arg = arg;
	for (i = 0; i < nitems(rows); i++)
		load_row(&ld, &rows[i], &cfg->entries[i]);
	for (i = 0; i < nitems(rules); i++)
		rules[i](&ld);
	return ld.nerrors > 0 ? -1 : 0;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	if (cfg->entries != NULL)
		for (i = 0; i < nitems(rows); i++)
			free(cfg->entries[i].shown);
	free(cfg->entries);
	free(cfg->account_ids);
	free(cfg->assume_role_name);
	free(cfg->assume_role_arn_template);
	free(cfg->assume_role_external_id);
	free(cfg->aws_region);
	free(cfg->policy_path);
	free(cfg->history_db_path);
	free(cfg->allowed_regions);
	memset(cfg, 0, sizeof(*cfg));
}

void
config_dump(const struct config *cfg, FILE *fp)
{
	const struct config_entry *e;
	size_t i;

	for (i = 0; i < nitems(rows); i++) {
		if (rows[i].type == TYPE_DOC)
			continue;
		e = &cfg->entries[i];
		fprintf(fp, "%s=%s (source: %s)\n", rows[i].name, e->shown,
		    e->source == SOURCE_ENV ? "environment" :
		    e->source == SOURCE_FALLBACK ? rows[i].fallback : "default");
	}
}

/* Help: the same rows as text for --help, or a Markdown table. */

static char *
row_default_help(const struct config_row *row, int markdown)
{
	if (row->def_help != NULL)
		return xstrdup(row->def_help);
	if (row->def == NULL)
		return xstrdup("unset");
	if (row->def[0] == '\0')
		return xstrdup(markdown ? "`\"\"`" : "\"\"");
	return markdown ? xprintf("`%s`", row->def) : xstrdup(row->def);
}

/* A table cell: pipes would end the cell, angle brackets start HTML. */
static void
md_cell(FILE *fp, const char *s, int code)
{
	fputs(" ", fp);
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", fp);
		else if (*s == '<' && !code)
			fputs("&lt;", fp);
		else if (*s == '>' && !code)
			fputs("&gt;", fp);
		else
			fputc(*s, fp);
	}
	fputs(" |", fp);
}

static void
help_row(FILE *fp, const struct config_row *row, enum config_help_format fmt)
{
	char *def, *form, *name;
	int md = fmt == CONFIG_HELP_MARKDOWN;

	def = row_default_help(row, md);
	form = row_form(row);
	if (md) {
		name = xprintf("`%s`", row->name);
		fputs("|", fp);
		md_cell(fp, name, 1);
		md_cell(fp, def, row->def_help == NULL);
		md_cell(fp, form, 0);
		md_cell(fp, row->help, 0);
		fputs("\n", fp);
		free(name);
	} else
		fprintf(fp, "  %s\n      %s\n      Default: %s\n"
		    "      Allowed: %s\n", row->name, row->help, def, form);
	free(form);
	free(def);
}

void
config_help(FILE *fp, enum config_help_format fmt)
{
	size_t i;

	if (fmt == CONFIG_HELP_MARKDOWN)
		fputs("| Variable | Default | Allowed | Meaning |\n"
		    "| --- | --- | --- | --- |\n", fp);
	for (i = 0; i < nitems(rows); i++)
		help_row(fp, &rows[i], fmt);
}
