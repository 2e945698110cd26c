/*
 * The table of scannable AWS services, one row each (implemented in
 * svc-<name>.c), and the facts about each resource type the merge needs:
 * its Tagging API filter, the states in which its service still lists a
 * resource that is gone, and how its ARN names it.
 */
#include <stdio.h>
#include <string.h>

#include "services.h"

static const char *const ec2_types[] = { "ec2:instance", "ec2:volume", NULL };
static const char *const s3_types[] = { "s3:bucket", NULL };
static const char *const rds_types[] = { "rds:db", NULL };
static const char *const lambda_types[] = { "lambda:function", NULL };
static const char *const ecs_types[] = { "ecs:cluster", NULL };

/*
 * The Tagging API runs for every job (it also finds types no enumerator
 * lists); IAM runs for every job too, for the account alias.
 */
const struct services_row services_table[] = {
	{ "tagging", NULL, SERVICES_REGIONAL, svc_tagging_start, 0 },
	{ "ec2", ec2_types, SERVICES_REGIONAL, svc_ec2_start, 0 },
	{ "rds", rds_types, SERVICES_REGIONAL, svc_rds_start, 0 },
	{ "lambda", lambda_types, SERVICES_REGIONAL, svc_lambda_start, 0 },
	{ "ecs", ecs_types, SERVICES_REGIONAL, svc_ecs_start, 1 },
	{ "s3", s3_types, SERVICES_ACCOUNT, svc_s3_start, 0 },
	{ "iam", NULL, SERVICES_ACCOUNT, svc_iam_start, 0 },
	{ NULL, NULL, 0, NULL, 0 }
};

/*
 * Gone states: EC2 lists terminated instances for about an hour and
 * deleted volumes briefly; DescribeClusters shows deleted clusters as
 * INACTIVE. shutting-down instances are kept: AWS still bills them.
 * listing_tags: the service's own listing carries the tags (EC2's Tags,
 * RDS's TagList, ECS's include=TAGS), so GetResources is not asked for
 * the type: it could only repeat them.
 */
static const struct {
	const char	*type;
	const char	*tagging_filter;
	const char	*gone_state;	/* NULL: none */
	int		 listing_tags;
} type_rows[] = {
	{ "ec2:instance", "ec2:instance", "terminated", 1 },
	{ "ec2:volume", "ec2:volume", "deleted", 1 },
	/* Bucket ARNs carry no resource type: filter on the service. */
	{ "s3:bucket", "s3", NULL, 0 },
	{ "rds:db", "rds:db", NULL, 1 },
	{ "lambda:function", "lambda:function", NULL, 0 },
	{ "ecs:cluster", "ecs:cluster", "INACTIVE", 1 },
};

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))

int
services_wanted(const struct services_row *row, struct collect *c)
{
	size_t i;

	if (row->types == NULL)
		return 1;
	for (i = 0; row->types[i] != NULL; i++)
		if (collect_wants_type(c, row->types[i]))
			return 1;
	return 0;
}

int
services_enumerated(const char *type)
{
	const struct services_row *row;
	size_t i;

	for (row = services_table; row->name != NULL; row++)
		for (i = 0; row->types != NULL && row->types[i] != NULL; i++)
			if (strcmp(row->types[i], type) == 0)
				return 1;
	return 0;
}

const char *
services_tagging_filter(const char *type)
{
	size_t i;

	for (i = 0; i < NROWS(type_rows); i++)
		if (strcmp(type_rows[i].type, type) == 0)
			return type_rows[i].listing_tags ? NULL :
			    type_rows[i].tagging_filter;
	return type;
}

int
services_gone_state(const char *type, const char *state)
{
	size_t i;

	for (i = 0; state != NULL && i < NROWS(type_rows); i++)
		if (strcmp(type_rows[i].type, type) == 0)
			return type_rows[i].gone_state != NULL &&
			    strcmp(type_rows[i].gone_state, state) == 0;
	return 0;
}

/*
 * arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, where RESOURCE is
 * "type/id", "type:id" or, for S3 buckets, just the name.
 */
int
services_arn_type(const char *arn, char *type, size_t typesz,
    const char **id)
{
	const char *field[6], *p = arn, *res;
	size_t i, n, svclen;

	for (i = 0; i < 6; i++) {
		field[i] = p;
		if (i < 5 && (p = strchr(p, ':')) == NULL)
			return -1;
		p++;
	}
	if (strncmp(arn, "arn:", 4) != 0 || (svclen = (size_t)(field[3] -
	    field[2] - 1)) == 0)
		return -1;
	res = field[5];
	n = strcspn(res, "/:");
	if (svclen == 2 && strncmp(field[2], "s3", 2) == 0 && res[n] == '\0' &&
	    field[4] == field[3] + 1 && field[5] == field[4] + 1) {
		snprintf(type, typesz, "s3:bucket");
		*id = res;
		return *res != '\0' ? 0 : -1;
	}
	if (n == 0 || res[n] == '\0' || res[n + 1] == '\0')
		return -1;
	if ((size_t)snprintf(type, typesz, "%.*s:%.*s", (int)svclen, field[2],
	    (int)n, res) >= typesz)
		return -1;
	*id = res + n + 1;
	return 0;
}
