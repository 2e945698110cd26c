/*
 * Shared by the EC2 files: the Filter.N.Name / Filter.N.Value.M parameters
 * and the wildcard matching EC2 applies to them.
 */
#ifndef EC2_H
#define EC2_H

#include "emulator.h"

#define EC2_MAX_FILTERS	50
#define EC2_MAX_VALUES	200

struct ec2_filter {
	const char	*name;
	const char	*values[EC2_MAX_VALUES];
	size_t		 nvalues;
};

struct ec2_filters {
	struct ec2_filter	 f[EC2_MAX_FILTERS];
	size_t			 n;
};

/* A resource attribute a filter name selects; NULL if not applicable. */
struct ec2_filter_field {
	const char	*name;		/* "instance-state-name" */
	const char	*(*get)(const struct emu_resource *, char *, size_t);
};

/*
 * Parse Filter.N; names must be "tag:KEY", "tag-key" or one of fields.
 * Replies InvalidParameterValue and returns -1 on an unknown name.
 */
int	ec2_filter_parse(struct emu_req *, const struct ec2_filter_field *,
	    struct ec2_filters *);
/* Every filter matches (AND), each by any of its values (OR, wildcards). */
int	ec2_filter_match(const struct ec2_filters *,
	    const struct ec2_filter_field *, const struct emu_resource *);
/* <tagSet> with the resource's tags; nothing when it has none. */
void	ec2_filter_tagset(struct evbuffer *, const struct emu_resource *);

#endif
