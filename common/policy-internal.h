/*
 * What the policy*.c files share and nothing else may use: the loaded
 * policy's structure, the comparisons every part applies the same way, and
 * the loader's state, error reporting and field walker that the parsers of
 * the tag rules (policy-rule.c) plug into.
 */
#ifndef POLICY_INTERNAL_H
#define POLICY_INTERNAL_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif

#include <stddef.h>

#include <jansson.h>
#include <pcre2.h>

#include "policy.h"

#define POLICY_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* AWS's tag character set in words, as errors and violations name it. */
#define POLICY_CHARSET_TEXT	"letters, digits, spaces and _ . : / = + - @"

struct policy_rule {
	char			*name;
	char			*description;
	char			**allowed;	/* NULL: any value */
	size_t			 nallowed;
	char			*regex_src;
	pcre2_code		*regex;
	char			**applies_to;	/* required tags only */
	size_t			 napplies;
	enum policy_severity	 severity;
	int			 required;
};

struct policy {
	char			*path;
	char			 hash[65];	/* SHA-256 of the file, hex */
	json_t			*meta;	/* version, last_updated, ... as given */
	struct policy_rule	*required;
	size_t			 nrequired;
	struct policy_rule	*optional;
	size_t			 noptional;
	int			 case_sensitive;
	int			 allow_special;
	json_int_t		 max_key_length;
	json_int_t		 max_value_length;
	pcre2_code		*charset;	/* NULL when allow_special */
	pcre2_match_context	*mctx;
	char			**types;	/* distinct applies_to entries */
	size_t			 ntypes;
};

/* policy.c: lifetime, and comparisons under the policy's naming rules. */
struct policy *policy_new(void);
void	policy_strings_free(char **, size_t);
char	*policy_quote(const char *);
int	policy_names_equal(const struct policy *, const char *, const char *);
size_t	policy_utf8_length(const char *);
int	policy_match(const struct policy *, const pcre2_code *, const char *,
	    pcre2_match_data *);

/* policy-load.c: the state of one load and its error lines. */
struct policy_loader {
	struct policy		*p;
	struct policy_errors	*errs;
	size_t			 nerrors;
};

/* One key of a JSON object: how to parse it and what a missing one needs. */
struct policy_field {
	const char	*key;
	int		 required;
	const char	*expect;
	void		(*parse)(struct policy_loader *,
			    const struct policy_field *, const char *, json_t *,
			    void *);
	size_t		 off;		/* parse_bool/parse_int target */
	json_int_t	 min, max;	/* parse_int range */
};

void	policy_load_error(struct policy_loader *, const char *path,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	policy_load_mismatch(struct policy_loader *, const char *path,
	    const json_t *found, const char *expected);
const char *policy_load_describe(const json_t *, char *buf, size_t len);
int	policy_load_expect_string(struct policy_loader *, const char *path,
	    json_t *, int nonempty);
char	*policy_load_path_key(const char *parent, const char *key);
char	*policy_load_path_index(const char *parent, size_t i);
void	policy_load_fields(struct policy_loader *, const char *path,
	    json_t *obj, const struct policy_field *, size_t nf, void *target);

/* policy-rule.c: the parsers of the required_tags and optional_tags keys. */
void	policy_rule_required_tags(struct policy_loader *,
	    const struct policy_field *, const char *path, json_t *, void *);
void	policy_rule_optional_tags(struct policy_loader *,
	    const struct policy_field *, const char *path, json_t *, void *);

#endif
