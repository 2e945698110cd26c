/*
 * The tagging policy: load and validate the JSON policy file once, then
 * evaluate a resource's tags against it with no I/O and no global state.
 * A loaded policy is read-only, so several threads may evaluate at once.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>

#include <jansson.h>

/* Largest policy file we read; real policies are a few kilobytes. */
#define POLICY_MAX_FILE		(1024 * 1024)
/* Load stops collecting error lines after this many. */
#define POLICY_MAX_ERRORS	100
/* PCRE2 match limit per regex check; exceeding it is invalid_format. */
#define POLICY_MATCH_LIMIT	100000
#define POLICY_DEPTH_LIMIT	10000

struct policy;

/*
 * Every problem policy_load found, one line each: "JSON.path: found V,
 * expected E". Zero-initialize before first use; policy_load empties it.
 */
struct policy_errors {
	char	**lines;
	size_t	  count;
};

enum policy_violation_type {
	POLICY_MISSING_REQUIRED_TAG,
	POLICY_INVALID_VALUE,
	POLICY_INVALID_FORMAT
};

enum policy_severity {
	POLICY_SEVERITY_ERROR,
	POLICY_SEVERITY_WARNING
};

/*
 * OUT_OF_SCOPE: no required tag applies to the resource type, so nothing was
 * checked. COMPLIANT: no error-severity violation (warnings may be listed).
 */
enum policy_verdict {
	POLICY_OUT_OF_SCOPE = -1,
	POLICY_COMPLIANT = 0,
	POLICY_NONCOMPLIANT = 1
};

/* One tag of the resource being evaluated; both strings UTF-8. */
struct policy_tag {
	const char	*key;
	const char	*value;
};

/* Everything here is owned by the violation (copies, not borrowed). */
struct policy_violation {
	char				*tag_name;
	enum policy_violation_type	 violation_type;
	enum policy_severity		 severity;
	char				*current_value;	/* NULL: tag missing */
	char				**allowed_values; /* NULL: no list */
	size_t				 nallowed_values;
	char				*message;	/* never holds the value */
};

struct policy_violations {
	struct policy_violation	*v;
	size_t			 count;
};

int	policy_load(const char *path, struct policy **,
	    struct policy_errors *);
int	policy_load_buffer(const char *buf, size_t len, struct policy **,
	    struct policy_errors *);
void	policy_free(struct policy *);
void	policy_errors_free(struct policy_errors *);

enum policy_verdict policy_evaluate(const struct policy *,
	    const char *resource_type, const struct policy_tag *tags,
	    size_t ntags, struct policy_violations *);
int	policy_applies(const struct policy *, const char *resource_type);
void	policy_violations_free(struct policy_violations *);
/* A violation as a common/proto.h row (enum proto_violation's order). */
json_t	*policy_violation_row(const struct policy_violation *);
const char *policy_violation_type_name(enum policy_violation_type);
const char *policy_severity_name(enum policy_severity);

json_t	*policy_json(const struct policy *);
const char *policy_hash(const struct policy *);
const char *policy_path(const struct policy *);
size_t	policy_resource_types(const struct policy *, const char *const **);
size_t	policy_required_count(const struct policy *);
/*
 * The name of required tag i (i < policy_required_count); *is_error is
 * set when its violations are errors (not warnings).
 */
const char *policy_required_name(const struct policy *, size_t i,
	    int *is_error);
/*
 * Whether value, on the required tag named key (compared under the policy's
 * case rule), would be an invalid_value or invalid_format violation, as
 * policy_evaluate decides: 1 rejected, 0 accepted, -1 no required tag of
 * that name.
 */
int	policy_value_rejected(const struct policy *, const char *key,
	    const char *value);
size_t	policy_optional_count(const struct policy *);

#endif
