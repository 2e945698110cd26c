/*
 * The configuration contract: every environment variable tagwarden reads is
 * one row in config.c's table. Parsing, range checks, --help, the README
 * table and `tagwarden check-config` all derive from those rows.
 */
#ifndef CONFIG_H_
#define CONFIG_H_

#include <stddef.h>
#include <stdio.h>

#include "log.h"

#define CONFIG_ACCOUNT_ID_LEN	12
#define CONFIG_REGION_SIZE	32	/* longest region name we accept + NUL */

/* Per-row source and display text; private to the config*.c files. */
struct config_entry;

/*
 * The typed result of config_load(). Only the product variables have
 * fields; the standard AWS variables are validated for form and shown by
 * check-config, but creds.c and http.c read them where they use them, and
 * no secret is ever copied in here.
 */
struct config {
	struct config_entry *entries;	/* first: offset 0 means "no field" */
	int	 multi_account_enabled;
	char	(*account_ids)[CONFIG_ACCOUNT_ID_LEN + 1];
	size_t	 naccount_ids;
	char	*assume_role_name;
	char	*assume_role_arn_template;
	int	 assume_role_session_duration;
	char	*assume_role_external_id;	/* NULL: no ExternalId sent */
	int	 max_concurrent_accounts;
	int	 account_scan_timeout_seconds;
	char	*aws_region;
	char	*policy_path;
	char	*history_db_path;
	char	(*allowed_regions)[CONFIG_REGION_SIZE];
	size_t	 nallowed_regions;		/* 0: every enabled region */
	int	 cache_ttl_seconds;		/* 0: cache disabled */
	int	 cost_explorer_enabled;
	char	*cost_explorer_account_id;	/* NULL: each account's own */
	char	*cost_metric;			/* UnblendedCost, AmortizedCost */
	enum log_level log_level;
};

enum config_severity {
	CONFIG_ERROR,
	CONFIG_WARNING
};

enum config_help_format {
	CONFIG_HELP_TEXT,
	CONFIG_HELP_MARKDOWN
};

/* getenv(3) with a const result, for config_load(). */
const char *config_getenv(const char *name);

/*
 * Fill cfg from the environment seen through getenv_fn. Every problem is
 * passed to report (which may be NULL) as one line, "NAME=value: must be
 * ...", in table order, then cross-field errors and warnings. Returns 0, or
 * -1 when at least one error was reported. Either way cfg is complete
 * (failed rows keep their default) and must be released by config_free().
 */
int	config_load(struct config *cfg,
	    const char *(*getenv_fn)(const char *name),
	    void (*report)(void *arg, enum config_severity, const char *line),
	    void *arg);
void	config_free(struct config *cfg);

/* One "NAME=value (source: ...)" line per row; secrets never shown. */
void	config_dump(const struct config *cfg, FILE *fp);

/* Every variable with its default, allowed form and help. */
void	config_help(FILE *fp, enum config_help_format format);
/*
 * A config_load reporter for commands: warnings and errors to stderr, one
 * line each; arg is an int counting the errors.
 */
void	config_report_stderr(void *arg, enum config_severity, const char *line);

/* The AssumeRole ARN for an account, from the validated template. */
char	*config_role_arn(const struct config *cfg, const char *account_id);
/* Exactly CONFIG_ACCOUNT_ID_LEN digits: the one account ID rule. */
int	config_account_id_valid(const char *);

#endif
