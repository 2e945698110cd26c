/*
 * config-check holds the checks the rows name, one per kind of value: AWS
 * names and IDs by their documented character classes and lengths, region
 * names, role ARNs, URLs, paths and secrets; and the role ARN template,
 * with config_role_arn() expanding it for an account.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "config.h"
#include "config-internal.h"
#include "errbuf.h"
#include "log.h"
#include "xmalloc.h"

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

int
config_check_role_name(const char *s, struct errbuf *why)
{
	(void)why;
	return role_name_valid(s, strlen(s)) ? 0 : -1;
}

int
config_check_external_id(const char *s, struct errbuf *why)
{
	size_t len = strlen(s);

	(void)why;
	return len >= 2 && len <= 1224 && in_class(s, len, "_+=,.@:/-") ?
	    0 : -1;
}

int
config_check_session_name(const char *s, struct errbuf *why)
{
	size_t len = strlen(s);

	(void)why;
	return len >= 2 && len <= 64 && in_class(s, len, "_+=,.@-") ? 0 : -1;
}

int
config_account_id_valid(const char *s)
{
	size_t len = strlen(s);

	return len == CONFIG_ACCOUNT_ID_LEN && is_digits(s, len);
}

int
config_check_account_id(const char *s, struct errbuf *why)
{
	if (config_account_id_valid(s))
		return 0;
	return err_set(why, "must be exactly 12 digits");
}

/* Cost Explorer's names, as its API spells them. */
int
config_check_cost_metric(const char *s, struct errbuf *why)
{
	(void)why;
	return strcmp(s, "UnblendedCost") == 0 ||
	    strcmp(s, "AmortizedCost") == 0 ? 0 : -1;
}

int
config_check_key_id(const char *s, struct errbuf *why)
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

int
config_check_secret(const char *s, struct errbuf *why)
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

int
config_check_text(const char *s, struct errbuf *why)
{
	(void)why;
	return s[0] != '\0' && no_controls(s) ? 0 : -1;
}

int
config_check_path(const char *s, struct errbuf *why)
{
	(void)why;
	return s[0] != '\0' && strlen(s) < CONFIG_PATH_MAX && no_controls(s) ?
	    0 : -1;
}

int
config_check_true_false(const char *s, struct errbuf *why)
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
int
config_check_region(const char *s, struct errbuf *why)
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

	for (i = 0; i < CONFIG_NITEMS(partitions); i++)
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

int
config_check_role_arn(const char *s, struct errbuf *why)
{
	(void)why;
	return role_arn_valid(s) ? 0 : -1;
}

int
config_check_url(const char *s, struct errbuf *why)
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
	for (i = 0; ok && i < CONFIG_NITEMS(absent); i++) {
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

	for (i = 0; i < CONFIG_NITEMS(placeholders); i++)
		if (strlen(placeholders[i]) == len &&
		    strncmp(p, placeholders[i], len) == 0)
			return (int)i;
	return -1;
}

/*
 * Only the structure; whether the expansion is a role ARN is checked once
 * every row is loaded (rule_role_arn), with the effective role name.
 */
int
config_check_template(const char *s, struct errbuf *why)
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
			shown = config_show_value(inner, CONFIG_SHOW_MAX);
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
	const char *values[CONFIG_NITEMS(placeholders)] = { account, role };
	size_t i, len = strlen(tmpl) + 1;
	const char *p;
	char *out, *o;

	for (p = tmpl; (p = strchr(p, '{')) != NULL; p++)
		len += strlen(account) + strlen(role);
	out = o = xmalloc(len);
	for (p = tmpl; *p != '\0';) {
		for (i = 0; i < CONFIG_NITEMS(placeholders); i++)
			if (strncmp(p, placeholders[i],
			    strlen(placeholders[i])) == 0)
				break;
		if (i == CONFIG_NITEMS(placeholders)) {
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
