/*
 * Cost Explorer dimensions and filter expressions: which dimensions the
 * emulator can group and filter by, a line's value for each, and the
 * Expression tree (And, Or, Not, Dimensions, Tags with MatchOptions)
 * parsed from the request and evaluated per cost line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ce.h"
#include "errbuf.h"
#include "xmalloc.h"

#define CE_MAX_DEPTH	16	/* nesting of And/Or/Not */

struct ce_dim {
	const char	*name;
	int		 group;		/* may be a GroupBy key */
	int		 resources_only;	/* ...WithResources only */
	const char	*(*get)(const struct ce_line *);
};

static const char *
ce_filter_service(const struct ce_line *l)
{
	return l->service;
}

static const char *
ce_filter_account(const struct ce_line *l)
{
	return l->account->id;
}

static const char *
ce_filter_account_name(const struct ce_line *l)
{
	return l->account->name;
}

static const char *
ce_filter_region(const struct ce_line *l)
{
	return l->region;
}

static const char *
ce_filter_resource(const struct ce_line *l)
{
	return l->resource_id;
}

/* The fixture holds usage only: no credits, refunds or taxes. */
static const char *
ce_filter_record_type(const struct ce_line *l)
{
	(void)l;
	return "Usage";
}

static const struct ce_dim ce_dims[] = {
	{ "SERVICE", 1, 0, ce_filter_service },
	{ "LINKED_ACCOUNT", 1, 0, ce_filter_account },
	{ "LINKED_ACCOUNT_NAME", 0, 0, ce_filter_account_name },
	{ "REGION", 1, 0, ce_filter_region },
	{ "RECORD_TYPE", 1, 0, ce_filter_record_type },
	{ "RESOURCE_ID", 1, 1, ce_filter_resource },
};

#define CE_NDIMS	(sizeof(ce_dims) / sizeof(ce_dims[0]))

/* AWS's own list, for its own message about an invalid GroupBy key. */
#define CE_AWS_GROUP_DIMS \
	"AZ, INSTANCE_TYPE, LINKED_ACCOUNT, OPERATION, PURCHASE_TYPE, " \
	"SERVICE, USAGE_TYPE, PLATFORM, TENANCY, RECORD_TYPE, " \
	"LEGAL_ENTITY_NAME, DEPLOYMENT_OPTION, DATABASE_ENGINE, " \
	"CACHE_ENGINE, INSTANCE_TYPE_FAMILY, REGION, BILLING_ENTITY, " \
	"RESERVATION_ID, SAVINGS_PLANS_TYPE, SAVINGS_PLAN_ARN, " \
	"OPERATING_SYSTEM"

static int
ce_filter_aws_group_dim(const char *name)
{
	char pat[128];

	snprintf(pat, sizeof(pat), " %s,", name);
	return strstr(" " CE_AWS_GROUP_DIMS ",", pat) != NULL;
}

const struct ce_dim *
ce_filter_dim(const char *name, int group, int with_resources,
    struct errbuf *err)
{
	size_t i;

	for (i = 0; name != NULL && i < CE_NDIMS; i++)
		if (strcmp(ce_dims[i].name, name) == 0)
			break;
	if (i < CE_NDIMS && (!group || ce_dims[i].group) &&
	    (with_resources || !ce_dims[i].resources_only))
		return &ce_dims[i];
	if (name == NULL)
		err_set(err, "Dimensions and GroupBy entries need a Key");
	else if (i < CE_NDIMS && ce_dims[i].resources_only)
		err_set(err, "Dimension %s is not allowed.", name);
	else if (group && !ce_filter_aws_group_dim(name))
		err_set(err, "Group Definition dimension is invalid. Valid "
		    "values are %s", CE_AWS_GROUP_DIMS);
	else
		err_set(err, "Dimension %s: the emulator has no data for it; "
		    "use SERVICE, LINKED_ACCOUNT, REGION, RECORD_TYPE%s", name,
		    group ? "" : ", LINKED_ACCOUNT_NAME");
	return NULL;
}

/* A tag the line lacks or holds with an empty value reads as absent. */
const char *
ce_filter_value(const struct ce_dim *dim, const char *tag_key,
    const struct ce_line *l)
{
	size_t i;

	if (dim != NULL)
		return dim->get(l);
	for (i = 0; i < l->ntags; i++)
		if (strcmp(l->tags[i].key, tag_key) == 0)
			return l->tags[i].value[0] != '\0' ? l->tags[i].value :
			    NULL;
	return NULL;
}

enum ce_expr_kind {
	CE_EXPR_AND,
	CE_EXPR_OR,
	CE_EXPR_NOT,
	CE_EXPR_VALUES
};

#define CE_MATCH_ABSENT		0x01
#define CE_MATCH_STARTS		0x02
#define CE_MATCH_ENDS		0x04
#define CE_MATCH_CONTAINS	0x08
#define CE_MATCH_NOCASE		0x10

static const struct {
	const char	*name;
	int		 bit;
} ce_match_options[] = {
	{ "EQUALS", 0 }, { "CASE_SENSITIVE", 0 },
	{ "ABSENT", CE_MATCH_ABSENT }, { "STARTS_WITH", CE_MATCH_STARTS },
	{ "ENDS_WITH", CE_MATCH_ENDS }, { "CONTAINS", CE_MATCH_CONTAINS },
	{ "CASE_INSENSITIVE", CE_MATCH_NOCASE },
};

struct ce_expr {
	enum ce_expr_kind	 kind;
	struct ce_expr		**sub;
	size_t			 nsub;
	const struct ce_dim	*dim;		/* NULL: tag_key */
	const char		*tag_key;
	const json_t		*values;	/* strings, from the request */
	int			 match;		/* CE_MATCH_* */
};

void
ce_filter_free(struct ce_expr *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nsub; i++)
		ce_filter_free(e->sub[i]);
	free(e->sub);
	free(e);
}

static int	ce_filter_node(const json_t *, int, int, struct ce_expr **,
		    struct errbuf *);

static int
ce_filter_options(const json_t *opts, int *match, struct errbuf *err)
{
	const char *s;
	json_t *v;
	size_t i, j, n = sizeof(ce_match_options) / sizeof(ce_match_options[0]);

	*match = 0;
	if (opts != NULL && !json_is_array(opts))
		return err_set(err, "MatchOptions must be a list");
	json_array_foreach(opts, i, v) {
		s = json_string_value(v);
		for (j = 0; s != NULL && j < n; j++)
			if (strcmp(ce_match_options[j].name, s) == 0)
				break;
		if (s == NULL || j == n)
			return err_set(err, "MatchOptions: %s is not one of "
			    "EQUALS, ABSENT, STARTS_WITH, ENDS_WITH, CONTAINS, "
			    "CASE_SENSITIVE, CASE_INSENSITIVE", s != NULL ? s :
			    "(not a string)");
		*match |= ce_match_options[j].bit;
	}
	return 0;
}

/* {Key, Values, MatchOptions} of Dimensions or Tags. */
static int
ce_filter_values_parse(const json_t *v, struct ce_expr *e, struct errbuf *err)
{
	const json_t *vals = json_object_get(v, "Values");
	json_t *s;
	size_t i;

	e->kind = CE_EXPR_VALUES;
	if (!json_is_object(v))
		return err_set(err, "Dimensions and Tags must be objects with "
		    "Key and Values");
	if (vals != NULL && !json_is_array(vals))
		return err_set(err, "Values must be a list of strings");
	json_array_foreach(vals, i, s)
		if (!json_is_string(s))
			return err_set(err, "Values must be a list of strings");
	e->values = vals;
	return ce_filter_options(json_object_get(v, "MatchOptions"), &e->match,
	    err);
}

static int
ce_filter_dimensions(const json_t *v, int wr, int depth, struct ce_expr *e,
    struct errbuf *err)
{
	(void)depth;
	if (ce_filter_values_parse(v, e, err) == -1)
		return -1;
	e->dim = ce_filter_dim(json_string_value(json_object_get(v, "Key")), 0,
	    wr, err);
	return e->dim != NULL ? 0 : -1;
}

static int
ce_filter_tags(const json_t *v, int wr, int depth, struct ce_expr *e,
    struct errbuf *err)
{
	(void)wr;
	(void)depth;
	if (ce_filter_values_parse(v, e, err) == -1)
		return -1;
	e->tag_key = json_string_value(json_object_get(v, "Key"));
	if (e->tag_key == NULL || e->tag_key[0] == '\0')
		return err_set(err, "Tags needs a Key: the tag key to filter "
		    "on");
	return 0;
}

static int
ce_filter_list(const json_t *v, int wr, int depth, struct ce_expr *e,
    struct errbuf *err)
{
	json_t *s;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return err_set(err, "And and Or take a non-empty list of "
		    "expressions");
	e->sub = xcalloc(json_array_size(v), sizeof(*e->sub));
	json_array_foreach(v, i, s) {
		e->nsub = i + 1;	/* freed with e, also when it fails */
		if (ce_filter_node(s, wr, depth + 1, &e->sub[i], err) == -1)
			return -1;
	}
	return 0;
}

static int
ce_filter_not(const json_t *v, int wr, int depth, struct ce_expr *e,
    struct errbuf *err)
{
	e->sub = xcalloc(1, sizeof(*e->sub));
	e->nsub = 1;
	return ce_filter_node(v, wr, depth + 1, &e->sub[0], err);
}

static int
ce_filter_categories(const json_t *v, int wr, int depth, struct ce_expr *e,
    struct errbuf *err)
{
	(void)v;
	(void)wr;
	(void)depth;
	(void)e;
	return err_set(err, "CostCategories: the emulator defines no cost "
	    "categories; filter by Dimensions or Tags");
}

static const struct {
	const char		*name;
	enum ce_expr_kind	 kind;
	int			(*parse)(const json_t *, int, int,
				    struct ce_expr *, struct errbuf *);
} ce_roots[] = {
	{ "And", CE_EXPR_AND, ce_filter_list },
	{ "Or", CE_EXPR_OR, ce_filter_list },
	{ "Not", CE_EXPR_NOT, ce_filter_not },
	{ "Dimensions", CE_EXPR_VALUES, ce_filter_dimensions },
	{ "Tags", CE_EXPR_VALUES, ce_filter_tags },
	{ "CostCategories", CE_EXPR_VALUES, ce_filter_categories },
};

#define CE_NROOTS	(sizeof(ce_roots) / sizeof(ce_roots[0]))

/* Each Expression holds exactly one root operator, as AWS requires. */
static int
ce_filter_node(const json_t *v, int wr, int depth, struct ce_expr **out,
    struct errbuf *err)
{
	size_t i, which = CE_NROOTS, n = 0;

	*out = NULL;
	if (!json_is_object(v))
		return err_set(err, "Filter: an Expression must be an object");
	if (depth > CE_MAX_DEPTH)
		return err_set(err, "Filter: expressions nest deeper than %d "
		    "levels", CE_MAX_DEPTH);
	for (i = 0; i < CE_NROOTS; i++)
		if (json_object_get(v, ce_roots[i].name) != NULL) {
			which = i;
			n++;
		}
	if (n != 1)
		return err_set(err, "Expression has %s root operator; use "
		    "exactly one of And, Or, Not, Dimensions, Tags, "
		    "CostCategories", n == 0 ? "no" : "more than one");
	*out = xcalloc(1, sizeof(**out));
	(*out)->kind = ce_roots[which].kind;
	return ce_roots[which].parse(json_object_get(v, ce_roots[which].name),
	    wr, depth, *out, err);
}

int
ce_filter_parse(const json_t *v, int with_resources, struct ce_expr **out,
    struct errbuf *err)
{
	if (ce_filter_node(v, with_resources, 0, out, err) == 0)
		return 0;
	ce_filter_free(*out);
	*out = NULL;
	return -1;
}

static int
ce_filter_one(const char *want, const char *have, int m)
{
	int (*cmp)(const char *, const char *, size_t) =
	    m & CE_MATCH_NOCASE ? strncasecmp : strncmp;
	size_t wl = strlen(want), hl = strlen(have), i;

	if (m & CE_MATCH_STARTS)
		return hl >= wl && cmp(have, want, wl) == 0;
	if (m & CE_MATCH_ENDS)
		return hl >= wl && cmp(have + hl - wl, want, wl) == 0;
	if (m & CE_MATCH_CONTAINS) {
		for (i = 0; i + wl <= hl; i++)
			if (cmp(have + i, want, wl) == 0)
				return 1;
		return 0;
	}
	return hl == wl && cmp(have, want, wl) == 0;
}

/* Values are ORed; an absent tag compares as the empty value. */
static int
ce_filter_values(const struct ce_expr *e, const struct ce_line *l)
{
	const char *have = ce_filter_value(e->dim, e->tag_key, l);
	json_t *v;
	size_t i;

	if (e->match & CE_MATCH_ABSENT)
		return have == NULL;
	if (json_array_size(e->values) == 0)
		return have != NULL;
	json_array_foreach(e->values, i, v)
		if (ce_filter_one(json_string_value(v), have != NULL ? have :
		    "", e->match))
			return 1;
	return 0;
}

int
ce_filter_match(const struct ce_expr *e, const struct ce_line *l)
{
	size_t i;

	if (e == NULL)
		return 1;
	switch (e->kind) {
	case CE_EXPR_AND:
		for (i = 0; i < e->nsub; i++)
			if (!ce_filter_match(e->sub[i], l))
				return 0;
		return 1;
	case CE_EXPR_OR:
		for (i = 0; i < e->nsub; i++)
			if (ce_filter_match(e->sub[i], l))
				return 1;
		return 0;
	case CE_EXPR_NOT:
		return !ce_filter_match(e->sub[0], l);
	default:
		return ce_filter_values(e, l);
	}
}

int
ce_filter_mentions(const struct ce_expr *e, const char *dim)
{
	size_t i;

	if (e == NULL)
		return 0;
	if (e->dim != NULL && strcmp(e->dim->name, dim) == 0)
		return 1;
	for (i = 0; i < e->nsub; i++)
		if (ce_filter_mentions(e->sub[i], dim))
			return 1;
	return 0;
}
