/*
 * config owns the environment variable table and loading it: one row per
 * variable (name, type, default, range or form, help), and config_load(),
 * which fills struct config and reports every problem as one line naming
 * the variable, the value and what it must be. A new variable is a new row
 * in config_rows[]; a new kind of value is a check (config-check.c) or a
 * type row (config-types.c). Help and the dump are config-help.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config-internal.h"
#include "errbuf.h"
#include "log.h"
#include "xmalloc.h"

#define SAMPLE_ACCOUNT	"123456789012"
#define POLICY_LOCAL	"policies/tagging_policy.json"

#define ROW_SECRET	0x01	/* never shown: "(set)" or "(unset)" */
#define ROW_MASKED	0x02	/* shown as "****" plus the last 4 characters */
#define ROW_EMPTY_UNSET	0x04	/* "" means unset, as botocore reads these */

#define F(member)	offsetof(struct config, member)

static char	*default_policy_path(struct config_loader *);
static char	*default_history_db(struct config_loader *);

#define ROLE_ARN_FORM "arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME " \
	"with PARTITION aws, aws-cn or aws-us-gov"

/*
 * The contract (DESIGN.md section 4 and the product plan), then the
 * standard AWS variables we honour. Order is the order of errors, of
 * check-config lines and of the help.
 */
const struct config_row config_rows[] = {
	{ .name = "MULTI_ACCOUNT_ENABLED", .type = CONFIG_TYPE_BOOL,
	  .def = "false",
	  .form = "true or false (1/0, yes/no, on/off also accepted, any case)",
	  .help = "Scan the accounts in AWS_ACCOUNT_IDS through STS "
	  "AssumeRole.",
	  .field = F(multi_account_enabled) },
	{ .name = "AWS_ACCOUNT_IDS", .type = CONFIG_TYPE_ACCOUNTS, .def = "",
	  .form = "comma-separated 12-digit account IDs",
	  .help = "Accounts to scan when MULTI_ACCOUNT_ENABLED=true; blanks "
	  "around IDs and empty entries are ignored.",
	  .field = F(account_ids), .check = config_check_account_id },
	{ .name = "AWS_ASSUME_ROLE_NAME", .type = CONFIG_TYPE_TEXT,
	  .def = "FinOpsTagComplianceReadOnly",
	  .form = "an IAM role name: 1..64 characters of A-Z a-z 0-9 + = , "
	  ". @ _ -",
	  .help = "Role assumed in each target account.",
	  .field = F(assume_role_name), .check = config_check_role_name },
	{ .name = "AWS_ASSUME_ROLE_ARN_TEMPLATE", .type = CONFIG_TYPE_TEXT,
	  .def = "arn:aws:iam::{account_id}:role/{role_name}",
	  .form = "a template with {account_id} and optionally {role_name} "
	  "that expands to " ROLE_ARN_FORM,
	  .help = "ARN of the role to assume in each account.",
	  .field = F(assume_role_arn_template),
	  .check = config_check_template },
	{ .name = "AWS_ASSUME_ROLE_SESSION_DURATION", .type = CONFIG_TYPE_INT,
	  .def = "3600", .min = 900, .max = 43200,
	  .help = "AssumeRole session length in seconds (15 minutes to 12 "
	  "hours).",
	  .field = F(assume_role_session_duration) },
	{ .name = "AWS_ASSUME_ROLE_EXTERNAL_ID", .type = CONFIG_TYPE_TEXT,
	  .form = "2..1224 characters of A-Z a-z 0-9 _ + = , . @ : / -",
	  .help = "ExternalId sent with every AssumeRole call; never printed.",
	  .flags = ROW_SECRET, .field = F(assume_role_external_id),
	  .check = config_check_external_id },
	{ .name = "MAX_CONCURRENT_ACCOUNTS", .type = CONFIG_TYPE_INT,
	  .def = "5", .min = 1, .max = 20,
	  .help = "Accounts scanned in parallel, one worker process each.",
	  .field = F(max_concurrent_accounts) },
	{ .name = "ACCOUNT_SCAN_TIMEOUT_SECONDS", .type = CONFIG_TYPE_INT,
	  .def = "120", .min = 30, .max = 600,
	  .help = "A worker still scanning one account after this many seconds "
	  "is killed and the account marked failed.",
	  .field = F(account_scan_timeout_seconds) },
	{ .name = "AWS_REGION", .type = CONFIG_TYPE_TEXT, .def = "us-east-1",
	  .fallback = "AWS_DEFAULT_REGION",
	  .form = "a region name such as us-east-1, eu-central-2 or "
	  "us-gov-west-1",
	  .help = "Region for STS and the account's own calls; when unset, "
	  "AWS_DEFAULT_REGION is used, as the AWS CLI does.",
	  .field = F(aws_region), .check = config_check_region },
	{ .name = "POLICY_PATH", .type = CONFIG_TYPE_TEXT,
	  .def_fn = default_policy_path,
	  .def_help = POLICY_LOCAL " if it exists in the working directory, "
	  "else SYSCONFDIR/tagging_policy.json",
	  .form = "a file path without control characters",
	  .help = "Tagging policy (JSON).",
	  .field = F(policy_path), .check = config_check_path },
	{ .name = "HISTORY_DB_PATH", .type = CONFIG_TYPE_TEXT,
	  .def_fn = default_history_db,
	  .def_help = "$STATE_DIRECTORY/history.db (systemd), else "
	  "$XDG_STATE_HOME/tagwarden/history.db, else "
	  "$HOME/.local/state/tagwarden/history.db",
	  .form = "a file path without control characters",
	  .help = "SQLite database of scan history.",
	  .field = F(history_db_path), .check = config_check_path },
	{ .name = "ALLOWED_REGIONS", .type = CONFIG_TYPE_REGIONS, .def = "",
	  .form = "comma-separated region names; empty means every enabled "
	  "region",
	  .help = "Regions a scan may visit.",
	  .field = F(allowed_regions), .check = config_check_region },
	{ .name = "CACHE_TTL_SECONDS", .type = CONFIG_TYPE_INT, .def = "3600",
	  .min = 0, .max = 604800,
	  .help = "How long scan results are reused, in seconds; 0 disables "
	  "the cache.",
	  .field = F(cache_ttl_seconds) },
	{ .name = "COST_EXPLORER_ENABLED", .type = CONFIG_TYPE_BOOL,
	  .def = "true",
	  .form = "true or false (1/0, yes/no, on/off also accepted, any case)",
	  .help = "Ask Cost Explorer what non-compliant resources cost "
	  "(cost_attribution_gap); each request costs $0.01, answers are "
	  "cached for the UTC day.",
	  .field = F(cost_explorer_enabled) },
	{ .name = "COST_EXPLORER_ACCOUNT_ID", .type = CONFIG_TYPE_TEXT,
	  .def_help = "each scanned account asks for its own costs",
	  .form = "a 12-digit account ID",
	  .help = "The payer or delegated account whose credentials ask Cost "
	  "Explorer for every scanned account (assumed like a scanned "
	  "account unless it is the local one).",
	  .flags = ROW_EMPTY_UNSET, .field = F(cost_explorer_account_id),
	  .check = config_check_account_id },
	{ .name = "COST_METRIC", .type = CONFIG_TYPE_TEXT,
	  .def = "UnblendedCost",
	  .form = "UnblendedCost or AmortizedCost",
	  .help = "Cost Explorer metric the gap is measured in.",
	  .field = F(cost_metric), .check = config_check_cost_metric },
	{ .name = "LOG_LEVEL", .type = CONFIG_TYPE_LOGLEVEL, .def = "INFO",
	  .form = "DEBUG, INFO, WARNING or ERROR (any case)",
	  .help = "Least severe level of the log lines written to stderr.",
	  .field = F(log_level) },

	{ .name = "AWS_DEFAULT_REGION", .type = CONFIG_TYPE_TEXT,
	  .form = "a region name such as us-east-1, eu-central-2 or "
	  "us-gov-west-1",
	  .help = "Used as AWS_REGION when AWS_REGION is unset.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_region },
	{ .name = "AWS_PROFILE", .type = CONFIG_TYPE_TEXT,
	  .def_help = "default",
	  .form = "a profile name without control characters",
	  .help = "Profile of the shared config and credentials files.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_text },
	{ .name = "AWS_SHARED_CREDENTIALS_FILE", .type = CONFIG_TYPE_TEXT,
	  .def_help = "~/.aws/credentials",
	  .form = "a file path without control characters",
	  .help = "Shared credentials file.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_path },
	{ .name = "AWS_CONFIG_FILE", .type = CONFIG_TYPE_TEXT,
	  .def_help = "~/.aws/config",
	  .form = "a file path without control characters",
	  .help = "Shared config file.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_path },
	{ .name = "AWS_ENDPOINT_URL", .type = CONFIG_TYPE_TEXT,
	  .def_help = "the AWS endpoint of each service",
	  .form = "an http:// or https:// URL without user, query or fragment",
	  .help = "Endpoint for every service, e.g. a local emulator.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_url },
	{ .name = "AWS_ENDPOINT_URL_<SERVICE>", .type = CONFIG_TYPE_DOC,
	  .def_help = "AWS_ENDPOINT_URL",
	  .form = "an http:// or https:// URL without user, query or fragment",
	  .help = "Endpoint for one service, e.g. AWS_ENDPOINT_URL_STS; wins "
	  "over AWS_ENDPOINT_URL. Checked when that service is first called." },
	{ .name = "AWS_CA_BUNDLE", .type = CONFIG_TYPE_TEXT,
	  .def_help = "the system CA store",
	  .form = "a file path without control characters",
	  .help = "PEM file of CA certificates trusted for AWS endpoints.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_path },
	{ .name = "AWS_EC2_METADATA_DISABLED", .type = CONFIG_TYPE_TEXT,
	  .def = "false",
	  .form = "true or false (any case)",
	  .help = "true: never ask EC2 instance metadata for credentials.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_true_false },
	{ .name = "AWS_ACCESS_KEY_ID", .type = CONFIG_TYPE_TEXT,
	  .form = "1..128 characters of A-Z a-z 0-9 _",
	  .help = "Access key ID of the base credentials, with "
	  "AWS_SECRET_ACCESS_KEY; shown masked.",
	  .flags = ROW_EMPTY_UNSET | ROW_MASKED, .check = config_check_key_id },
	{ .name = "AWS_SECRET_ACCESS_KEY", .type = CONFIG_TYPE_TEXT,
	  .form = "printable ASCII without spaces",
	  .help = "Secret access key of the base credentials; never printed.",
	  .flags = ROW_EMPTY_UNSET | ROW_SECRET, .check = config_check_secret },
	{ .name = "AWS_SESSION_TOKEN", .type = CONFIG_TYPE_TEXT,
	  .form = "printable ASCII without spaces",
	  .help = "Session token of temporary base credentials; never printed.",
	  .flags = ROW_EMPTY_UNSET | ROW_SECRET, .check = config_check_secret },
	{ .name = "AWS_WEB_IDENTITY_TOKEN_FILE", .type = CONFIG_TYPE_TEXT,
	  .form = "a file path without control characters",
	  .help = "OIDC token file exchanged for AWS_ROLE_ARN credentials "
	  "(EKS, CI runners).",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_path },
	{ .name = "AWS_ROLE_ARN", .type = CONFIG_TYPE_TEXT,
	  .form = "an IAM role ARN " ROLE_ARN_FORM,
	  .help = "Role assumed with AWS_WEB_IDENTITY_TOKEN_FILE.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_role_arn },
	{ .name = "AWS_ROLE_SESSION_NAME", .type = CONFIG_TYPE_TEXT,
	  .def_help = "tagwarden-<unix time>",
	  .form = "2..64 characters of A-Z a-z 0-9 _ + = , . @ -",
	  .help = "Session name of the AWS_ROLE_ARN web identity session.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_session_name },
	{ .name = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	  .type = CONFIG_TYPE_TEXT,
	  .form = "a path such as /v2/credentials/ID, without spaces",
	  .help = "ECS task credentials path on 169.254.170.2.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_secret },
	{ .name = "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	  .type = CONFIG_TYPE_TEXT,
	  .form = "an http:// or https:// URL without user, query or fragment",
	  .help = "Container credentials endpoint (EKS Pod Identity).",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_url },
	{ .name = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	  .type = CONFIG_TYPE_TEXT,
	  .form = "a file path without control characters",
	  .help = "File holding the Authorization header value sent to "
	  "AWS_CONTAINER_CREDENTIALS_FULL_URI; wins over the variable below.",
	  .flags = ROW_EMPTY_UNSET, .check = config_check_path },
	{ .name = "AWS_CONTAINER_AUTHORIZATION_TOKEN", .type = CONFIG_TYPE_TEXT,
	  .form = "one line without control characters",
	  .help = "Authorization header value sent to "
	  "AWS_CONTAINER_CREDENTIALS_FULL_URI; never printed.",
	  .flags = ROW_EMPTY_UNSET | ROW_SECRET, .check = config_check_text },
};

const size_t config_nrows = CONFIG_NITEMS(config_rows);

static const struct config_row *
row_find(const char *name)
{
	size_t i;

	for (i = 0; i < config_nrows; i++)
		if (strcmp(config_rows[i].name, name) == 0)
			return &config_rows[i];
	fatalx("config: no row %s", name);
}

/* The "must be" phrase of a row, also its help's "Allowed:" text. */
char *
config_row_form(const struct config_row *row)
{
	if (row->type == CONFIG_TYPE_INT)
		return xprintf("an integer %lld..%lld", row->min, row->max);
	return xstrdup(row->form);
}

/*
 * A value quoted in an error: at most max bytes, control and non-ASCII
 * bytes as \xNN so a hostile value cannot drive the terminal.
 */
char *
config_show_value(const char *s, size_t max)
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
load_vreport(struct config_loader *ld, enum config_severity severity,
    const char *fmt, va_list ap)
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
load_report(struct config_loader *ld, enum config_severity severity,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	load_vreport(ld, severity, fmt, ap);
	va_end(ap);
}

/* "NAME=value: problem", or "NAME: problem" for a secret; returns -1. */
int
config_load_problem(struct config_loader *ld, const struct config_row *row,
    const char *value, const char *fmt, ...)
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
		shown = config_show_value(value, CONFIG_SHOW_MAX);
		load_report(ld, CONFIG_ERROR, "%s=%s: %s", row->name, shown,
		    problem);
		free(shown);
	}
	free(problem);
	return -1;
}

int
config_load_invalid(struct config_loader *ld, const struct config_row *row,
    const char *value, const struct errbuf *why)
{
	char *form;
	int rv;

	if (why != NULL && why->msg[0] != '\0')
		return config_load_problem(ld, row, value, "%s", why->msg);
	form = config_row_form(row);
	rv = config_load_problem(ld, row, value, "must be %s", form);
	free(form);
	return rv;
}

static const char *
env_value(struct config_loader *ld, const char *name, int flags)
{
	const char *v;

	v = ld->getenv_fn(name);
	if (v != NULL && v[0] == '\0' && (flags & ROW_EMPTY_UNSET))
		return NULL;
	return v;
}

static char *
default_policy_path(struct config_loader *ld)
{
	(void)ld;
	/* A checkout runs with its own policy, an installed copy sysconfdir's. */
	if (access(POLICY_LOCAL, F_OK) == 0)
		return xstrdup(POLICY_LOCAL);
	return xstrdup(SYSCONFDIR "/tagging_policy.json");
}

static char *
default_history_db(struct config_loader *ld)
{
	const char *dir;
	size_t len;

	/* systemd joins StateDirectory= entries with ':'; ours is first. */
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

/* Loading. */

static int
parse_quiet(struct config_loader *ld, const struct config_row *row,
    const char *value)
{
	int rv;

	ld->quiet++;
	rv = config_type_parse(ld, row, value);
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
		tail = config_show_value(raw + len - 4, 4);
		shown = xprintf("****%s", tail);
		free(tail);
		return shown;
	}
	if (row->field != 0)
		return config_type_show(row, cfg);
	return config_show_value(raw != NULL ? raw : "(unset)",
	    CONFIG_PATH_MAX);
}

/* The value in effect when the row's own variable is unset. */
static const char *
load_unset(struct config_loader *ld, const struct config_row *row,
    const char *def, struct config_entry *e)
{
	const char *v;

	if (row->fallback != NULL &&
	    (v = env_value(ld, row->fallback, ROW_EMPTY_UNSET)) != NULL &&
	    parse_quiet(ld, row, v) == 0) {
		/* A bad fallback is reported by the fallback's own row. */
		e->source = CONFIG_SOURCE_FALLBACK;
		return v;
	}
	if (def == NULL && row->def_fn != NULL)
		load_report(ld, CONFIG_ERROR, "%s: must be set, since its "
		    "default (%s) cannot be worked out here", row->name,
		    row->def_help);
	return def;
}

static void
load_row(struct config_loader *ld, const struct config_row *row,
    struct config_entry *e)
{
	const char *value;
	char *def = NULL;

	if (row->type == CONFIG_TYPE_DOC)
		return;
	if (row->def_fn != NULL)
		def = row->def_fn(ld);
	else if (row->def != NULL)
		def = xstrdup(row->def);
	/* Default first, so a row whose value fails keeps a usable one. */
	if (def != NULL && row->field != 0)
		parse_quiet(ld, row, def);
	e->source = CONFIG_SOURCE_DEFAULT;
	if ((value = env_value(ld, row->name, row->flags)) != NULL) {
		e->source = CONFIG_SOURCE_ENV;
		config_type_parse(ld, row, value);
	} else
		value = load_unset(ld, row, def, e);
	e->shown = row_shown(ld->cfg, row, value);
	free(def);
}

/* Cross-field rules, run once every row is loaded. */

static void
rule_role_arn(struct config_loader *ld)
{
	const struct config *cfg = ld->cfg;
	struct errbuf why;
	char *arn, *shown;

	arn = config_role_arn(cfg, SAMPLE_ACCOUNT);
	err_clear(&why);
	if (config_check_role_arn(arn, &why) == -1) {
		shown = config_show_value(arn, CONFIG_SHOW_MAX);
		config_load_problem(ld,
		    row_find("AWS_ASSUME_ROLE_ARN_TEMPLATE"),
		    cfg->assume_role_arn_template, "must expand to an IAM role "
		    "ARN, " ROLE_ARN_FORM "; for account " SAMPLE_ACCOUNT
		    " it gives \"%s\"", shown);
		free(shown);
	}
	free(arn);
}

static void
rule_accounts_ignored(struct config_loader *ld)
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
rule_pairs(struct config_loader *ld)
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

	for (i = 0; i < CONFIG_NITEMS(pairs); i++)
		if (env_value(ld, pairs[i].set, ROW_EMPTY_UNSET) != NULL &&
		    env_value(ld, pairs[i].missing, ROW_EMPTY_UNSET) == NULL)
			load_report(ld, pairs[i].severity, "%s is set without "
			    "%s: %s", pairs[i].set, pairs[i].missing,
			    pairs[i].consequence);
}

static void (*const rules[])(struct config_loader *) = {
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
	struct config_loader ld;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->entries = xcalloc(config_nrows, sizeof(*cfg->entries));
	memset(&ld, 0, sizeof(ld));
	ld.cfg = cfg;
	ld.getenv_fn = getenv_fn;
	ld.report = report;
	ld.arg = arg;
	for (i = 0; i < config_nrows; i++)
		load_row(&ld, &config_rows[i], &cfg->entries[i]);
	for (i = 0; i < CONFIG_NITEMS(rules); i++)
		rules[i](&ld);
	return ld.nerrors > 0 ? -1 : 0;
}

static int
row_owns_memory(const struct config_row *row)
{
	return row->type == CONFIG_TYPE_TEXT ||
	    row->type == CONFIG_TYPE_ACCOUNTS || row->type == CONFIG_TYPE_REGIONS;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	if (cfg->entries != NULL)
		for (i = 0; i < config_nrows; i++)
			free(cfg->entries[i].shown);
	free(cfg->entries);
	/* Text and list fields own their memory: one rule for every row. */
	for (i = 0; i < config_nrows; i++)
		if (config_rows[i].field != 0 && row_owns_memory(&config_rows[i]))
			free(*CONFIG_FIELD(cfg, &config_rows[i], void *));
	memset(cfg, 0, sizeof(*cfg));
}
