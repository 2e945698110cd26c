/*
 * config-types holds the type rows: how each kind of value (boolean,
 * bounded integer, text, comma lists of account IDs or regions, log level)
 * is parsed into struct config and shown back by check-config.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config-internal.h"
#include "errbuf.h"
#include "log.h"
#include "strnum.h"
#include "xmalloc.h"

static int
parse_bool(struct config_loader *ld, const struct config_row *row,
    const char *value)
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

	for (i = 0; i < CONFIG_NITEMS(words); i++) {
		if (strcasecmp(value, words[i].word) == 0) {
			*CONFIG_FIELD(ld->cfg, row, int) = words[i].value;
			return 0;
		}
	}
	return config_load_invalid(ld, row, value, NULL);
}

static char *
show_bool(const struct config_row *row, const struct config *cfg)
{
	return xstrdup(*CONFIG_CFIELD(cfg, row, int) ? "true" : "false");
}

static int
parse_int(struct config_loader *ld, const struct config_row *row,
    const char *value)
{
	const char *errstr;
	long long v;

	v = strnum(value, row->min, row->max, &errstr);
	if (errstr != NULL)
		return config_load_invalid(ld, row, value, NULL);
	*CONFIG_FIELD(ld->cfg, row, int) = (int)v;
	return 0;
}

static char *
show_int(const struct config_row *row, const struct config *cfg)
{
	return xprintf("%d", *CONFIG_CFIELD(cfg, row, int));
}

static int
parse_text(struct config_loader *ld, const struct config_row *row,
    const char *value)
{
	struct errbuf why;
	char **field;

	err_clear(&why);
	if (row->check != NULL && row->check(value, &why) == -1)
		return config_load_invalid(ld, row, value, &why);
	if (row->field == 0)
		return 0;
	field = CONFIG_FIELD(ld->cfg, row, char *);
	free(*field);
	*field = xstrdup(value);
	return 0;
}

static char *
show_text(const struct config_row *row, const struct config *cfg)
{
	const char *v = *CONFIG_CFIELD(cfg, row, char *);

	return config_show_value(v != NULL ? v : "(unset)", CONFIG_PATH_MAX);
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
list_entry(struct config_loader *ld, const struct config_row *row,
    const char *value, size_t pos, const char *item, const char *problem)
{
	char *shown;

	shown = config_show_value(item, CONFIG_SHOW_MAX);
	config_load_problem(ld, row, value, "entry %zu \"%s\" %s", pos, shown,
	    problem);
	free(shown);
	return -1;
}

/* A comma list being read: entries of size bytes, and where each was. */
struct list {
	char	*arr;
	size_t	*where;		/* position of each entry in the list */
	size_t	 n;
	size_t	 size;
};

/* Check one non-empty entry and append it; -1 reported if it is bad. */
static int
list_add(struct config_loader *ld, const struct config_row *row,
    const char *value, struct list *l, size_t pos, const char *item)
{
	struct errbuf why;
	char problem[64];
	long dup;

	err_clear(&why);
	if (row->check(item, &why) == -1)
		return list_entry(ld, row, value, pos, item, why.msg);
	if ((dup = list_find(l->arr, l->n, l->size, item)) != -1) {
		snprintf(problem, sizeof(problem), "must not repeat entry %zu",
		    l->where[dup]);
		return list_entry(ld, row, value, pos, item, problem);
	}
	l->arr = xreallocarray(l->arr, l->n + 1, l->size);
	l->where = xreallocarray(l->where, l->n + 1, sizeof(*l->where));
	snprintf(l->arr + l->n * l->size, l->size, "%s", item);
	l->where[l->n++] = pos;
	return 0;
}

/*
 * A comma list into an array of n strings of size bytes each. Positions in
 * errors count every comma-separated field, empty ones too, so they match
 * what the user typed.
 */
static int
parse_list(struct config_loader *ld, const struct config_row *row,
    const char *value, size_t size, char **out, size_t *nout)
{
	struct list l = { NULL, NULL, 0, size };
	char *copy, *rest, *item;
	size_t pos = 0;
	int rv = 0;

	rest = copy = xstrdup(value);
	while ((item = strsep(&rest, ",")) != NULL) {
		pos++;
		if (*(item = trim(item)) != '\0' &&
		    list_add(ld, row, value, &l, pos, item) == -1)
			rv = -1;
	}
	free(copy);
	free(l.where);
	if (rv == -1) {
		free(l.arr);
		return -1;
	}
	*out = l.arr;
	*nout = l.n;
	return 0;
}

static int
parse_accounts(struct config_loader *ld, const struct config_row *row,
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
parse_regions(struct config_loader *ld, const struct config_row *row,
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
parse_loglevel(struct config_loader *ld, const struct config_row *row,
    const char *value)
{
	enum log_level level;

	if (log_level_parse(value, &level) == -1)
		return config_load_invalid(ld, row, value, NULL);
	*CONFIG_FIELD(ld->cfg, row, enum log_level) = level;
	return 0;
}

static char *
show_loglevel(const struct config_row *row, const struct config *cfg)
{
	return xstrdup(log_level_name(*CONFIG_CFIELD(cfg, row,
	    enum log_level)));
}

static const struct {
	int	(*parse)(struct config_loader *, const struct config_row *,
		    const char *);
	char	*(*show)(const struct config_row *, const struct config *);
} types[] = {
	[CONFIG_TYPE_BOOL] = { parse_bool, show_bool },
	[CONFIG_TYPE_INT] = { parse_int, show_int },
	[CONFIG_TYPE_TEXT] = { parse_text, show_text },
	[CONFIG_TYPE_ACCOUNTS] = { parse_accounts, show_accounts },
	[CONFIG_TYPE_REGIONS] = { parse_regions, show_regions },
	[CONFIG_TYPE_LOGLEVEL] = { parse_loglevel, show_loglevel },
	[CONFIG_TYPE_DOC] = { NULL, NULL },
};

/* The type row's parser; CONFIG_TYPE_DOC rows are never parsed. */
int
config_type_parse(struct config_loader *ld, const struct config_row *row,
    const char *value)
{
	return types[row->type].parse(ld, row, value);
}

char *
config_type_show(const struct config_row *row, const struct config *cfg)
{
	return types[row->type].show(row, cfg);
}
