/*
 * services: the facts the merge takes from the service table. ARN shapes
 * are AWS's documented ones (the "Amazon Resource Names" page of the
 * General Reference and each service's ARN format): EC2
 * "arn:aws:ec2:REGION:ACCOUNT:instance/ID", RDS "...:db:NAME", Lambda
 * "...:function:NAME", ECS "...:cluster/NAME", S3 "arn:aws:s3:::BUCKET"
 * (no region, no account); DynamoDB "...:table/NAME" stands for a type no
 * collector lists. Expected types and ids are read off the ARNs by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "services.h"

/* services.c's rows point at the collectors; none runs here. */
#define UNUSED_START(name)						\
int name(struct collect *c, struct collect_region *r, struct errbuf *e)	\
{									\
	(void)c; (void)r; (void)e;					\
	fail();								\
	return -1;							\
}
UNUSED_START(svc_tagging_start)
UNUSED_START(svc_ec2_start)
UNUSED_START(svc_s3_start)
UNUSED_START(svc_rds_start)
UNUSED_START(svc_lambda_start)
UNUSED_START(svc_ecs_start)
UNUSED_START(svc_iam_start)

int
collect_wants_type(const struct collect *c, const char *type)
{
	(void)c;
	return strcmp(type, "rds:db") == 0;
}

static void
arn_is(const char *arn, const char *type, const char *id)
{
	const char *got_id = NULL;
	char got[128];

	assert_int_equal(services_arn_type(arn, got, sizeof(got), &got_id), 0);
	assert_string_equal(got, type);
	assert_string_equal(got_id, id);
}

static void
test_services_arn_type(void **state)
{
	(void)state;
	arn_is("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
	    "ec2:instance", "i-0abc");
	arn_is("arn:aws:ec2:eu-west-1:123456789012:volume/vol-1",
	    "ec2:volume", "vol-1");
	arn_is("arn:aws:s3:::my.bucket-1", "s3:bucket", "my.bucket-1");
	arn_is("arn:aws:rds:us-east-1:123456789012:db:orders-db", "rds:db",
	    "orders-db");
	arn_is("arn:aws:lambda:us-east-1:123456789012:function:resize",
	    "lambda:function", "resize");
	arn_is("arn:aws:ecs:us-east-1:123456789012:cluster/web", "ecs:cluster",
	    "web");
	arn_is("arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
	    "dynamodb:table", "t/stream/x");
}

static void
test_services_arn_type_rejects(void **state)
{
	const char *bad[] = {
		"", "arn:aws", "arn:aws:ec2:us-east-1:1", "nope:aws:ec2:r:a:x/y",
		"arn:aws::us-east-1:1:instance/i-1",	/* no service */
		"arn:aws:sns:us-east-1:1:topic",	/* no type */
		"arn:aws:ec2:r:1:instance/",		/* no id */
		"arn:aws:s3:::",			/* no bucket */
		"arn:aws:s3:us-east-1:1:accesspoint",	/* not a bucket */
	};
	const char *id;
	char type[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(services_arn_type(bad[i], type, sizeof(type),
		    &id), -1);
	/* A type that does not fit the buffer is refused, not cut. */
	assert_int_equal(services_arn_type("arn:aws:ec2:r:1:instance/i-1",
	    type, 8, &id), -1);
}

static void
test_services_facts(void **state)
{
	(void)state;
	assert_string_equal(services_tagging_filter("s3:bucket"), "s3");
	assert_string_equal(services_tagging_filter("lambda:function"),
	    "lambda:function");
	/* Their listings carry the tags: no Tagging API filter. */
	assert_null(services_tagging_filter("ec2:instance"));
	assert_null(services_tagging_filter("ec2:volume"));
	assert_null(services_tagging_filter("rds:db"));
	assert_null(services_tagging_filter("ecs:cluster"));
	assert_string_equal(services_tagging_filter("dynamodb:table"),
	    "dynamodb:table");
	assert_true(services_gone_state("ec2:instance", "terminated"));
	assert_false(services_gone_state("ec2:instance", "shutting-down"));
	assert_false(services_gone_state("ec2:instance", "stopped"));
	assert_true(services_gone_state("ec2:volume", "deleted"));
	assert_true(services_gone_state("ecs:cluster", "INACTIVE"));
	assert_false(services_gone_state("ecs:cluster", "ACTIVE"));
	assert_false(services_gone_state("s3:bucket", NULL));
	assert_true(services_enumerated("lambda:function"));
	assert_false(services_enumerated("dynamodb:table"));
}

/* A row runs when the job wants one of its types, or when it has none. */
static void
test_services_wanted(void **state)
{
	const struct services_row *row;
	int n = 0;

	(void)state;
	for (row = services_table; row->name != NULL; row++) {
		if (strcmp(row->name, "rds") == 0 ||
		    strcmp(row->name, "tagging") == 0 ||
		    strcmp(row->name, "iam") == 0) {
			assert_true(services_wanted(row, NULL));
			n++;
		} else
			assert_false(services_wanted(row, NULL));
	}
	assert_int_equal(n, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_services_arn_type),
		cmocka_unit_test(test_services_arn_type_rejects),
		cmocka_unit_test(test_services_facts),
		cmocka_unit_test(test_services_wanted),
	};

	return cmocka_run_group_tests_name("services", tests, NULL, NULL);
}
